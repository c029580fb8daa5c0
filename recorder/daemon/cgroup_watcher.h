#pragma once
// Notices cgroups appear, empty and disappear under the cgroup v2 mount,
// from the kernel's notifications (inotify: one watch per cgroup directory,
// which also reports the kernel's changes to cgroup.events), never by
// polling. A new cgroup is reported when its directory is made, before the
// runtime moves the container's first process into it, so the daemon can
// trace it from its first syscall.

#include <sys/inotify.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "format/result.h"
#include "format/unique_fd.h"

namespace traceloop::daemon {

struct CgroupChange {
  enum class Kind { created, emptied, removed };
  Kind kind = Kind::created;
  std::string path;  // relative to the mount, "/a/b" (as in /proc/PID/cgroup)
  uint64_t id = 0;   // v2 cgroup id (the directory's inode)
};

class CgroupWatcher {
 public:
  // Watches every directory of the hierarchy (up to max_watches).
  static Result<CgroupWatcher> create(const std::filesystem::path& mount, size_t max_watches = 65536);
  CgroupWatcher(CgroupWatcher&&) noexcept = default;

  int fd() const { return inotify_.get(); }
  // Changes since the last call (non-blocking).
  std::vector<CgroupChange> read_changes();
  // The cgroups that exist now (start-up).
  std::vector<CgroupChange> existing() const;

  const std::filesystem::path& mount() const { return mount_; }
  size_t watch_count() const { return by_wd_.size(); }
  // Whether the cgroup still has processes (cgroup.events "populated 1").
  bool populated(const std::string& path) const;

 private:
  CgroupWatcher() = default;
  void add_tree(const std::string& rel, std::vector<CgroupChange>* created);
  std::filesystem::path absolute(const std::string& rel) const;

  std::filesystem::path mount_;
  size_t max_watches_ = 0;
  UniqueFd inotify_;
  struct Dir {
    std::string path;
    uint64_t id;
  };
  std::unordered_map<int, Dir> by_wd_;
  std::unordered_map<std::string, int> wd_by_path_;
};

// The v2 cgroup id of a directory (its inode); 0 when it cannot be read.
uint64_t cgroup_dir_id(const std::filesystem::path& dir);

}  // namespace traceloop::daemon
