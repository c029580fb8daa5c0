// open, openat, mq_open: strace shows the mode only when the flags create a
// file (O_CREAT, O_TMPFILE); the mode follows the flags.

#include "tools/lib/decoder/syscalls/hooks.h"

namespace traceloop::tools::syscalls {
namespace {

size_t strace_args(const HookCall& call, std::array<ShownArg, 6>& shown) {
  size_t n = 0;
  const auto& params = call.plan.params;
  for (size_t i = 0; i < params.size() && i < shown.size(); ++i) {
    if (params[i].kind == format::ArgKind::mode && i > 0 &&
        (call.event.args[i - 1] & (uapi::kOCreat | uapi::kOTmpfileBit)) == 0)
      continue;
    shown[n++] = {static_cast<uint8_t>(i), {}};
  }
  return n;
}

}  // namespace

const SyscallHooks kOpen = {{}, nullptr, strace_args, nullptr};

}  // namespace traceloop::tools::syscalls
