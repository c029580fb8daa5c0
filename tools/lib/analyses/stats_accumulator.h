#pragma once
// Aggregates the events of one or more traces for tl-stats: per syscall (the
// strace -c table), per process, per container, errors by errno, paths,
// log2 latency histograms. Reads the decoded columns of each batch and never
// renders; after warm-up (one entry per distinct syscall, process, path) it
// allocates nothing per event.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "format/event_batch.h"
#include "format/metadata.h"
#include "tools/lib/decoder/filter.h"
#include "tools/lib/analyses/stats_path_counter.h"

namespace traceloop::tools {

class FdTracker;
class NoticeFilter;

struct SyscallTotals {
  uint64_t calls = 0;
  uint64_t errors = 0;
  uint64_t timed_calls = 0;  // calls that returned (have a duration)
  uint64_t total_ns = 0;
  uint64_t min_ns = UINT64_MAX;
  uint64_t max_ns = 0;
};

// log2 buckets of a latency in microseconds, like bcc's funclatency: bucket 0
// holds 0..1 us, bucket k holds 2^k .. 2^(k+1)-1 us.
struct LatencyHistogram {
  std::array<uint64_t, 64> buckets{};
  uint64_t count = 0;
  void add(uint64_t duration_ns);
};

struct ProcessTotals {
  uint32_t pid = 0;
  std::string comm;  // last comm seen (after exec)
  std::string container;
  SyscallTotals totals;
  uint64_t first_ns = 0;
};

struct ContainerTotals {
  std::string id;
  std::string name;  // container name, else pod/container, else id
  SyscallTotals totals;
  uint64_t processes = 0;
};

struct PathCount {
  std::string path;
  uint64_t count = 0;
};


class StatsAccumulator {
 public:
  // Histograms are kept for these syscall names (resolved per file, since
  // numbers differ between architectures).
  explicit StatsAccumulator(std::vector<std::string> histogram_syscalls = {});

  // Call once per file before its batches.
  void begin_file(const format::TraceMetadata& metadata);
  // `filter` (optional): only the events it matches count (losses always do).
  // `fds` (with a filter, for -P): fed every event and loss before the
  // filter looks at the event.
  void add_batch(const format::DecodedBatch& batch, EventFilter* filter = nullptr, FdTracker* fds = nullptr);
  // The batch's task notices: signals delivered, and processes' ends (the
  // last thread of a group). `filter` (optional): only those it matches count.
  void add_notices(const format::DecodedBatch& batch, NoticeFilter* filter = nullptr);
  // Call once per file after its last batch, with what the trailer said.
  void end_file(const std::optional<format::Counters>& counters);

  // Results, keyed by syscall name so files of different architectures merge.
  const std::map<std::string, SyscallTotals>& syscalls() const { return syscalls_; }
  SyscallTotals total() const;
  // (syscall name, errno) -> count
  const std::map<std::pair<std::string, int>, uint64_t>& errors() const { return errors_; }
  std::vector<ProcessTotals> processes() const;  // in order of first event
  std::vector<ContainerTotals> containers() const;
  std::vector<PathCount> top_opened(size_t n) const;
  std::vector<PathCount> top_failed(size_t n) const;
  const std::map<std::string, LatencyHistogram>& histograms() const { return histograms_; }
  // Signal number -> deliveries (the numbers of x86_64 and aarch64 are the same).
  const std::map<int32_t, uint64_t>& signals() const { return signals_; }
  // A process's wait(2) status (its last thread's end) -> processes that ended so.
  const std::map<int32_t, uint64_t>& process_ends() const { return process_ends_; }

  uint64_t events() const { return events_; }
  uint64_t lost_markers_lost() const { return marker_lost_; }
  uint64_t lost_markers_overwritten() const { return marker_overwritten_; }
  uint64_t counters_lost() const { return counters_lost_; }
  uint64_t counters_overwritten() const { return counters_overwritten_; }
  uint64_t loss_markers() const { return loss_markers_; }
  // Boot-time span of the events and its wall-clock equivalent (0 when no events).
  uint64_t first_ns() const { return first_ns_; }
  uint64_t last_ns() const { return last_ns_; }
  int64_t first_wall_ns() const { return first_wall_ns_; }
  int64_t last_wall_ns() const { return last_wall_ns_; }
  size_t files() const { return files_; }

 private:
  // Per syscall number of the current file: what to do with an event of it.
  struct NrInfo {
    int32_t totals_index = -1;  // into per_nr_totals_
    int8_t path_arg = -1;       // first path parameter, if any
    bool opens = false;         // open, openat, openat2, creat
    int32_t histogram = -1;     // into file_histograms_
  };
  struct ProcessSlot {
    ProcessTotals totals;
    size_t file = 0;
    size_t container = 0;  // index into the file's containers (last: none)
  };
  void merge_file();
  NrInfo& info_for(uint32_t nr);

  std::vector<std::string> histogram_names_;

  // Current file.
  const format::TraceMetadata* metadata_ = nullptr;
  std::vector<NrInfo> nr_info_;
  std::vector<uint8_t> nr_known_;
  std::vector<SyscallTotals> per_nr_totals_;
  std::vector<uint32_t> per_nr_numbers_;
  std::unordered_map<uint64_t, uint64_t> file_errors_;  // nr << 32 | errno
  std::vector<LatencyHistogram> file_histograms_;
  std::vector<std::string> file_histogram_names_;
  std::vector<SyscallTotals> file_container_totals_;
  std::vector<uint64_t> file_container_processes_;
  uint64_t file_boot_to_wall_ = 0;

  // Merged results.
  std::map<std::string, SyscallTotals> syscalls_;
  std::map<std::pair<std::string, int>, uint64_t> errors_;
  std::map<std::string, LatencyHistogram> histograms_;
  std::map<int32_t, uint64_t> signals_;
  std::map<int32_t, uint64_t> process_ends_;
  std::unordered_map<uint64_t, size_t> process_index_;  // file << 32 | pid -> processes_
  std::vector<ProcessSlot> processes_;
  std::map<std::string, ContainerTotals> containers_;
  PathCounter opened_;
  PathCounter failed_;
  uint64_t events_ = 0;
  uint64_t marker_lost_ = 0;
  uint64_t marker_overwritten_ = 0;
  uint64_t loss_markers_ = 0;
  uint64_t counters_lost_ = 0;
  uint64_t counters_overwritten_ = 0;
  uint64_t first_ns_ = 0;
  uint64_t last_ns_ = 0;
  int64_t first_wall_ns_ = 0;
  int64_t last_wall_ns_ = 0;
  uint64_t file_first_ns_ = UINT64_MAX;
  uint64_t file_last_ns_ = 0;
  size_t files_ = 0;
};

// Inline: called several times per event in the aggregation loop.
inline void add_to(SyscallTotals& into, const SyscallTotals& from) {
  into.calls += from.calls;
  into.errors += from.errors;
  into.timed_calls += from.timed_calls;
  into.total_ns += from.total_ns;
  into.min_ns = from.min_ns < into.min_ns ? from.min_ns : into.min_ns;
  into.max_ns = from.max_ns > into.max_ns ? from.max_ns : into.max_ns;
}

}  // namespace traceloop::tools
