// getrandom: random bytes, which strace writes as \xNN escapes.

#include "tools/lib/decoder/syscalls/hooks.h"

namespace traceloop::tools::syscalls {
namespace {

bool describe_arg(const HookCall& call, size_t index) {
  if (index != 0) return false;
  const auto* capture = shown_output(call.event, index);
  if (capture == nullptr) return false;
  call.sink.string({capture->bytes, call.generic.context().string_limit, capture->truncated(), StringForm::binary});
  return true;
}

}  // namespace

const SyscallHooks kGetrandom = {{}, describe_arg, nullptr, nullptr};

}  // namespace traceloop::tools::syscalls
