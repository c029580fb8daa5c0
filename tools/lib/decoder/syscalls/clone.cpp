// clone: strace names its arguments and shows only those the flags use. The
// kernel's order of child_tid and tls differs between x86_64 and aarch64.

#include "tools/lib/decoder/syscalls/hooks.h"

namespace traceloop::tools::syscalls {
namespace {

size_t strace_args(const HookCall& call, std::array<ShownArg, 6>& shown) {
  // A catalogue is data from the file: its clone may declare fewer parameters.
  if (call.plan.params.size() < 5) {
    size_t n = 0;
    for (; n < call.plan.params.size() && n < shown.size(); ++n) shown[n] = {static_cast<uint8_t>(n), {}};
    return n;
  }
  const uint64_t flags = call.event.args[0];
  const bool arm = call.arch == format::Arch::aarch64;
  size_t n = 0;
  shown[n++] = {1, "child_stack"};
  shown[n++] = {0, "flags"};
  if (flags & uapi::kCloneParentSettid) shown[n++] = {2, "parent_tid"};
  if (flags & (uapi::kCloneChildSettid | uapi::kCloneChildCleartid))
    shown[n++] = {static_cast<uint8_t>(arm ? 4 : 3), "child_tidptr"};
  if (flags & uapi::kCloneSettls) shown[n++] = {static_cast<uint8_t>(arm ? 3 : 4), "tls"};
  return n;
}

// Every clone argument but the flags is an address.
bool describe_arg(const HookCall& call, size_t index) {
  if (index == 0 || call.plan.params.size() < 5) return false;
  call.sink.hex_integer(call.event.args[index], Meaning::address);
  return true;
}

}  // namespace

const SyscallHooks kClone = {{}, describe_arg, strace_args, nullptr};

}  // namespace traceloop::tools::syscalls
