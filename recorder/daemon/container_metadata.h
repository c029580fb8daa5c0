#pragma once
// Container metadata from the OCI runtime's state on the host: the state
// directory (<root>/<id>/state.json: init pid, bundle, cgroup paths), the
// bundle's config.json (annotations, with the Kubernetes names), and the
// engine's own record where runc knows nothing: Docker's config.v2.json
// (name, image, labels) and containerd's metadata store (image, labels).
// Everything read here was written on behalf of the container and is
// untrusted: ids are sanitised before they name a file, JSON and bbolt are
// read with size and depth limits, and the cgroup path comes from the kernel
// (/proc/PID/cgroup) when the init process is still alive.

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

// Entries read from one runtime directory at most: a runaway directory does
// not stall the daemon (what is left out is reported).
inline constexpr size_t kMaxEntriesPerRuntimeDir = 65536;

// One directory where a runtime keeps a subdirectory per container, or (with
// `namespaces`) a subdirectory per containerd namespace, each of them such a
// directory of containers: /run/containerd/runc/<ns>/<id>,
// /run/docker/runtime-runc/<ns>/<id>.
struct RuntimeRoot {
  std::filesystem::path dir;
  std::string runtime;            // "runc", "crun", "docker", "containerd"
  std::string runtime_namespace{};  // the containerd namespace of a root below a namespace directory
  bool namespaces = false;        // dir holds namespaces, not containers
  std::filesystem::path prefix = "/";  // the host's root: engine data found by fallback lives below it
};

// runc's and crun's roots, and the namespace directories of containerd and
// of Docker's runc (exec-root /run/docker), rooted at `prefix` (tests use a
// temp dir). Namespaces are not listed here: scan_runtime_roots and
// RuntimeWatcher find them, including those made later.
std::vector<RuntimeRoot> default_runtime_roots(const std::filesystem::path& prefix = "/");

// The root of namespace `ns` below the namespace directory `parent`.
RuntimeRoot namespace_root(const RuntimeRoot& parent, std::string ns);


// A container id usable as a file name: [A-Za-z0-9_.-], 1..128 characters,
// not "." or ".."; nullopt otherwise (such a container is ignored).
std::optional<std::string> sanitize_container_id(std::string_view id);

struct RuntimeContainer {
  // id, name, runtime, pod, namespace, container name, cgroup path, mount ns,
  // annotations, image, labels, runtime namespace, init pid.
  //   runtime: "docker" for a container Docker made (whichever runtime root
  //   shows it: Docker's own, or containerd's "moby" namespace), else
  //   "containerd" below a containerd namespace, else the root's runtime.
  //   runtime_namespace: the containerd namespace the container's task lives
  //   in: the name of the runc root's directory ("moby" for Docker, whose
  //   runc root /run/docker/runtime-runc/moby is one too), empty for runc and
  //   crun's flat roots.
  //   name / container_name: Kubernetes' container name when annotations or
  //   labels carry one, else Docker's name (without '/'); the id elsewhere
  //   (container_name then stays empty).
  format::ContainerInfo info;
  pid_t init_pid = 0;          // also in info.init_pid
  std::string status;          // from state.json when present ("created", "running" ...)
  // What could not be read while the container itself could (Docker's
  // config, containerd's store): one line each, for the daemon's log and
  // listing; the fields it would have filled stay empty.
  std::vector<std::string> warnings;
};

// Kubernetes names from annotations, in the spellings of dockershim/CRI-O
// (io.kubernetes.pod.name ...), containerd's CRI plugin
// (io.kubernetes.cri.sandbox-name ...) and CRI-O's labels blob
// (io.kubernetes.cri-o.Labels, itself JSON), then from the engine's labels
// (dockershim puts the same io.kubernetes.* names there). Found names win
// over what the engine called the container; missing ones change nothing.
void apply_kubernetes_annotations(format::ContainerInfo& info);

// Reads <root.dir>/<id>/state.json, the bundle's config.json and the
// engine's record (Docker: config.v2.json in the data root named by the
// bundle's /etc/hostname mount, else <prefix>/var/lib/docker; containerd:
// meta.db in the root named by the bundle's `work` link, else
// <prefix>/var/lib/containerd). `proc` is where /proc lives (tests).
// Fails, with the reason in one line, for an unsafe id or a missing or
// malformed state file; anything else that cannot be read only loses its
// fields and adds a line to `warnings`.
Result<RuntimeContainer> read_runtime_container(const RuntimeRoot& root, std::string_view id,
                                                const std::filesystem::path& proc = "/proc");

// What is still known of a container whose runtime state is gone (it ended
// before the state could be read): its id, its runtime, and its engine's
// record when the engine keeps one after the container stopped (Docker's
// config.v2.json until `docker rm`; containerd's store until the container
// is deleted, which for Kubernetes is where the pod's names are), looked
// for in the engines' default data roots below root.prefix. What could not
// be found is in `warnings`; an unsafe id is looked for nowhere.
RuntimeContainer read_vanished_container(const RuntimeRoot& root, std::string_view id);

// What kept a container or a runtime directory from being read.
struct RuntimeProblem {
  std::filesystem::path dir;  // the runtime root, or the container's directory in it
  std::string id;             // the container's id; empty when the root itself is the problem
  std::string message;        // one line
  friend bool operator==(const RuntimeProblem&, const RuntimeProblem&) = default;
};

// `roots` with every namespace directory replaced by the roots of the
// namespaces it holds now, without duplicates; a namespace directory that
// exists but cannot be listed is described in `problems` when it is given.
std::vector<RuntimeRoot> expand_runtime_roots(const std::vector<RuntimeRoot>& roots,
                                              std::vector<RuntimeProblem>* problems = nullptr);

// Every container currently in `roots` (namespace directories expanded).
// Containers or roots that cannot be read are left out, and described in
// `problems` when it is given.
std::vector<RuntimeContainer> scan_runtime_roots(const std::vector<RuntimeRoot>& roots,
                                                 const std::filesystem::path& proc = "/proc",
                                                 std::vector<RuntimeProblem>* problems = nullptr);

// The v2 cgroup path ("/a/b") of `pid` from <proc>/PID/cgroup; the mount
// namespace inode from <proc>/PID/ns/mnt.
std::optional<std::string> cgroup2_path_from_proc(const std::filesystem::path& proc, pid_t pid);
uint64_t mount_ns_of(const std::filesystem::path& proc, pid_t pid);

}  // namespace traceloop::daemon
