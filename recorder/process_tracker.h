#pragma once
// Builds the trace's process table from the events themselves: who forked
// whom (fork-like calls' return values), comm, exec'd argv, exit status.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <vector>

#include "format/catalogue.h"
#include "format/event.h"

namespace traceloop::recorder {

class ProcessTracker {
 public:
  explicit ProcessTracker(const format::Catalogue& catalogue);
  void observe(const format::Event& event);
  // The root process's parent and its wait status are known from outside.
  void set_root(uint32_t pid, uint32_t ppid);
  void set_exit_status(uint32_t pid, int32_t status, uint64_t exit_ns);
  std::vector<format::ProcessInfo> table() const;

 private:
  format::ProcessInfo& entry(uint32_t pid, uint64_t ns);
  std::map<uint32_t, format::ProcessInfo> processes_;
  std::map<uint32_t, uint32_t> forked_by_;  // child id (fork-like return value) -> parent pid
  int64_t execve_ = -1, execveat_ = -1, exit_group_ = -1;
  std::vector<uint32_t> fork_like_;
};

}  // namespace traceloop::recorder
