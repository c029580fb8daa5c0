// Which syscalls have hooks: strace's SYS_FUNC table, by name.

#include <utility>

#include "tools/lib/decoder/syscalls/hooks.h"

namespace traceloop::tools {

const SyscallHooks* find_syscall_hooks(std::string_view syscall_name) {
  using namespace syscalls;
  static constexpr std::pair<std::string_view, const SyscallHooks*> kRegistry[] = {
      {"clone", &kClone},
      {"fcntl", &kFcntl},
      {"futex", &kFutex},
      {"getcwd", &kGetcwd},
      {"getrandom", &kGetrandom},
      {"mq_open", &kOpen},
      {"open", &kOpen},
      {"openat", &kOpen},
      {"prctl", &kPrctl},
      {"recvmsg", &kRecvmsg},
      {"rt_sigreturn", &kRtSigreturn},
  };
  for (const auto& [name, hooks] : kRegistry)
    if (name == syscall_name) return hooks;
  return nullptr;
}

}  // namespace traceloop::tools
