#include "recorder/daemon/cgroup_watcher.h"

#include "recorder/daemon/inotify_events.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace traceloop::daemon {

namespace fs = std::filesystem;

namespace {
constexpr uint32_t kDirMask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_ONLYDIR | IN_DONT_FOLLOW;
}

uint64_t cgroup_dir_id(const fs::path& dir) {
  struct stat st {};
  return ::stat(dir.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

fs::path CgroupWatcher::absolute(const std::string& rel) const {
  return rel == "/" ? mount_ : mount_ / rel.substr(1);
}

Result<CgroupWatcher> CgroupWatcher::create(const fs::path& mount, size_t max_watches) {
  CgroupWatcher w;
  w.mount_ = mount;
  w.max_watches_ = max_watches;
  w.inotify_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!w.inotify_) return Error{std::string("inotify: ") + std::strerror(errno)};
  w.add_tree("/", nullptr);
  if (w.by_wd_.empty()) return Error{"cannot watch " + mount.string() + ": " + std::strerror(errno)};
  return w;
}

void CgroupWatcher::add_tree(const std::string& rel, std::vector<CgroupChange>* created) {
  if (by_wd_.size() >= max_watches_ || wd_by_path_.count(rel)) return;
  fs::path dir = absolute(rel);
  // Watch first, then list: a child made in between is seen either way.
  int wd = ::inotify_add_watch(inotify_.get(), dir.c_str(), kDirMask);
  if (wd < 0) return;
  uint64_t id = cgroup_dir_id(dir);
  by_wd_[wd] = Dir{rel, id};
  wd_by_path_[rel] = wd;
  if (created && rel != "/") created->push_back({CgroupChange::Kind::created, rel, id});
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_directory(ec) || entry.is_symlink(ec)) continue;
    std::string child = (rel == "/" ? "" : rel) + "/" + entry.path().filename().string();
    add_tree(child, created);
  }
}

std::vector<CgroupChange> CgroupWatcher::existing() const {
  std::vector<CgroupChange> out;
  for (const auto& [wd, dir] : by_wd_)
    if (dir.path != "/") out.push_back({CgroupChange::Kind::created, dir.path, dir.id});
  return out;
}

bool CgroupWatcher::populated(const std::string& path) const {
  std::ifstream in(absolute(path) / "cgroup.events");
  std::string key;
  int value = 0;
  while (in >> key >> value)
    if (key == "populated") return value != 0;
  return false;  // gone
}

std::vector<CgroupChange> CgroupWatcher::read_changes() {
  std::vector<CgroupChange> out;
  drain_inotify(inotify_.get(), [&](const inotify_event& ev) {
    auto it = by_wd_.find(ev.wd);
    if (it == by_wd_.end()) return;
    if (ev.mask & IN_IGNORED) {
      wd_by_path_.erase(it->second.path);
      by_wd_.erase(it);
      return;
    }
    if (ev.len == 0) return;
    std::string name(ev.name);
    const std::string parent = it->second.path;
    std::string child = (parent == "/" ? "" : parent) + "/" + name;
    if ((ev.mask & IN_CREATE) && (ev.mask & IN_ISDIR)) {
      add_tree(child, &out);
    } else if ((ev.mask & IN_DELETE) && (ev.mask & IN_ISDIR)) {
      uint64_t id = 0;
      if (auto w = wd_by_path_.find(child); w != wd_by_path_.end()) {
        id = by_wd_[w->second].id;
        by_wd_.erase(w->second);
        wd_by_path_.erase(w);
      }
      out.push_back({CgroupChange::Kind::removed, child, id});
    } else if ((ev.mask & IN_MODIFY) && name == "cgroup.events") {
      if (!populated(parent)) out.push_back({CgroupChange::Kind::emptied, parent, it->second.id});
    }
  });
  return out;
}

}  // namespace traceloop::daemon
