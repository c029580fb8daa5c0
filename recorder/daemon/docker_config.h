#pragma once
// Docker's own record of a container: <data-root>/containers/<id>/config.v2.json
// (its name, the image as the user named it, its labels). runc's state and
// the OCI bundle know none of these. The data root is found without
// configuration from the bundle, whose /etc/hostname mount comes from
// <data-root>/containers/<id>/hostname; the file is written by dockerd but
// describes the container, so it is read bounded and every value sanitised.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "format/result.h"
#include "recorder/daemon/json_reader.h"

namespace traceloop::daemon {

struct DockerConfig {
  std::string name;   // without Docker's leading '/'
  std::string image;  // Config.Image: "bb:local", "nginx@sha256:..."
  std::vector<std::pair<std::string, std::string>> labels;
};

// The data root of container `id` from its OCI bundle config (the source of
// the /etc/hostname mount): only an absolute path without "." or ".." that
// ends in containers/<id>/hostname for this very id; nullopt otherwise.
std::optional<std::filesystem::path> docker_data_root_from_bundle(const JsonValue& bundle_config, std::string_view id);

// Reads <data_root>/containers/<id>/config.v2.json (not following a final
// symlink, at most 4 MiB). Fails when it is missing, malformed, or records
// another id.
Result<DockerConfig> read_docker_config(const std::filesystem::path& data_root, std::string_view id);

}  // namespace traceloop::daemon
