#pragma once
// What `run -p` learns from /proc about a process it attaches to, before
// tracing it: its process (a thread id names its thread group), parent, name
// and command line. The values come from another user's process: bounded
// and read as data only.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "format/result.h"

namespace traceloop::recorder {

struct AttachedProcess {
  uint32_t tgid = 0;
  uint32_t ppid = 0;
  std::string comm;
  std::vector<std::string> argv;  // empty for a kernel thread or a zombie
  uint64_t mount_ns_id = 0;
};

// The processes of `ids` (process or thread ids), each once, in the order
// given. Fails naming the first id that is no running process, or one that
// is the recorder itself (`self`). `proc` is the procfs mount.
Result<std::vector<AttachedProcess>> find_attached_processes(const std::vector<int>& ids, pid_t self,
                                                             const std::filesystem::path& proc = "/proc");

// A thread blocked in a system call, as /proc/PID/task/TID/syscall shows it.
struct BlockedCall {
  uint32_t tid = 0;
  uint32_t nr = 0;
  uint64_t args[6] = {};
  std::string comm;
};

// The threads of process `tgid` that are inside a system call now (not
// running user code, not stopped elsewhere in the kernel).
std::vector<BlockedCall> blocked_calls(uint32_t tgid, const std::filesystem::path& proc = "/proc");

// The threads of process `tgid` now (0 when it is gone).
size_t thread_count(uint32_t tgid, const std::filesystem::path& proc = "/proc");

// argv joined by spaces, as one line of text (the trace header's command).
std::string command_line(const std::vector<std::string>& argv);

}  // namespace traceloop::recorder
