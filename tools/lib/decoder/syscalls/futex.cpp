// futex: strace shows only the arguments the operation uses.

#include "tools/lib/decoder/syscalls/hooks.h"

namespace traceloop::tools::syscalls {
namespace {

size_t strace_args(const HookCall& call, std::array<ShownArg, 6>& shown) {
  size_t count = call.plan.params.size();
  switch (static_cast<uint32_t>(call.event.args[1]) & static_cast<uint32_t>(uapi::kFutexCmdMask)) {
    case uapi::kFutexWake: count = std::min<size_t>(count, 3); break;
    case uapi::kFutexWait: count = std::min<size_t>(count, 4); break;
    default: break;
  }
  count = std::min(count, shown.size());
  for (size_t i = 0; i < count; ++i) shown[i] = {static_cast<uint8_t>(i), {}};
  return count;
}

}  // namespace

const SyscallHooks kFutex = {{}, nullptr, strace_args, nullptr};

}  // namespace traceloop::tools::syscalls
