#include "recorder/daemon/selection.h"

#include <algorithm>

namespace traceloop::daemon {

namespace {

bool any_of_equal(const std::vector<std::string>& wanted, std::initializer_list<std::string_view> have) {
  return std::any_of(wanted.begin(), wanted.end(), [&](const std::string& w) {
    return std::any_of(have.begin(), have.end(), [&](std::string_view h) { return !h.empty() && h == w; });
  });
}

// Docker Hub's implicit parts: "busybox" is docker.io/library/busybox:latest.
std::string canonical_image(std::string_view image) {
  std::string name(image);
  const size_t slash = name.find('/');
  const bool has_registry =
      slash != std::string::npos &&
      (name.find_first_of(".:", 0) < slash || name.compare(0, slash, "localhost") == 0);
  if (!has_registry) name = (slash == std::string::npos ? "docker.io/library/" : "docker.io/") + name;
  const size_t last_slash = name.rfind('/');
  if (name.find('@') == std::string::npos && name.find(':', last_slash) == std::string::npos) name += ":latest";
  return name;
}

bool image_matches(const std::string& wanted, const std::string& image) {
  if (image.empty()) return false;
  if (wanted == image) return true;
  return canonical_image(wanted) == canonical_image(image);
}

bool has_label(const format::ContainerInfo& info, const std::pair<std::string, std::string>& label) {
  return std::find(info.labels.begin(), info.labels.end(), label) != info.labels.end();
}

}  // namespace

std::string display_name(const format::ContainerInfo& info) {
  if (!info.container_name.empty()) return info.container_name;
  if (!info.name.empty()) return info.name;
  return info.id;
}

bool Selection::matches(const format::ContainerInfo& info) const {
  if (!namespaces.empty() && !any_of_equal(namespaces, {info.pod_namespace, info.runtime_namespace})) return false;
  if (!pods.empty() && !any_of_equal(pods, {info.pod_name})) return false;
  if (!containers.empty() && !any_of_equal(containers, {info.container_name, info.name, info.id})) return false;
  for (const auto& label : labels)
    if (!has_label(info, label)) return false;
  if (!images.empty() &&
      std::none_of(images.begin(), images.end(), [&](const std::string& w) { return image_matches(w, info.image); }))
    return false;
  return true;
}

Result<std::pair<std::string, std::string>> parse_label(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) return Error{"a label is KEY=VALUE: " + std::string(text)};
  return std::pair<std::string, std::string>(text.substr(0, eq), text.substr(eq + 1));
}

std::vector<std::string> selection_words(const Selection& s) {
  std::vector<std::string> words;
  for (const auto& v : s.namespaces) words.push_back("namespace=" + v);
  for (const auto& v : s.pods) words.push_back("pod=" + v);
  for (const auto& v : s.containers) words.push_back("container=" + v);
  for (const auto& [k, v] : s.labels) words.push_back("label=" + k + "=" + v);
  for (const auto& v : s.images) words.push_back("image=" + v);
  return words;
}

Result<Selection> parse_selection_words(const std::vector<std::string>& words) {
  Selection s;
  for (const auto& word : words) {
    const size_t eq = word.find('=');
    if (eq == std::string::npos || eq + 1 == word.size()) return Error{"bad selection word: " + word};
    const std::string kind = word.substr(0, eq);
    std::string value = word.substr(eq + 1);
    if (kind == "namespace") s.namespaces.push_back(std::move(value));
    else if (kind == "pod") s.pods.push_back(std::move(value));
    else if (kind == "container") s.containers.push_back(std::move(value));
    else if (kind == "image") s.images.push_back(std::move(value));
    else if (kind == "label") {
      auto label = parse_label(value);
      if (!label.ok()) return label.error();
      s.labels.push_back(std::move(label.value()));
    } else {
      return Error{"unknown selection kind: " + kind};
    }
  }
  return s;
}

std::string describe(const Selection& s) {
  if (s.empty()) return "every container";
  std::string out;
  auto add = [&out](std::string_view kind, const std::vector<std::string>& values) {
    if (values.empty()) return;
    if (!out.empty()) out += ' ';
    out += kind;
    out += '=';
    for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + values[i];
  };
  add("namespace", s.namespaces);
  add("pod", s.pods);
  add("container", s.containers);
  std::vector<std::string> labels;
  for (const auto& [k, v] : s.labels) labels.push_back(k + "=" + v);
  add("label", labels);
  add("image", s.images);
  return out;
}

}  // namespace traceloop::daemon
