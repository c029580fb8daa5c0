#pragma once
// The cgroups the daemon traces, each with its history: a container once its
// runtime's state names it, provisional before. One entry per cgroup, found
// by BPF index (the events' container), by cgroup id and by cgroup path; the
// BPF traced set always holds exactly the registry's cgroups.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "format/catalogue.h"
#include "format/metadata.h"
#include "recorder/bpf_recorder.h"
#include "recorder/daemon/flight_buffer.h"
#include "recorder/process_tracker.h"

namespace traceloop::daemon {

// The BPF index of events that belong to no entry (an untraced cgroup).
inline constexpr uint32_t kNoContainer = 0xffffffffu;

struct Tracked {
  Tracked(uint32_t index_in, uint64_t cgroup_id_in, std::string cgroup_path_in, FlightBufferOptions budget,
          const format::Catalogue& catalogue)
      : index(index_in), cgroup_id(cgroup_id_in), cgroup_path(std::move(cgroup_path_in)), buffer(budget),
        processes(catalogue) {}
  uint32_t index;
  uint64_t cgroup_id;
  std::string cgroup_path;
  bool identified = false;
  bool host = false;
  // Identified without a runtime that knows it (its processes live in a
  // mount namespace of their own): recorded, and listed as such.
  bool unidentified_container = false;
  format::ContainerInfo info;
  // The fds its processes held when its recording began (empty for a
  // container whose processes all started under the recording).
  std::vector<format::FdSnapshot> fd_snapshots;
  FlightBuffer buffer;
  recorder::ProcessTracker processes;
  // Of the events `processes` observed: how many came before `buffer`'s
  // first (those of an earlier, published history), and how many it has
  // been told are gone.
  uint64_t events_before_buffer = 0;
  uint64_t events_forgotten = 0;
  // processes.memory_bytes(), its fd snapshots', its journal's and this entry, as of the last tick
  uint64_t table_bytes = 0;
  uint64_t seen_at_tick = 0;  // buffer.events_seen() then
  std::chrono::steady_clock::time_point noticed = std::chrono::steady_clock::now();
};

class ContainerRegistry {
 public:
  ContainerRegistry(recorder::BpfRecorder& bpf, const format::Catalogue& catalogue)
      : bpf_(bpf), catalogue_(catalogue) {}

  // Traces the cgroup (nothing when id is 0 or the BPF set is full: the
  // map's size is the daemon's bound on cgroups, better than failing the
  // others); the existing entry when it is traced already.
  Tracked* track(const std::string& path, uint64_t cgroup_id, const FlightBufferOptions& budget);
  // An entry for the processes outside containers (--host): no cgroup of its own.
  Tracked* add_host(const FlightBufferOptions& budget);
  // Untraces and drops the entry (t dies here).
  void forget(Tracked* t);

  Tracked* by_index(uint32_t index) const;
  Tracked* by_cgroup(uint64_t cgroup_id) const;
  Tracked* by_path(const std::string& path) const;
  // The live container with this id (identified entries only).
  Tracked* by_id(const std::string& id) const;
  // The BPF index of a cgroup's events: its entry's, else the host entry's.
  uint32_t index_of_cgroup(uint64_t cgroup_id) const;
  uint32_t next_index() const { return next_index_; }

  const std::unordered_map<uint32_t, std::unique_ptr<Tracked>>& entries() const { return by_index_; }
  // The histories' buffers, for the total budget.
  std::vector<FlightBuffer*>& buffers() { return buffers_; }
  size_t traced_cgroups() const { return index_by_cgroup_.size(); }

 private:
  Tracked* insert(std::unique_ptr<Tracked> t);

  recorder::BpfRecorder& bpf_;
  const format::Catalogue& catalogue_;
  uint32_t next_index_ = 0;
  std::unordered_map<uint32_t, std::unique_ptr<Tracked>> by_index_;
  std::unordered_map<uint64_t, uint32_t> index_by_cgroup_;
  std::unordered_map<std::string, uint32_t> index_by_path_;
  std::vector<FlightBuffer*> buffers_;
  uint32_t host_index_ = kNoContainer;
};

}  // namespace traceloop::daemon
