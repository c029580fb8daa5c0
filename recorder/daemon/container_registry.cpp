#include "recorder/daemon/container_registry.h"

#include <algorithm>

namespace traceloop::daemon {

Tracked* ContainerRegistry::insert(std::unique_ptr<Tracked> t) {
  Tracked* raw = t.get();
  buffers_.push_back(&raw->buffer);
  by_index_[raw->index] = std::move(t);
  return raw;
}

Tracked* ContainerRegistry::track(const std::string& path, uint64_t cgroup_id, const FlightBufferOptions& budget) {
  if (cgroup_id == 0) return nullptr;
  if (Tracked* existing = by_cgroup(cgroup_id)) return existing;
  const uint32_t index = next_index_;
  if (!bpf_.trace_cgroup(cgroup_id, index).ok()) return nullptr;
  ++next_index_;
  FlightBufferOptions b = budget;
  b.owner = index;
  index_by_cgroup_[cgroup_id] = index;
  index_by_path_[path] = index;
  return insert(std::make_unique<Tracked>(index, cgroup_id, path, b, catalogue_));
}

Tracked* ContainerRegistry::add_host(const FlightBufferOptions& budget) {
  const uint32_t index = next_index_++;
  FlightBufferOptions b = budget;
  b.owner = index;
  host_index_ = index;
  Tracked* t = insert(std::make_unique<Tracked>(index, 0, "", b, catalogue_));
  t->identified = true;
  t->host = true;
  return t;
}

void ContainerRegistry::forget(Tracked* t) {
  if (t->cgroup_id != 0) (void)bpf_.untrace_cgroup(t->cgroup_id);
  index_by_cgroup_.erase(t->cgroup_id);
  if (auto it = index_by_path_.find(t->cgroup_path); it != index_by_path_.end() && it->second == t->index)
    index_by_path_.erase(it);
  std::erase(buffers_, &t->buffer);
  if (t->index == host_index_) host_index_ = kNoContainer;
  by_index_.erase(t->index);
}

Tracked* ContainerRegistry::by_index(uint32_t index) const {
  if (index == kNoContainer) return nullptr;
  auto it = by_index_.find(index);
  return it == by_index_.end() ? nullptr : it->second.get();
}

Tracked* ContainerRegistry::by_cgroup(uint64_t cgroup_id) const {
  auto it = index_by_cgroup_.find(cgroup_id);
  return it == index_by_cgroup_.end() ? nullptr : by_index(it->second);
}

Tracked* ContainerRegistry::by_path(const std::string& path) const {
  auto it = index_by_path_.find(path);
  return it == index_by_path_.end() ? nullptr : by_index(it->second);
}

Tracked* ContainerRegistry::by_id(const std::string& id) const {
  for (const auto& [index, t] : by_index_)
    if (t->identified && t->info.id == id) return t.get();
  return nullptr;
}

uint32_t ContainerRegistry::index_of_cgroup(uint64_t cgroup_id) const {
  auto it = index_by_cgroup_.find(cgroup_id);
  return it != index_by_cgroup_.end() ? it->second : host_index_;
}

}  // namespace traceloop::daemon
