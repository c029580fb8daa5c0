// fcntl: its third argument and its return value mean what the command says.

#include "tools/lib/decoder/syscalls/hooks.h"

namespace traceloop::tools::syscalls {
namespace {

enum SetIndex : size_t { kFdFlags, kOpenFlags };

uint32_t command(const format::Event& e) { return static_cast<uint32_t>(e.args[1]); }

bool describe_arg(const HookCall& call, size_t index) {
  if (index != 2) return false;
  const uint64_t v = call.event.args[2];
  switch (command(call.event)) {
    case uapi::kFSetfd:
      describe_flags_or_hex(call.sink, call.plan.hook_sets[kFdFlags], v);
      return true;
    case uapi::kFSetfl:
      describe_flags_or_hex(call.sink, call.plan.hook_sets[kOpenFlags], static_cast<uint32_t>(v));
      return true;
    case uapi::kFDupfd:
    case uapi::kFDupfdCloexec:
      call.sink.signed_integer(static_cast<int32_t>(v), Meaning::fd);
      return true;
    case uapi::kFSetown:
      call.sink.signed_integer(static_cast<int32_t>(v), Meaning::pid);
      return true;
    case uapi::kFSetsig:
      call.sink.signal(static_cast<int32_t>(v));
      return true;
    case uapi::kFSetpipeSz:
      call.sink.signed_integer(static_cast<int32_t>(v), Meaning::none);
      return true;
    default:
      return false;
  }
}

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

const SyscallHooks kFcntl = {{"fd_flags", "open_flags"}, describe_arg, strace_args, describe_return};

}  // namespace traceloop::tools::syscalls
