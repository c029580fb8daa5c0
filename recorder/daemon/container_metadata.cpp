#include "recorder/daemon/container_metadata.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <system_error>
#include <utility>
#include <vector>

#include "recorder/daemon/containerd_store.h"
#include "recorder/daemon/docker_config.h"
#include "recorder/daemon/untrusted_text.h"

namespace traceloop::daemon {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxIdLength = 128;
constexpr size_t kMaxAnnotations = 256;

const std::string* find_pair(const std::vector<std::pair<std::string, std::string>>& pairs, std::string_view key) {
  for (const auto& [k, v] : pairs)
    if (k == key) return &v;
  return nullptr;
}

void set_annotation(format::ContainerInfo& info, std::string_view key, std::string_view value) {
  if (find_pair(info.annotations, key) != nullptr || info.annotations.size() >= kMaxAnnotations) return;
  info.annotations.emplace_back(bounded_text(key, 256), bounded_text(value));
}

bool is_plain_directory(const fs::directory_entry& entry) {
  std::error_code ec;
  return entry.symlink_status(ec).type() == fs::file_type::directory;
}

// Docker's record, when the container is Docker's: its root says so, or the
// bundle mounts a hostname from a Docker data root, or it lives in
// containerd's "moby" namespace and Docker has a config for it. True when
// the container was taken as Docker's (its fields filled, or a warning why
// not).
bool apply_docker(const RuntimeRoot& root, const std::string& id, const JsonValue* bundle_config,
                  RuntimeContainer& out) {
  std::optional<fs::path> from_bundle;
  if (bundle_config) from_bundle = docker_data_root_from_bundle(*bundle_config, id);
  const bool docker_root = root.runtime == "docker";
  if (!docker_root && !from_bundle && root.runtime_namespace != "moby") return false;
  auto config = read_docker_config(from_bundle ? *from_bundle : root.prefix / "var/lib/docker", id);
  if (!config.ok()) {
    if (!docker_root && !from_bundle) return false;  // someone else's container in "moby"
    out.info.runtime = "docker";
    out.warnings.push_back(config.error().message);
    return true;
  }
  out.info.runtime = "docker";
  if (!config->name.empty()) out.info.name = out.info.container_name = config->name;
  out.info.image = std::move(config->image);
  out.info.labels = std::move(config->labels);
  return true;
}

void apply_containerd(const RuntimeRoot& root, const std::string& id, const std::string& bundle,
                      RuntimeContainer& out) {
  const std::string& ns = root.runtime_namespace;
  fs::path store = root.prefix / "var/lib/containerd";
  if (auto found = containerd_root_from_bundle(bundle, ns, id)) store = *found;
  auto record = read_containerd_container(store, ns, id);
  if (!record.ok()) {
    out.warnings.push_back(record.error().message);
    return;
  }
  if (!*record) {
    out.warnings.push_back("container " + id + " of namespace " + ns + " is not in containerd's store under " +
                           store.string());
    return;
  }
  out.info.image = std::move((*record)->image);
  out.info.labels = std::move((*record)->labels);
  // Docker run through a containerd it does not manage, its config not found.
  if (find_pair(out.info.labels, "com.docker/engine.bundle.path") != nullptr) {
    out.info.runtime = "docker";
    out.warnings.push_back("Docker container " + id + " without a readable Docker config");
  }
}

// The engine's record (name, image, labels), then the Kubernetes names of
// the annotations and labels found so far.
void apply_engine_record(const RuntimeRoot& root, const std::string& id, const JsonValue* bundle_config,
                         const std::string& bundle, RuntimeContainer& out) {
  if (!apply_docker(root, id, bundle_config, out) && root.runtime == "containerd") apply_containerd(root, id, bundle, out);
  apply_kubernetes_annotations(out.info);
}

}  // namespace

std::vector<RuntimeRoot> default_runtime_roots(const fs::path& prefix) {
  return {
      {prefix / "run/runc", "runc", "", false, prefix},
      {prefix / "run/crun", "crun", "", false, prefix},
      // Docker's runc root (exec-root /run/docker): one directory per
      // containerd namespace, "moby" for containers, "plugins.moby" for plugins.
      {prefix / "run/docker/runtime-runc", "docker", "", true, prefix},
      // containerd's: k8s.io, default, moby, whatever a client names.
      {prefix / "run/containerd/runc", "containerd", "", true, prefix},
  };
}

RuntimeRoot namespace_root(const RuntimeRoot& parent, std::string ns) {
  RuntimeRoot root;
  root.dir = parent.dir / ns;
  root.runtime = parent.runtime;
  root.runtime_namespace = std::move(ns);
  root.prefix = parent.prefix;
  return root;
}

std::vector<RuntimeRoot> expand_runtime_roots(const std::vector<RuntimeRoot>& roots,
                                              std::vector<RuntimeProblem>* problems) {
  std::vector<RuntimeRoot> out;
  auto add = [&](RuntimeRoot r) {
    for (const auto& have : out)
      if (have.dir == r.dir) return;
    out.push_back(std::move(r));
  };
  for (const auto& root : roots) {
    if (!root.namespaces) {
      add(root);
      continue;
    }
    std::error_code ec;
    size_t seen = 0;
    fs::directory_iterator it(root.dir, ec);
    if (ec && problems && ec != std::errc::no_such_file_or_directory)
      problems->push_back({root.dir, "", "cannot list " + root.dir.string() + ": " + ec.message()});
    for (const auto& entry : it) {
      if (++seen > kMaxEntriesPerRuntimeDir) {
        if (problems) problems->push_back({root.dir, "", "more than " + std::to_string(kMaxEntriesPerRuntimeDir) +
                                                              " entries in " + root.dir.string() + "; the rest ignored"});
        break;
      }
      auto ns = sanitize_container_id(entry.path().filename().string());
      if (ns && is_plain_directory(entry)) add(namespace_root(root, *ns));
    }
  }
  return out;
}

std::optional<std::string> sanitize_container_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength || id == "." || id == "..") return std::nullopt;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.';
    if (!ok) return std::nullopt;
  }
  return std::string(id);
}

void apply_kubernetes_annotations(format::ContainerInfo& info) {
  // Annotations first (CRI, CRI-O), then labels (dockershim's Docker labels).
  auto first = [&](std::initializer_list<std::string_view> keys) -> std::string {
    for (const auto* pairs : {&info.annotations, &info.labels})
      for (auto key : keys)
        if (const std::string* v = find_pair(*pairs, key); v != nullptr && !v->empty()) return bounded_text(*v, 256);
    return {};
  };
  // CRI-O keeps the pod's labels as one JSON object in an annotation.
  std::string crio_pod, crio_ns, crio_container;
  if (const std::string* labels = find_pair(info.annotations, "io.kubernetes.cri-o.Labels")) {
    JsonLimits limits;
    limits.max_bytes = kMaxUntrustedText;
    limits.max_depth = 4;
    if (auto parsed = parse_json(*labels, limits); parsed.ok()) {
      auto get = [&](std::string_view key) {
        const JsonValue* v = parsed->find(key);
        return v && v->string() ? bounded_text(*v->string(), 256) : std::string();
      };
      crio_pod = get("io.kubernetes.pod.name");
      crio_ns = get("io.kubernetes.pod.namespace");
      crio_container = get("io.kubernetes.container.name");
    }
  }
  std::string pod = first({"io.kubernetes.pod.name", "io.kubernetes.cri.sandbox-name", "io.kubernetes.cri-o.KubeName"});
  std::string ns = first({"io.kubernetes.pod.namespace", "io.kubernetes.cri.sandbox-namespace",
                          "io.kubernetes.cri-o.Namespace"});
  std::string container = first({"io.kubernetes.container.name", "io.kubernetes.cri.container-name"});
  if (pod.empty()) pod = crio_pod;
  if (ns.empty()) ns = crio_ns;
  if (container.empty()) container = crio_container;
  if (!pod.empty()) info.pod_name = pod;
  if (!ns.empty()) info.pod_namespace = ns;
  if (!container.empty()) info.name = info.container_name = container;
}

std::optional<std::string> cgroup2_path_from_proc(const fs::path& proc, pid_t pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in(proc / std::to_string(pid) / "cgroup");
  std::string line;
  for (int lines = 0; lines < 64 && std::getline(in, line); ++lines)
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  return std::nullopt;
}

uint64_t mount_ns_of(const fs::path& proc, pid_t pid) {
  struct stat st {};
  if (pid <= 0 || ::stat((proc / std::to_string(pid) / "ns" / "mnt").c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_ino);
}

RuntimeContainer read_vanished_container(const RuntimeRoot& root, std::string_view raw_id) {
  RuntimeContainer out;
  out.info.id = out.info.name = std::string(raw_id);
  out.info.runtime = root.runtime;
  out.info.runtime_namespace = root.runtime_namespace;
  if (auto id = sanitize_container_id(raw_id)) apply_engine_record(root, *id, nullptr, "", out);
  return out;
}

Result<RuntimeContainer> read_runtime_container(const RuntimeRoot& root, std::string_view raw_id, const fs::path& proc) {
  auto id = sanitize_container_id(raw_id);
  if (!id) return Error{"unsafe container id refused: " + bounded_text(raw_id, 64)};
  auto state = read_json_file(root.dir / *id / "state.json");
  if (!state.ok()) return Error{"unreadable runtime state: " + state.error().message};
  if (!state->is_object()) return Error{"runtime state " + (root.dir / *id / "state.json").string() + " is not an object"};

  RuntimeContainer out;
  out.info.id = *id;
  out.info.name = *id;
  out.info.runtime = root.runtime;
  out.info.runtime_namespace = root.runtime_namespace;
  if (const JsonValue* pid = state->find("init_process_pid"); pid && pid->integer())
    out.init_pid = static_cast<pid_t>(std::clamp<int64_t>(*pid->integer(), 0, 1 << 22));
  else if (const JsonValue* p = state->find("pid"); p && p->integer())  // crun, OCI state
    out.init_pid = static_cast<pid_t>(std::clamp<int64_t>(*p->integer(), 0, 1 << 22));
  out.info.init_pid = static_cast<uint32_t>(out.init_pid);
  if (const JsonValue* s = state->find("status"); s && s->string()) out.status = bounded_text(*s->string(), 32);

  // runc keeps the bundle and the annotations as "key=value" labels.
  std::string bundle;
  const JsonValue* config = state->find("config");
  if (const JsonValue* b = state->find("bundle"); b && b->string()) bundle = std::string(*b->string());
  std::vector<std::pair<std::string_view, std::string_view>> runc_labels;
  if (const JsonValue* list = config ? config->find("labels") : nullptr;
      list && list->kind() == JsonValue::Kind::array) {
    for (const auto& label : list->items()) {
      auto text = label.string();
      if (!text) continue;
      auto eq = text->find('=');
      if (eq == std::string_view::npos) continue;
      if (text->substr(0, eq) == "bundle")
        bundle = std::string(text->substr(eq + 1));
      else
        runc_labels.emplace_back(text->substr(0, eq), text->substr(eq + 1));
    }
  }
  // The bundle path is written by the runtime (root), but the bundle's
  // contents by whoever made it: only an absolute path without "..", and
  // only config.json inside it, read without following a final symlink.
  std::optional<JsonValue> bundle_config;
  if (plain_absolute_path(bundle)) {
    auto cfg = read_json_file(fs::path(bundle) / "config.json");
    if (cfg.ok()) bundle_config = std::move(cfg.value());
    else out.warnings.push_back("bundle config " + cfg.error().message);
    if (bundle_config)
      if (const JsonValue* ann = bundle_config->find("annotations"); ann && ann->is_object())
        for (const auto& [k, v] : ann->members())
          if (v.string()) set_annotation(out.info, k, *v.string());
  } else if (!bundle.empty()) {
    out.warnings.push_back("bundle path refused: " + bounded_text(bundle, 256));
  }
  // Labels come last: what the runtime recorded wins over the bundle.
  for (const auto& [key, value] : runc_labels) set_annotation(out.info, key, value);

  apply_engine_record(root, *id, bundle_config ? &*bundle_config : nullptr, bundle, out);

  // The kernel's word for the cgroup when the init process lives; else what
  // the runtime configured (cgroupfs-style absolute paths only).
  if (auto path = cgroup2_path_from_proc(proc, out.init_pid)) {
    out.info.cgroup_path = bounded_text(*path);
    out.info.mount_ns_id = mount_ns_of(proc, out.init_pid);
  } else if (config) {
    if (const JsonValue* cg = config->find("cgroups"))
      if (const JsonValue* p = cg->find("path"); p && p->string() && plain_absolute_path(*p->string()))
        out.info.cgroup_path = bounded_text(*p->string());
  }
  return out;
}

std::vector<RuntimeContainer> scan_runtime_roots(const std::vector<RuntimeRoot>& roots, const fs::path& proc,
                                                 std::vector<RuntimeProblem>* problems) {
  std::vector<RuntimeContainer> out;
  for (const auto& root : expand_runtime_roots(roots, problems)) {
    std::error_code ec;
    size_t seen = 0;
    fs::directory_iterator it(root.dir, ec);
    if (ec) {
      if (problems && ec != std::errc::no_such_file_or_directory)
        problems->push_back({root.dir, "", "cannot list " + root.dir.string() + ": " + ec.message()});
      continue;
    }
    for (const auto& entry : it) {
      if (++seen > kMaxEntriesPerRuntimeDir) {
        if (problems) problems->push_back({root.dir, "", "more than " + std::to_string(kMaxEntriesPerRuntimeDir) +
                                                              " entries in " + root.dir.string() + "; the rest ignored"});
        break;
      }
      if (!is_plain_directory(entry)) continue;
      // A directory whose state.json is not written yet is a container being
      // created, not a problem: the watcher reports it once it is there.
      std::string name = entry.path().filename().string();
      if (!fs::exists(fs::symlink_status(entry.path() / "state.json", ec))) continue;
      auto c = read_runtime_container(root, name, proc);
      if (c.ok()) out.push_back(std::move(c.value()));
      else if (problems) problems->push_back({entry.path(), bounded_text(name, 128), c.error().message});
    }
  }
  return out;
}

}  // namespace traceloop::daemon
