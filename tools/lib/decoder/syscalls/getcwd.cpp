// getcwd: the buffer holds a NUL-terminated path, shown whole like a path.

#include "tools/lib/decoder/syscalls/hooks.h"

namespace traceloop::tools::syscalls {
namespace {

bool describe_arg(const HookCall& call, size_t index) {
  if (index != 0) return false;
  const auto* capture = shown_output(call.event, index);
  if (capture == nullptr) return false;
  call.sink.string({capture->bytes.substr(0, capture->bytes.find('\0')), 0, capture->truncated()});
  return true;
}

}  // namespace

const SyscallHooks kGetcwd = {{}, describe_arg, nullptr, nullptr};

}  // namespace traceloop::tools::syscalls
