// rt_sigreturn: strace shows the signal mask the call restores as
// {mask=[...]}; the recorder captured it as the call's one (pseudo-)argument.

#include "tools/lib/decoder/syscalls/hooks.h"

namespace traceloop::tools::syscalls {
namespace {

bool describe_arg(const HookCall& call, size_t index) {
  if (index != 0 || call.event.capture_for(0) == nullptr) return false;
  call.sink.begin_struct();
  call.sink.field("mask");
  call.generic.describe(call.sink, call.event, call.plan, 0);
  call.sink.end_struct(false);
  return true;
}

}  // namespace

const SyscallHooks kRtSigreturn = {{}, describe_arg, nullptr, nullptr};

}  // namespace traceloop::tools::syscalls
