#pragma once
// Notices containers appear in the OCI runtimes' state directories (inotify
// on each root and on each container's directory for its state.json). Roots
// that do not exist yet (/run/runc before the first container) are waited
// for by watching their nearest existing ancestor.

#include <sys/inotify.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "format/result.h"
#include "format/unique_fd.h"
#include "recorder/daemon/container_metadata.h"

namespace traceloop::daemon {

struct RuntimeChange {
  size_t root = 0;  // index into roots()
  std::string id;   // sanitised container id
  bool removed = false;
};

class RuntimeWatcher {
 public:
  static Result<RuntimeWatcher> create(std::vector<RuntimeRoot> roots);
  RuntimeWatcher(RuntimeWatcher&&) noexcept = default;

  int fd() const { return inotify_.get(); }
  std::vector<RuntimeChange> read_changes();
  const std::vector<RuntimeRoot>& roots() const { return roots_; }

 private:
  RuntimeWatcher() = default;
  void attach_roots(std::vector<RuntimeChange>* out);
  void watch_container(size_t root, const std::string& id, std::vector<RuntimeChange>* out);

  enum class WatchKind { ancestor, root, container };
  struct Watch {
    WatchKind kind;
    size_t root;
    std::string id;
  };
  std::vector<RuntimeRoot> roots_;
  std::vector<bool> attached_;
  UniqueFd inotify_;
  std::unordered_map<int, Watch> watches_;
};

}  // namespace traceloop::daemon
