// socket's protocol is named by its domain; setsockopt's and getsockopt's
// option names are per level (SOL_SOCKET's are those every program uses).

#include "tools/lib/decoder/syscalls/hooks.h"

namespace traceloop::tools::syscalls {
namespace {

enum SetIndex : size_t { kIpProtocol, kNetlinkProtocol };

bool describe_protocol(const HookCall& call, size_t index) {
  if (index != 2) return false;
  const auto domain = static_cast<uint32_t>(call.event.args[0]);
  const auto protocol = static_cast<uint32_t>(call.event.args[2]);
  const FlagSet* set = nullptr;
  if (domain == uapi::kAfInet || domain == uapi::kAfInet6) set = call.plan.hook_sets[kIpProtocol];
  if (domain == uapi::kAfNetlink) set = call.plan.hook_sets[kNetlinkProtocol];
  if (set)
    call.sink.flags(*set, protocol);
  else
    call.sink.signed_integer(static_cast<int32_t>(protocol), Meaning::none);
  return true;
}

bool describe_option_name(const HookCall& call, size_t index) {
  if (index != 2) return false;
  const auto name = static_cast<uint32_t>(call.event.args[2]);
  const FlagSet* set = call.plan.hook_sets[0];
  if (static_cast<uint32_t>(call.event.args[1]) == uapi::kSolSocket && set)
    call.sink.flags(*set, name);
  else
    call.sink.signed_integer(static_cast<int32_t>(name), Meaning::none);
  return true;
}

}  // namespace

const SyscallHooks kSocket = {{"ip_protocol", "netlink_protocol"}, describe_protocol, nullptr, nullptr};
const SyscallHooks kSocketOption = {{"socket_option"}, describe_option_name, nullptr, nullptr};

}  // namespace traceloop::tools::syscalls
