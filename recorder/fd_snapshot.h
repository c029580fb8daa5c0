#pragma once
// The fds processes hold when their recording begins, read from /proc: what
// the fds no recorded call created refer to (tl-show -y, -yy). Taken once
// the recording of those processes has started, so that an fd opened or
// closed meanwhile is both in the snapshot and in the events, and the
// events, replayed on the snapshot, end right.

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "format/fd_snapshot.h"

namespace traceloop::recorder {

// The fds and working directory of each of `pids` (thread group ids) under
// `proc` ("/proc", or a test's copy), with strace -yy's details of their
// sockets from the /proc/PID/net tables of each network namespace. Processes
// that are gone or unreadable are left out; the values are sanitised (see
// format::sanitise_fd_snapshots) and bounded. `at_ns`: boot-time ns to note.
std::vector<format::FdSnapshot> read_fd_snapshots(std::span<const uint32_t> pids, uint64_t at_ns,
                                                  const std::filesystem::path& proc = "/proc");

// The thread group ids in a cgroup (its cgroup.procs), at most `limit`.
std::vector<uint32_t> cgroup_pids(const std::filesystem::path& cgroup_dir,
                                  size_t limit = format::kMaxSnapshotProcesses);

}  // namespace traceloop::recorder
