#pragma once
// The file descriptors a process held when its recording began (read from
// /proc/PID/fd by the recorder): what the fds that no recorded call created
// refer to. Values come from the traced processes (file names) and are
// untrusted: see sanitise_fd_snapshots().

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace traceloop::format {

struct OpenFd {
  int32_t fd = 0;
  // What /proc/PID/fd/N links to: "/etc/passwd", "socket:[123]", "pipe:[45]",
  // "anon_inode:[eventfd]", "/memfd:x (deleted)".
  std::string target;
  // strace -yy's form when it says more than `target` ("UNIX-STREAM:[123->124]",
  // "TCP:[127.0.0.1:80->127.0.0.1:4242]"); empty otherwise.
  std::string detail;
  bool cloexec = false;
  friend bool operator==(const OpenFd&, const OpenFd&) = default;
};

struct FdSnapshot {
  uint32_t pid = 0;     // thread group id, as the events name it
  uint64_t at_ns = 0;   // boot-time ns when it was read
  std::string cwd;      // the working directory (AT_FDCWD); empty: unknown
  std::vector<OpenFd> fds;
  bool complete = true;  // false: some fds were left out (limits, unreadable, refused)
  friend bool operator==(const FdSnapshot&, const FdSnapshot&) = default;
};

// Bounds on what a snapshot may hold, for the recorder that writes it and
// the reader that refuses more.
inline constexpr size_t kMaxSnapshotProcesses = 4096;
inline constexpr size_t kMaxSnapshotFdsPerProcess = 4096;
inline constexpr size_t kMaxSnapshotFdsTotal = 65536;
inline constexpr size_t kMaxSnapshotTextBytes = 4096;

// Drops what cannot be true of an fd (negative numbers, duplicates, empty or
// oversized targets, text holding a NUL byte, processes or fds beyond the
// bounds), marking the processes concerned incomplete. What is kept is then
// safe to show once escaped.
void sanitise_fd_snapshots(std::vector<FdSnapshot>& snapshots);

// The heap the snapshots hold, as allocated (capacities, not lengths): what
// a daemon keeps per container until the container's history is written.
size_t memory_bytes(const std::vector<FdSnapshot>& snapshots);

}  // namespace traceloop::format
