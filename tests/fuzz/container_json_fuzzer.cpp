// libFuzzer target: the OCI, Docker and containerd JSON the daemon reads from
// container engines (untrusted: a container's creator writes its bundle).
// The input is up to three documents separated by NUL bytes: the runtime's
// state.json, the bundle's config.json and Docker's config.v2.json, with
// "@ROOT@" standing for a scratch directory (as in testdata/engines). Each is
// parsed on its own, then laid out where the engines keep them and read the
// way the daemon identifies a container, under each runtime it knows.

#include <cstdint>
#include <string>
#include <vector>

#include "recorder/daemon/container_metadata.h"
#include "recorder/daemon/docker_config.h"
#include "recorder/daemon/json_reader.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace traceloop;
using namespace traceloop::daemon;
namespace fs = std::filesystem;

std::vector<std::string> documents(std::string_view input, const std::string& root) {
  std::vector<std::string> docs;
  for (;;) {
    const size_t nul = input.find('\0');
    std::string doc(input.substr(0, nul));
    for (size_t at = 0; (at = doc.find("@ROOT@", at)) != std::string::npos; at += root.size())
      doc.replace(at, 6, root);
    docs.push_back(std::move(doc));
    if (nul == std::string_view::npos || docs.size() == 3) break;
    input.remove_prefix(nul + 1);
  }
  docs.resize(3);
  return docs;
}

// Only paths inside the scratch directory are written to.
bool inside(const fs::path& root, std::string_view path) {
  const std::string prefix = root.string() + "/";
  return path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix &&
         path.find("..") == std::string_view::npos && path.find('\0') == std::string_view::npos;
}

// Where the reader will look for the bundle: the state's "bundle", or runc's
// "bundle=" label.
std::vector<std::string> bundles_named(const JsonValue& state) {
  std::vector<std::string> out;
  if (const JsonValue* b = state.find("bundle"); b && b->string()) out.emplace_back(*b->string());
  if (const JsonValue* config = state.find("config"))
    if (const JsonValue* labels = config->find("labels"); labels && labels->kind() == JsonValue::Kind::array)
      for (const auto& label : labels->items())
        if (auto text = label.string(); text && text->substr(0, 7) == "bundle=") out.emplace_back(text->substr(7));
  return out;
}

void walk(const JsonValue& value, size_t& nodes) {
  ++nodes;
  (void)value.string();
  (void)value.integer();
  for (const auto& item : value.items()) walk(item, nodes);
  for (const auto& [key, member] : value.members()) walk(member, nodes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fuzz::ScratchDir scratch;
  const fs::path root = scratch.path() / "root";
  std::error_code ec;
  fs::remove_all(root, ec);
  const auto docs = documents(fuzz::as_text(data, size), root.string());

  std::vector<Result<JsonValue>> parsed;
  for (const auto& doc : docs) {
    parsed.push_back(parse_json(doc));
    size_t nodes = 0;
    if (parsed.back().ok()) walk(*parsed.back(), nodes);
  }

  std::string id = "c1";
  if (parsed[0].ok())
    if (const JsonValue* named = parsed[0]->find("id"); named && named->string())
      if (auto safe = sanitize_container_id(*named->string())) id = *safe;

  const fs::path runtime_dir = root / "run";
  fuzz::write_file(runtime_dir / id / "state.json", docs[0]);
  if (parsed[0].ok())
    for (const auto& bundle : bundles_named(*parsed[0]))
      if (inside(root, bundle)) fuzz::write_file(fs::path(bundle) / "config.json", docs[1]);
  if (parsed[1].ok())
    if (auto data_root = docker_data_root_from_bundle(*parsed[1], id); data_root && inside(root, data_root->string()))
      fuzz::write_file(*data_root / "containers" / id / "config.v2.json", docs[2]);
  fuzz::write_file(root / "prefix/var/lib/docker/containers" / id / "config.v2.json", docs[2]);

  for (const char* runtime : {"runc", "docker", "containerd"}) {
    RuntimeRoot runtime_root{.dir = runtime_dir, .runtime = runtime, .runtime_namespace = "moby",
                             .prefix = root / "prefix"};
    auto container = read_runtime_container(runtime_root, id, root / "proc");
    if (container.ok()) {
      volatile size_t sink = container->info.labels.size() + container->warnings.size();
      (void)sink;
    }
  }
  return 0;
}
