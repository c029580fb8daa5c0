// fcntl: strace leaves out the third argument of the commands that read, and
// explains the flags F_GETFD and F_GETFL return. (What the third argument is
// for each command is declared in the annotations.)

#include "tools/lib/decoder/syscalls/hooks.h"

namespace traceloop::tools::syscalls {
namespace {

enum SetIndex : size_t { kFdFlags, kOpenFlags };

uint32_t command(const format::Event& e) { return static_cast<uint32_t>(e.args[1]); }

// The commands that read something take no third argument.
size_t strace_args(const HookCall& call, std::array<ShownArg, 6>& shown) {
  shown[0] = {0, {}};
  shown[1] = {1, {}};
  switch (command(call.event)) {
    case uapi::kFGetfd: case uapi::kFGetfl: case uapi::kFGetown: case uapi::kFGetsig:
    case uapi::kFGetlease: case uapi::kFGetpipeSz: case uapi::kFGetSeals:
      return 2;
    default:
      shown[2] = {2, {}};
      return 3;
  }
}

// F_GETFD and F_GETFL return flags, which strace explains.
bool describe_return(const HookCall& call) {
  const auto cmd = command(call.event);
  if (cmd != uapi::kFGetfd && cmd != uapi::kFGetfl) return false;
  const FlagSet* set = call.plan.hook_sets[cmd == uapi::kFGetfd ? kFdFlags : kOpenFlags];
  if (set == nullptr) return false;
  call.sink.flags(*set, static_cast<uint64_t>(call.event.ret));
  return true;
}

}  // namespace

const SyscallHooks kFcntl = {{"fd_flags", "open_flags"}, nullptr, strace_args, describe_return};

}  // namespace traceloop::tools::syscalls
