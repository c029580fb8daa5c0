#include "recorder/daemon/container_metadata.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <system_error>
#include <utility>
#include <vector>

namespace traceloop::daemon {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxIdLength = 128;
constexpr size_t kMaxAnnotations = 256;
constexpr size_t kMaxAnnotationBytes = 4096;

// A value from the container's side of the fence, bounded and without control
// characters, so it cannot bloat the trace header or drive a terminal.
std::string bounded_text(std::string_view text, size_t max = kMaxAnnotationBytes) {
  std::string out;
  for (char c : text.substr(0, max)) out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  return out;
}

const std::string* annotation(const format::ContainerInfo& info, std::string_view key) {
  for (const auto& [k, v] : info.annotations)
    if (k == key) return &v;
  return nullptr;
}

void set_annotation(format::ContainerInfo& info, std::string_view key, std::string_view value) {
  if (annotation(info, key) != nullptr || info.annotations.size() >= kMaxAnnotations) return;
  info.annotations.emplace_back(bounded_text(key, 256), bounded_text(value));
}

bool plain_absolute_path(std::string_view p) {
  if (p.empty() || p.front() != '/' || p.size() > 4096) return false;
  if (p.find('\0') != std::string_view::npos) return false;
  for (const auto& part : fs::path(p))
    if (part == "..") return false;
  return true;
}

}  // namespace

std::vector<RuntimeRoot> default_runtime_roots(const fs::path& prefix) {
  std::vector<RuntimeRoot> roots = {
      {prefix / "run/runc", "runc"},
      {prefix / "run/crun", "crun"},
      {prefix / "run/docker/runtime-runc/moby", "docker"},
  };
  // containerd keeps one directory per namespace (k8s.io, moby, default ...).
  std::error_code ec;
  for (const auto& ns : fs::directory_iterator(prefix / "run/containerd/runc", ec)) {
    auto name = sanitize_container_id(ns.path().filename().string());
    if (name && ns.is_directory(ec)) roots.push_back({ns.path(), "containerd"});
  }
  return roots;
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
  auto first = [&](std::initializer_list<std::string_view> keys) -> std::string {
    for (auto key : keys)
      if (const std::string* v = annotation(info, key); v != nullptr && !v->empty()) return *v;
    return {};
  };
  // CRI-O keeps the pod's labels as one JSON object in an annotation.
  std::string crio_pod, crio_ns, crio_container;
  if (const std::string* labels = annotation(info, "io.kubernetes.cri-o.Labels")) {
    JsonLimits limits;
    limits.max_bytes = kMaxAnnotationBytes;
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
  info.pod_name = pod.empty() ? crio_pod : pod;
  info.pod_namespace = ns.empty() ? crio_ns : ns;
  info.container_name = container.empty() ? crio_container : container;
  if (!info.container_name.empty()) info.name = info.container_name;
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

Result<RuntimeContainer> read_runtime_container(const RuntimeRoot& root, std::string_view raw_id, const fs::path& proc) {
  auto id = sanitize_container_id(raw_id);
  if (!id) return Error{"unsafe container id refused: " + bounded_text(raw_id, 64)};
  auto state = read_json_file(root.dir / *id / "state.json");
  if (!state.ok()) return state.error();
  if (!state->is_object()) return Error{"state.json of " + *id + " is not an object"};

  RuntimeContainer out;
  out.info.id = *id;
  out.info.name = *id;
  out.info.runtime = root.runtime;
  if (const JsonValue* pid = state->find("init_process_pid"); pid && pid->integer())
    out.init_pid = static_cast<pid_t>(std::clamp<int64_t>(*pid->integer(), 0, 1 << 22));
  else if (const JsonValue* p = state->find("pid"); p && p->integer())  // crun, OCI state
    out.init_pid = static_cast<pid_t>(std::clamp<int64_t>(*p->integer(), 0, 1 << 22));
  if (const JsonValue* s = state->find("status"); s && s->string()) out.status = bounded_text(*s->string(), 32);

  // runc keeps the bundle and the annotations as "key=value" labels.
  std::string bundle;
  const JsonValue* config = state->find("config");
  if (const JsonValue* b = state->find("bundle"); b && b->string()) bundle = std::string(*b->string());
  std::vector<std::pair<std::string_view, std::string_view>> labels;
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
        labels.emplace_back(text->substr(0, eq), text->substr(eq + 1));
    }
  }
  // The bundle path is written by the runtime (root), but the bundle's
  // contents by whoever made it: only an absolute path without "..", and
  // only config.json inside it, read without following a final symlink.
  if (plain_absolute_path(bundle)) {
    if (auto cfg = read_json_file(fs::path(bundle) / "config.json"); cfg.ok()) {
      if (const JsonValue* ann = cfg->find("annotations"); ann && ann->is_object())
        for (const auto& [k, v] : ann->members())
          if (v.string()) set_annotation(out.info, k, *v.string());
    }
  }
  // Labels come last: what the runtime recorded wins over the bundle.
  for (const auto& [key, value] : labels) set_annotation(out.info, key, value);
  apply_kubernetes_annotations(out.info);

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

std::vector<RuntimeContainer> scan_runtime_roots(const std::vector<RuntimeRoot>& roots, const fs::path& proc) {
  std::vector<RuntimeContainer> out;
  for (const auto& root : roots) {
    std::error_code ec;
    size_t seen = 0;
    for (const auto& entry : fs::directory_iterator(root.dir, ec)) {
      if (++seen > 65536) break;  // a runaway directory does not stall the daemon
      if (!entry.is_directory(ec)) continue;
      auto c = read_runtime_container(root, entry.path().filename().string(), proc);
      if (c.ok()) out.push_back(std::move(c.value()));
    }
  }
  return out;
}

}  // namespace traceloop::daemon
