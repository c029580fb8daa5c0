#pragma once
// Builds the trace's process table from the events themselves: who forked
// whom (fork-like calls' return values), comm, exec'd argv, exit status (a
// process's exit_group, or the status its parent's wait4 reaped).

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
  ProcessTracker(const ProcessTracker&) = delete;  // last_ points into its own table
  ProcessTracker& operator=(const ProcessTracker&) = delete;
  void observe(const format::Event& event);
  // The kernel's word on a process's end (its last thread's exit status)
  // outranks what the calls suggested.
  void observe(const format::TaskNotice& notice);
  // The root process's parent and its wait status are known from outside.
  void set_root(uint32_t pid, uint32_t ppid);
  void set_exit_status(uint32_t pid, int32_t status, uint64_t exit_ns);
  std::vector<format::ProcessInfo> table() const;
  size_t size() const { return processes_.size(); }
  // What the table holds in memory (its nodes, names and argv), about;
  // walks the table.
  size_t memory_bytes() const;
  uint64_t observed() const { return observed_; }  // events so far

  // For a history that no longer holds the first `events` observed (the
  // daemon's, once it overwrote them): forgets the processes that exited and
  // have no later event, and the forks made in those events of ids that made
  // no call (threads: clone returns their ids too). Without this, a container
  // that runs processes in a loop would grow its table without bound.
  void forget_before(uint64_t events);

 private:
  format::ProcessInfo& entry(uint32_t pid, uint64_t ns);
  struct Process {
    format::ProcessInfo info;
    uint64_t last_event = 0;  // index of its latest event among those observed
  };
  struct Fork {
    uint32_t parent = 0;
    uint64_t event = UINT64_MAX;  // index of the fork among the events observed (none: the root's)
  };
  std::map<uint32_t, Process> processes_;
  // processes_'s entry of the latest event (nodes stay put until erased):
  // a container's events come in runs of one process.
  Process* last_ = nullptr;
  std::map<uint32_t, Fork> forked_by_;  // child id (fork-like return value) -> who forked it, in which event
  uint64_t observed_ = 0;
  int64_t execve_ = -1, execveat_ = -1, exit_group_ = -1, wait4_ = -1;
  std::vector<uint32_t> fork_like_;
};

}  // namespace traceloop::recorder
