#include "recorder/daemon/docker_config.h"

#include "recorder/daemon/container_metadata.h"
#include "recorder/daemon/untrusted_text.h"

namespace traceloop::daemon {

namespace {

constexpr size_t kMaxConfigBytes = 4u << 20;
constexpr size_t kMaxLabels = 256;
constexpr size_t kMaxNameBytes = 256;

}  // namespace

std::optional<std::filesystem::path> docker_data_root_from_bundle(const JsonValue& bundle_config, std::string_view id) {
  const JsonValue* mounts = bundle_config.find("mounts");
  if (mounts == nullptr || mounts->kind() != JsonValue::Kind::array) return std::nullopt;
  for (const auto& mount : mounts->items()) {
    const JsonValue* dest = mount.find("destination");
    const JsonValue* source = mount.find("source");
    if (!dest || dest->string() != std::optional<std::string_view>("/etc/hostname") || !source || !source->string())
      continue;
    return plain_path_before(*source->string(), {"containers", id, "hostname"});
  }
  return std::nullopt;
}

Result<DockerConfig> read_docker_config(const std::filesystem::path& data_root, std::string_view id) {
  if (!sanitize_container_id(id)) return Error{"unsafe container id refused: " + bounded_text(id, 64)};
  const auto path = data_root / "containers" / std::string(id) / "config.v2.json";
  JsonLimits limits;
  limits.max_bytes = kMaxConfigBytes;
  limits.max_depth = 32;
  auto config = read_json_file(path, limits);
  if (!config.ok()) return Error{"Docker config " + config.error().message};
  const JsonValue* recorded = config->find("ID");
  if (!recorded || recorded->string() != std::optional<std::string_view>(id))
    return Error{"Docker config " + path.string() + " is not the config of container " + std::string(id)};

  DockerConfig out;
  if (const JsonValue* name = config->find("Name"); name && name->string()) {
    std::string_view n = *name->string();
    if (!n.empty() && n.front() == '/') n.remove_prefix(1);
    out.name = bounded_text(n, kMaxNameBytes);
  }
  if (const JsonValue* inner = config->find("Config")) {
    if (const JsonValue* image = inner->find("Image"); image && image->string())
      out.image = bounded_text(*image->string(), kMaxNameBytes);
    if (const JsonValue* labels = inner->find("Labels"); labels && labels->is_object())
      for (const auto& [k, v] : labels->members()) {
        if (out.labels.size() >= kMaxLabels) break;
        if (v.string()) out.labels.emplace_back(bounded_text(k, kMaxNameBytes), bounded_text(*v.string()));
      }
  }
  // A config written for a container created from an image id only.
  if (out.image.empty())
    if (const JsonValue* image = config->find("Image"); image && image->string())
      out.image = bounded_text(*image->string(), kMaxNameBytes);
  return out;
}

}  // namespace traceloop::daemon
