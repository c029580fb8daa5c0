#pragma once
// containerd's record of a container: its image and labels live only in the
// metadata store, the bbolt file <root>/io.containerd.metadata.v1.bolt/meta.db,
// as v1/<namespace>/containers/<id>/{image, labels/<key> = <value>, ...}.
// containerd keeps writing that file while it is read here; a read that
// straddles one of its commits is retried.
//
// The root is found without configuration from the task's bundle:
// <state>/io.containerd.runtime.v2.task/<ns>/<id>/work is a symlink to
// <root>/io.containerd.runtime.v2.task/<ns>/<id>.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "format/result.h"

namespace traceloop::daemon {

struct ContainerdRecord {
  std::string image;  // "docker.io/library/busybox:latest"
  std::vector<std::pair<std::string, std::string>> labels;
};

// containerd's root from a task bundle `bundle` of container `id` in
// namespace `ns`: both the bundle path and the target of its `work` symlink
// must be plain absolute paths ending in io.containerd.runtime.v2.task/<ns>/<id>.
std::optional<std::filesystem::path> containerd_root_from_bundle(const std::filesystem::path& bundle,
                                                                 std::string_view ns, std::string_view id);

// The record of `id` in namespace `ns` of the store under `root`; nullopt
// when the store has no such container. Errors say why the store could not
// be read (missing, damaged, changing too fast).
Result<std::optional<ContainerdRecord>> read_containerd_container(const std::filesystem::path& root,
                                                                  std::string_view ns, std::string_view id);

// The same from a meta.db path (tests, and stores in unusual places).
Result<std::optional<ContainerdRecord>> read_containerd_store(const std::filesystem::path& meta_db,
                                                              std::string_view ns, std::string_view id);

}  // namespace traceloop::daemon
