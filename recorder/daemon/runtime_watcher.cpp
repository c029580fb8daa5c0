#include "recorder/daemon/runtime_watcher.h"

#include "recorder/daemon/inotify_events.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace traceloop::daemon {

namespace fs = std::filesystem;

Result<RuntimeWatcher> RuntimeWatcher::create(std::vector<RuntimeRoot> roots) {
  RuntimeWatcher w;
  w.roots_ = std::move(roots);
  w.attached_.assign(w.roots_.size(), false);
  w.inotify_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!w.inotify_) return Error{std::string("inotify: ") + std::strerror(errno)};
  w.attach_roots(nullptr);
  return w;
}

void RuntimeWatcher::attach_roots(std::vector<RuntimeChange>* out) {
  for (size_t i = 0; i < roots_.size(); ++i) {
    if (attached_[i]) continue;
    const fs::path& dir = roots_[i].dir;
    int wd = ::inotify_add_watch(inotify_.get(), dir.c_str(),
                                 IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_ONLYDIR | IN_DONT_FOLLOW);
    if (wd >= 0) {
      attached_[i] = true;
      watches_[wd] = Watch{WatchKind::root, i, {}};
      std::error_code ec;
      for (const auto& entry : fs::directory_iterator(dir, ec))
        if (auto id = sanitize_container_id(entry.path().filename().string()); id && entry.is_directory(ec))
          watch_container(i, *id, out);
      continue;
    }
    // Not there yet: wait for it on the nearest existing ancestor.
    for (fs::path p = dir.parent_path(); !p.empty(); p = p.parent_path()) {
      int awd = ::inotify_add_watch(inotify_.get(), p.c_str(), IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
      if (awd >= 0) {
        watches_.try_emplace(awd, Watch{WatchKind::ancestor, i, {}});
        break;
      }
      if (p == p.root_path()) break;
    }
  }
}

void RuntimeWatcher::watch_container(size_t root, const std::string& id, std::vector<RuntimeChange>* out) {
  fs::path dir = roots_[root].dir / id;
  int wd = ::inotify_add_watch(inotify_.get(), dir.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR | IN_DONT_FOLLOW);
  if (wd < 0) return;
  watches_[wd] = Watch{WatchKind::container, root, id};
  // state.json may have been renamed into place before the watch existed.
  struct stat st {};
  if (out && ::lstat((dir / "state.json").c_str(), &st) == 0) out->push_back({root, id, false});
}

std::vector<RuntimeChange> RuntimeWatcher::read_changes() {
  std::vector<RuntimeChange> out;
  bool retry_roots = false;
  drain_inotify(inotify_.get(), [&](const inotify_event& ev) {
    auto it = watches_.find(ev.wd);
    if (it == watches_.end()) return;
    Watch w = it->second;
    if (ev.mask & IN_IGNORED) {
      watches_.erase(it);
      if (w.kind == WatchKind::root) {
        attached_[w.root] = false;  // the root went away: wait for it again
        retry_roots = true;
      }
      return;
    }
    std::string name = ev.len ? std::string(ev.name) : std::string();
    switch (w.kind) {
      case WatchKind::ancestor: retry_roots = true; break;
      case WatchKind::root: {
        auto id = sanitize_container_id(name);
        if (!id) break;  // an id that could not safely name a file is ignored
        if (ev.mask & IN_DELETE) out.push_back({w.root, *id, true});
        else if (ev.mask & IN_ISDIR) watch_container(w.root, *id, &out);
        break;
      }
      case WatchKind::container:
        if (name == "state.json") out.push_back({w.root, w.id, false});
        break;
    }
  });
  if (retry_roots) attach_roots(&out);
  return out;
}

}  // namespace traceloop::daemon
