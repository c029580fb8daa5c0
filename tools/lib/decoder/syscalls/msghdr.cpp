// recvmsg: the message header as the call filled it in, whose iovecs hold
// what the call returned it moved, not their whole lengths (sendmsg's sends
// them whole: the structure's own decoder).

#include "tools/lib/decoder/syscalls/hooks.h"

namespace traceloop::tools::syscalls {
namespace {

bool describe_arg(const HookCall& call, size_t index) {
  if (index != 1) return false;
  const auto* capture = shown_output(call.event, index);
  if (capture == nullptr) return false;
  return describe_msghdr(call.sink, capture->bytes, call.event.ret, call.generic.context());
}

}  // namespace

const SyscallHooks kRecvmsg = {{}, describe_arg, nullptr, nullptr};

}  // namespace traceloop::tools::syscalls
