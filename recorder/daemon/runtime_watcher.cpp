#include "recorder/daemon/runtime_watcher.h"

#include "recorder/daemon/inotify_events.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace traceloop::daemon {

namespace fs = std::filesystem;

namespace {

constexpr uint32_t kRootMask = IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR | IN_DONT_FOLLOW;
constexpr uint32_t kNamespacesMask = IN_CREATE | IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW;
// Added to whatever else watches the same directory, so that waiting for a
// root never narrows the watch of another.
constexpr uint32_t kAncestorMask = IN_CREATE | IN_MOVED_TO | IN_ONLYDIR | IN_MASK_ADD;
constexpr uint32_t kContainerMask = IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR | IN_DONT_FOLLOW;

std::string watch_error(const fs::path& dir, int err) {
  std::string text = "cannot watch " + dir.string() + ": " + std::strerror(err);
  if (err == ENOSPC) text += " (inotify watch limit: raise fs.inotify.max_user_watches)";
  return text;
}

bool lexists(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

}  // namespace

Result<RuntimeWatcher> RuntimeWatcher::create(std::vector<RuntimeRoot> roots) {
  RuntimeWatcher w;
  w.roots_ = std::move(roots);
  w.attached_.assign(w.roots_.size(), false);
  w.inotify_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!w.inotify_) return Error{std::string("inotify: ") + std::strerror(errno)};
  w.attach_roots(nullptr);
  return w;
}

std::vector<RuntimeProblem> RuntimeWatcher::problems() const {
  std::vector<RuntimeProblem> out;
  for (const auto& [key, message] : problems_) {
    const auto& [root, id] = key;
    out.push_back({id.empty() ? roots_[root].dir : roots_[root].dir / id, id, message});
  }
  return out;
}

void RuntimeWatcher::set_problem(size_t root, const std::string& id, std::string message,
                                 std::vector<RuntimeChange>* out) {
  auto [it, fresh] = problems_.try_emplace({root, id}, message);
  if (!fresh && it->second == message) return;  // already reported
  it->second = message;
  if (out) out->push_back({.root = root, .id = id, .problem = std::move(message)});
}

void RuntimeWatcher::attach_roots(std::vector<RuntimeChange>* out) {
  // attach_root may append namespaces: index, not iterate.
  for (size_t i = 0; i < roots_.size(); ++i)
    if (!attached_[i]) attach_root(i, out);
}

void RuntimeWatcher::attach_root(size_t i, std::vector<RuntimeChange>* out) {
  const fs::path dir = roots_[i].dir;
  const bool namespaces = roots_[i].namespaces;
  // Each pass either attaches, or watches the nearest existing ancestor; a
  // path component made between the two is seen by checking once more.
  for (int pass = 0; pass < 64; ++pass) {
    int wd = ::inotify_add_watch(inotify_.get(), dir.c_str(), namespaces ? kNamespacesMask : kRootMask);
    if (wd >= 0) {
      attached_[i] = true;
      watches_[wd] = Watch{namespaces ? WatchKind::namespaces : WatchKind::root, i, {}};
      clear_problem(i, {});
      list_root(i, out);
      return;
    }
    const bool missing = errno == ENOENT;
    // Anything else (a file in its place, permissions, the watch limit) is
    // a problem; the parent is still watched, to notice when it is fixed.
    if (!missing) set_problem(i, {}, watch_error(dir, errno), out);
    fs::path below = dir;
    fs::path p = dir.parent_path();
    for (; !p.empty(); below = p, p = p.parent_path()) {
      int awd = ::inotify_add_watch(inotify_.get(), p.c_str(), kAncestorMask);
      if (awd >= 0) {
        watches_.try_emplace(awd, Watch{WatchKind::ancestor, i, {}});
        break;
      }
      if (errno != ENOENT) {
        if (missing) set_problem(i, {}, watch_error(p, errno), out);
        return;
      }
      if (p == p.root_path()) return;
    }
    if (!missing || !lexists(below)) return;  // waiting for `below` to be made (or fixed)
  }
}

void RuntimeWatcher::list_root(size_t i, std::vector<RuntimeChange>* out) {
  std::error_code ec;
  fs::directory_iterator it(roots_[i].dir, ec);
  if (ec) {
    set_problem(i, {}, "cannot list " + roots_[i].dir.string() + ": " + ec.message(), out);
    return;
  }
  size_t seen = 0;
  for (const auto& entry : it) {
    if (++seen > kMaxEntriesPerRuntimeDir) {
      set_problem(i, {}, "more than " + std::to_string(kMaxEntriesPerRuntimeDir) + " entries in " + roots_[i].dir.string(),
                  out);
      break;
    }
    auto name = sanitize_container_id(entry.path().filename().string());
    if (!name || entry.symlink_status(ec).type() != fs::file_type::directory) continue;
    if (roots_[i].namespaces) add_namespace(i, *name, out);
    else watch_container(i, *name, out);
  }
}

void RuntimeWatcher::add_namespace(size_t parent, const std::string& ns, std::vector<RuntimeChange>* out) {
  RuntimeRoot root = namespace_root(roots_[parent], ns);
  for (size_t i = 0; i < roots_.size(); ++i)
    if (roots_[i].dir == root.dir && !roots_[i].namespaces) {
      if (!attached_[i]) attach_root(i, out);  // made again after it was deleted: same index
      return;
    }
  roots_.push_back(std::move(root));
  attached_.push_back(false);
  const size_t index = roots_.size() - 1;
  if (out) out->push_back({.root = index, .new_root = true});
  attach_root(index, out);
}

void RuntimeWatcher::watch_container(size_t root, const std::string& id, std::vector<RuntimeChange>* out) {
  fs::path dir = roots_[root].dir / id;
  int wd = ::inotify_add_watch(inotify_.get(), dir.c_str(), kContainerMask);
  if (wd < 0) {
    if (errno == ENOENT) return;  // gone already
    set_problem(root, id, watch_error(dir, errno), out);
  } else {
    watches_[wd] = Watch{WatchKind::container, root, id};
    clear_problem(root, id);
  }
  // state.json may have been renamed into place before the watch existed
  // (and without a watch, this is the one chance to read it).
  if (out && lexists(dir / "state.json")) out->push_back({.root = root, .id = id});
}

void RuntimeWatcher::rescan(std::vector<RuntimeChange>* out) {
  // Events were lost: containers gone meanwhile are reported removed, and
  // every root listed again (which reports each container with a state).
  std::vector<int> gone;
  for (const auto& [wd, w] : watches_)
    if (w.kind == WatchKind::container && !lexists(roots_[w.root].dir / w.id)) {
      out->push_back({.root = w.root, .id = w.id, .removed = true});
      gone.push_back(wd);
    }
  for (int wd : gone) {
    ::inotify_rm_watch(inotify_.get(), wd);
    watches_.erase(wd);
  }
  for (size_t i = 0; i < roots_.size(); ++i)
    if (attached_[i]) list_root(i, out);
  attach_roots(out);
}

std::vector<RuntimeChange> RuntimeWatcher::read_changes() {
  std::vector<RuntimeChange> out;
  bool retry_roots = false;
  bool overflowed = false;
  drain_inotify(inotify_.get(), [&](const inotify_event& ev) {
    if (ev.mask & IN_Q_OVERFLOW) {
      overflowed = true;
      return;
    }
    auto it = watches_.find(ev.wd);
    if (it == watches_.end()) return;
    Watch w = it->second;
    if (ev.mask & IN_IGNORED) {
      watches_.erase(it);
      if (w.kind == WatchKind::root || w.kind == WatchKind::namespaces) {
        attached_[w.root] = false;  // the root went away: wait for it again
        retry_roots = true;
      } else if (w.kind == WatchKind::container) {
        clear_problem(w.root, w.id);
      }
      return;
    }
    // Whatever directory was made, a root waited for may be in it.
    if (ev.mask & (IN_CREATE | IN_MOVED_TO))
      for (bool attached : attached_) retry_roots |= !attached;
    std::string name = ev.len ? std::string(ev.name) : std::string();
    switch (w.kind) {
      case WatchKind::ancestor: break;
      case WatchKind::root: {
        auto id = sanitize_container_id(name);
        if (!id || !(ev.mask & IN_ISDIR)) break;  // an id that could not safely name a file is ignored
        if (ev.mask & (IN_DELETE | IN_MOVED_FROM)) {
          clear_problem(w.root, *id);
          out.push_back({.root = w.root, .id = *id, .removed = true});
        } else {
          watch_container(w.root, *id, &out);
        }
        break;
      }
      case WatchKind::namespaces:
        if (auto ns = sanitize_container_id(name); ns && (ev.mask & IN_ISDIR)) add_namespace(w.root, *ns, &out);
        break;
      case WatchKind::container:
        if (name == "state.json") out.push_back({.root = w.root, .id = w.id});
        break;
    }
  });
  if (retry_roots) attach_roots(&out);
  if (overflowed) rescan(&out);
  return out;
}

}  // namespace traceloop::daemon
