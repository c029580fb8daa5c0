#pragma once
// cgroup v2 helpers: where the unified hierarchy is mounted, and a cgroup
// created for one traced command and removed again (RAII).

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "format/result.h"

namespace traceloop::recorder {

// Mount point of the cgroup2 filesystem, parsed from a mountinfo text.
std::optional<std::filesystem::path> find_cgroup2_mount(std::string_view mountinfo);
// ... of this process (/proc/self/mountinfo).
Result<std::filesystem::path> cgroup2_mount();

// The v2 cgroup id (kernfs inode number) of a cgroup directory; the value
// bpf_get_current_cgroup_id() returns for its members.
Result<uint64_t> cgroup_id_of(const std::filesystem::path& dir);

// The v2 cgroup path (relative to the mount, "/..." ) of a process.
Result<std::string> cgroup2_path_of(pid_t pid);

// Removes <mount>/<prefix><PID> directories whose PID no longer runs: the
// cgroups of recorders that were killed before they could remove their own.
// Only empty ones go (rmdir refuses the others).
void remove_abandoned_cgroups(const std::filesystem::path& mount, std::string_view prefix);

class ScopedCgroup {
 public:
  // Creates <mount>/<name>.
  static Result<ScopedCgroup> create(const std::filesystem::path& mount, const std::string& name);
  ScopedCgroup(ScopedCgroup&& other) noexcept;
  ScopedCgroup& operator=(ScopedCgroup&&) = delete;
  ScopedCgroup(const ScopedCgroup&) = delete;
  // Moves processes still inside (a background child of the command) back to
  // the cgroup this process started in, then removes the directory.
  ~ScopedCgroup();

  Result<void> add_process(pid_t pid) const;
  // fork(), with the child born inside this cgroup (clone3 with
  // CLONE_INTO_CGROUP): moving a running process costs the mover an RCU grace
  // period, several milliseconds. Returns what fork() returns; on -1 (a
  // kernel without it, or a cgroup it refuses) fork and add_process do.
  // The child must restrict itself to async-signal-safe calls, as after a
  // fork of a threaded process: no atfork handler has run.
  pid_t fork_into() const;
  const std::filesystem::path& dir() const { return dir_; }
  std::string relative_path() const;  // as in /proc/PID/cgroup: "/traceloop.run-123"
  uint64_t id() const { return id_; }

 private:
  ScopedCgroup(std::filesystem::path mount, std::filesystem::path dir, uint64_t id);
  std::filesystem::path mount_;
  std::filesystem::path dir_;
  uint64_t id_ = 0;
};

}  // namespace traceloop::recorder
