#pragma once
// Container metadata from the OCI runtime's state on the host: the state
// directory (<root>/<id>/state.json: init pid, bundle, cgroup paths) and the
// bundle's config.json (annotations, with the Kubernetes names). Everything
// read here was written on behalf of the container and is untrusted: ids are
// sanitised before they name a file, JSON is read with size and depth limits,
// and the cgroup path comes from the kernel (/proc/PID/cgroup) when the init
// process is still alive.

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/metadata.h"
#include "format/result.h"
#include "recorder/daemon/json_reader.h"

namespace traceloop::daemon {

// One directory where a runtime keeps a subdirectory per container.
struct RuntimeRoot {
  std::filesystem::path dir;
  std::string runtime;  // "runc", "containerd", "docker", "crio", "crun"
};

// runc, crun, Docker's and containerd's (one per containerd namespace found
// under /run/containerd/runc), rooted at `prefix` (tests use a temp dir).
std::vector<RuntimeRoot> default_runtime_roots(const std::filesystem::path& prefix = "/");

// A container id usable as a file name: [A-Za-z0-9_.-], 1..128 characters,
// not "." or ".."; nullopt otherwise (such a container is ignored).
std::optional<std::string> sanitize_container_id(std::string_view id);

struct RuntimeContainer {
  format::ContainerInfo info;  // id, name, runtime, pod, namespace, container name, cgroup path, mount ns, annotations
  pid_t init_pid = 0;
  std::string status;          // from state.json when present ("created", "running" ...)
};

// Kubernetes names from annotations, in the spellings of dockershim/CRI-O
// (io.kubernetes.pod.name ...), containerd's CRI plugin
// (io.kubernetes.cri.sandbox-name ...) and CRI-O's labels blob
// (io.kubernetes.cri-o.Labels, itself JSON).
void apply_kubernetes_annotations(format::ContainerInfo& info);

// Reads <root.dir>/<id>/state.json and the bundle's config.json. `proc` is
// where /proc lives (tests). Fails for an unsafe id, a missing or malformed
// state file; a missing or malformed config.json only loses the annotations.
Result<RuntimeContainer> read_runtime_container(const RuntimeRoot& root, std::string_view id,
                                                const std::filesystem::path& proc = "/proc");

// Every container currently in `roots` (unreadable ones skipped).
std::vector<RuntimeContainer> scan_runtime_roots(const std::vector<RuntimeRoot>& roots,
                                                 const std::filesystem::path& proc = "/proc");

// The v2 cgroup path ("/a/b") of `pid` from <proc>/PID/cgroup; the mount
// namespace inode from <proc>/PID/ns/mnt.
std::optional<std::string> cgroup2_path_from_proc(const std::filesystem::path& proc, pid_t pid);
uint64_t mount_ns_of(const std::filesystem::path& proc, pid_t pid);

}  // namespace traceloop::daemon
