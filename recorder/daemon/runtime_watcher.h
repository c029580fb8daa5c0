#pragma once
// Notices containers appear in the OCI runtimes' state directories (inotify
// on each root and on each container's directory for its state.json). Roots
// that do not exist yet (/run/runc before the first container) are waited
// for by watching their nearest existing ancestor. A namespace directory
// (/run/containerd/runc, /run/docker/runtime-runc) is watched for the
// namespaces made in it at any time: each becomes a new root, appended to
// roots(), its containers reported like any other.
//
// Nothing that keeps a container from being seen passes in silence: a root
// or container directory that cannot be watched or listed (permissions, the
// inotify watch limit, a file where a directory belongs) is reported once as
// a change with `problem` set and stays in problems() until it is resolved;
// an overflowed inotify queue makes the watcher list every root again.
//
// Use: poll fd(); on readiness, read_changes() and for each change
//   - problem non-empty: log it (roots()[root].dir, id); nothing to read;
//   - new_root: log that roots()[root] (a namespace) is watched from now;
//   - removed: the container's state directory is gone;
//   - otherwise: read_runtime_container(roots()[root], id).
// Indices into roots() stay valid for the watcher's life: roots are only
// ever appended, never removed or reordered (a namespace deleted and made
// again keeps its index).

#include <sys/inotify.h>

#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "format/result.h"
#include "format/unique_fd.h"
#include "recorder/daemon/container_metadata.h"

namespace traceloop::daemon {

struct RuntimeChange {
  size_t root = 0;        // index into roots()
  std::string id{};       // sanitised container id; empty when the change is about the root itself
  bool removed = false;   // the container's state directory went away
  bool new_root = false;  // roots()[root] was found after create(): a namespace made later
  std::string problem{};  // non-empty: roots()[root] (or its container `id`) cannot be watched or read
};

class RuntimeWatcher {
 public:
  // Roots with `namespaces` set are watched for namespaces; the namespaces
  // they hold already are appended to roots() at once. Nothing found here is
  // reported as a change (the caller scans what exists when it starts, e.g.
  // scan_runtime_roots(roots(), proc, &problems)); problems met here are in
  // problems().
  static Result<RuntimeWatcher> create(std::vector<RuntimeRoot> roots);
  RuntimeWatcher(RuntimeWatcher&&) noexcept = default;

  int fd() const { return inotify_.get(); }
  std::vector<RuntimeChange> read_changes();
  const std::vector<RuntimeRoot>& roots() const { return roots_; }
  // Everything that currently cannot be watched or listed.
  std::vector<RuntimeProblem> problems() const;
  size_t watch_count() const { return watches_.size(); }

 private:
  RuntimeWatcher() = default;
  void attach_roots(std::vector<RuntimeChange>* out);
  void attach_root(size_t root, std::vector<RuntimeChange>* out);
  void list_root(size_t root, std::vector<RuntimeChange>* out);
  void add_namespace(size_t parent, const std::string& ns, std::vector<RuntimeChange>* out);
  void watch_container(size_t root, const std::string& id, std::vector<RuntimeChange>* out);
  void rescan(std::vector<RuntimeChange>* out);
  void set_problem(size_t root, const std::string& id, std::string message, std::vector<RuntimeChange>* out);
  void clear_problem(size_t root, const std::string& id) { problems_.erase({root, id}); }

  enum class WatchKind { ancestor, root, namespaces, container };
  struct Watch {
    WatchKind kind;
    size_t root;
    std::string id;
  };
  std::vector<RuntimeRoot> roots_;
  std::vector<bool> attached_;
  UniqueFd inotify_;
  std::unordered_map<int, Watch> watches_;
  std::map<std::pair<size_t, std::string>, std::string> problems_;  // (root, id) -> message
};

}  // namespace traceloop::daemon
