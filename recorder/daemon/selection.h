#pragma once
// Which containers the daemon records, chosen as `kubectl gadget` users
// choose: by namespace, pod, container name, label and image. Values of one
// kind are alternatives, kinds must all hold ("--namespace a --namespace b
// --label app=web": in a or b, and labelled app=web). An empty selection
// chooses every container.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "format/metadata.h"
#include "format/result.h"

namespace traceloop::daemon {

struct Selection {
  // The Kubernetes namespace, or where there is none the engine's own
  // (containerd's "tltest", Docker's "moby").
  std::vector<std::string> namespaces;
  std::vector<std::string> pods;
  // The name users know: Docker's, Kubernetes', or the id under ctr.
  std::vector<std::string> containers;
  // key=value pairs, all of which must be among the container's labels.
  std::vector<std::pair<std::string, std::string>> labels;
  // "busybox" matches docker.io/library/busybox:latest; a tag or digest
  // given must match.
  std::vector<std::string> images;

  bool empty() const {
    return namespaces.empty() && pods.empty() && containers.empty() && labels.empty() && images.empty();
  }
  bool matches(const format::ContainerInfo& info) const;
  friend bool operator==(const Selection&, const Selection&) = default;
};

// "k=v" into a label criterion; a missing '=' or an empty key fails.
Result<std::pair<std::string, std::string>> parse_label(std::string_view text);

// The selection as "kind=value" words (namespace=, pod=, container=,
// label=k=v, image=) and back: the form it takes on the control socket.
std::vector<std::string> selection_words(const Selection& selection);
Result<Selection> parse_selection_words(const std::vector<std::string>& words);

// For people: "namespace=a,b pod=x label=app=web", or "every container".
std::string describe(const Selection& selection);

// The name a container is known by, for display: Kubernetes' container name,
// Docker's, or the id.
std::string display_name(const format::ContainerInfo& info);

}  // namespace traceloop::daemon
