#include "tools/lib/analyses/stats_accumulator.h"

#include <algorithm>
#include <bit>

#include "tools/lib/decoder/fd_tracker.h"
#include "tools/lib/decoder/notice_filter.h"

namespace traceloop::tools {

namespace {

bool is_open_like(std::string_view name) {
  return name == "open" || name == "openat" || name == "openat2" || name == "creat";
}

std::string container_label(const format::ContainerInfo& c) {
  if (!c.name.empty()) return c.name;
  if (!c.pod_name.empty() || !c.container_name.empty()) return c.pod_name + "/" + c.container_name;
  return c.id;
}

// Paths are captured with their NUL when it fitted: it is not part of the name.
// The kernel copies a path up to its first NUL, so only the last byte can be one.
std::string_view path_text(std::string_view bytes) {
  if (!bytes.empty() && bytes.back() == '\0') bytes.remove_suffix(1);
  return bytes;
}

std::vector<PathCount> top(const PathCounter& counts, size_t n) {
  std::vector<PathCount> all;
  all.reserve(counts.size());
  for (size_t i = 0; i < counts.size(); ++i) all.push_back({std::string(counts.path(i)), counts.count(i)});
  std::sort(all.begin(), all.end(), [](const PathCount& a, const PathCount& b) {
    return a.count != b.count ? a.count > b.count : a.path < b.path;
  });
  if (all.size() > n) all.resize(n);
  return all;
}

}  // namespace

void LatencyHistogram::add(uint64_t duration_ns) {
  const uint64_t usecs = duration_ns / 1000;
  // bit_width(0) = 0 and bit_width(1) = 1 both belong to bucket 0 (0 -> 1 us).
  const int width = std::bit_width(usecs);
  buckets[static_cast<size_t>(width > 0 ? width - 1 : 0)]++;
  count++;
}

StatsAccumulator::StatsAccumulator(std::vector<std::string> histogram_syscalls)
    : histogram_names_(std::move(histogram_syscalls)) {}

void StatsAccumulator::begin_file(const format::TraceMetadata& metadata) {
  metadata_ = &metadata;
  nr_info_.clear();
  nr_known_.clear();
  per_nr_totals_.clear();
  per_nr_numbers_.clear();
  file_errors_.clear();
  file_histograms_.clear();
  file_histogram_names_.clear();
  for (const auto& name : histogram_names_) {
    if (metadata.catalogue.find(name) == nullptr) continue;
    file_histogram_names_.push_back(name);
    file_histograms_.emplace_back();
  }
  file_container_totals_.assign(metadata.containers.size() + 1, SyscallTotals{});
  file_container_processes_.assign(metadata.containers.size() + 1, 0);
  file_boot_to_wall_ = static_cast<uint64_t>(metadata.boot_to_wall_ns);
  file_first_ns_ = UINT64_MAX;
  file_last_ns_ = 0;
}

StatsAccumulator::NrInfo& StatsAccumulator::info_for(uint32_t nr) {
  if (nr >= nr_info_.size()) {
    nr_info_.resize(nr + 1);
    nr_known_.resize(nr + 1, 0);
  }
  NrInfo& info = nr_info_[nr];
  if (nr_known_[nr]) return info;
  nr_known_[nr] = 1;
  info.totals_index = static_cast<int32_t>(per_nr_totals_.size());
  per_nr_totals_.emplace_back();
  per_nr_numbers_.push_back(nr);
  if (const format::SyscallSpec* spec = metadata_->catalogue.find(nr)) {
    for (size_t p = 0; p < spec->params.size() && p < 6; ++p) {
      if (spec->params[p].kind == format::ArgKind::path) {
        info.path_arg = static_cast<int8_t>(p);
        break;
      }
    }
    info.opens = is_open_like(spec->name);
    for (size_t h = 0; h < file_histogram_names_.size(); ++h)
      if (file_histogram_names_[h] == spec->name) info.histogram = static_cast<int32_t>(h);
  }
  return info;
}

void StatsAccumulator::add_batch(const format::DecodedBatch& batch, EventFilter* filter, FdTracker* fds) {
  if (filter && filter->accepts_all()) filter = nullptr;
  if (!filter) fds = nullptr;
  const auto losses = batch.losses();
  size_t loss_index = 0;
  for (const auto& positioned : batch.losses()) {
    loss_markers_++;
    marker_lost_ += positioned.loss.lost;
    marker_overwritten_ += positioned.loss.overwritten;
  }
  const size_t container_slots = file_container_totals_.size();
  uint64_t cached_key = UINT64_MAX;
  size_t cached_slot = 0;
  // Comms of a batch are views into its comm table: same data pointer, same
  // comm. Valid within this batch only (the table is reused by the next one).
  const char* cached_comm = nullptr;
  for (size_t i = 0; i < batch.size(); ++i) {
    // A filter may look at arguments (-P): then they are decoded.
    const format::Event e = filter ? batch.event(i) : batch.summary(i);
    if (fds) {
      for (; loss_index < losses.size() && losses[loss_index].before_event <= i; ++loss_index) fds->loss();
      fds->look_at(e);
    }
    if (filter && !filter->matches(e)) continue;
    events_++;
    NrInfo& info = info_for(e.nr);
    SyscallTotals& totals = per_nr_totals_[static_cast<size_t>(info.totals_index)];
    const bool returned = e.state == format::CallState::returned;
    const uint64_t duration = e.duration_ns();
    const bool failed = e.failed();

    SyscallTotals delta;
    delta.calls = 1;
    delta.errors = failed ? 1 : 0;
    if (returned) {
      delta.timed_calls = 1;
      delta.total_ns = duration;
      delta.min_ns = duration;
      delta.max_ns = duration;
    }
    add_to(totals, delta);


    const uint64_t key = (static_cast<uint64_t>(files_) << 32) | e.pid;
    if (key != cached_key) {
      auto [it, inserted] = process_index_.try_emplace(key, processes_.size());
      if (inserted) {
        const size_t container = std::min<size_t>(e.container, container_slots - 1);
        ProcessSlot slot;
        slot.totals.pid = e.pid;
        slot.totals.first_ns = e.enter_ns;
        slot.totals.container = container < metadata_->containers.size()
                                    ? container_label(metadata_->containers[container])
                                    : std::string();
        slot.file = files_;
        slot.container = container;
        processes_.push_back(std::move(slot));
      }
      cached_key = key;
      cached_slot = it->second;
      cached_comm = nullptr;
    }
    ProcessTotals& process = processes_[cached_slot].totals;
    if (e.comm.data() != cached_comm) {
      if (process.comm != e.comm) process.comm.assign(e.comm);
      cached_comm = e.comm.data();
    }
    add_to(process.totals, delta);

    if (failed) file_errors_[(static_cast<uint64_t>(e.nr) << 32) | static_cast<uint32_t>(-e.ret)]++;
    if (info.path_arg >= 0) {
      if (const format::CaptureView* capture = e.capture_for(static_cast<unsigned>(info.path_arg))) {
        if (failed) {
          failed_.add(path_text(capture->bytes));
        } else if (info.opens && returned) {
          opened_.add(path_text(capture->bytes));
        }
      }
    }
    if (info.histogram >= 0 && returned) file_histograms_[static_cast<size_t>(info.histogram)].add(duration);

    file_first_ns_ = std::min(file_first_ns_, e.enter_ns);
    file_last_ns_ = std::max(file_last_ns_, returned ? e.exit_ns : e.enter_ns);
  }
}

void StatsAccumulator::add_notices(const format::DecodedBatch& batch, NoticeFilter* filter) {
  for (const auto& positioned : batch.notices()) {
    const format::TaskNotice& notice = positioned.notice;
    if (filter != nullptr) {
      filter->set_origin_once(batch.size() > 0 ? batch.enter_times()[0] : notice.at_ns);
      if (!filter->matches(notice)) continue;
    }
    if (notice.kind == format::TaskNotice::Kind::signal) {
      signals_[notice.signo]++;
    } else if (notice.group_dead) {
      process_ends_[notice.exit_status & 0xffff]++;  // the bits wait(2) defines
    }
  }
}

void StatsAccumulator::end_file(const std::optional<format::Counters>& counters) {
  if (counters) {
    counters_lost_ += counters->events_lost;
    counters_overwritten_ += counters->events_overwritten;
  }
  merge_file();
  files_++;
  metadata_ = nullptr;
}

void StatsAccumulator::merge_file() {
  const format::Catalogue& catalogue = metadata_->catalogue;
  for (size_t k = 0; k < per_nr_totals_.size(); ++k)
    add_to(syscalls_[catalogue.name_of(per_nr_numbers_[k])], per_nr_totals_[k]);
  for (const auto& [key, count] : file_errors_)
    errors_[{catalogue.name_of(static_cast<uint32_t>(key >> 32)), static_cast<int>(key & 0xffffffffu)}] += count;
  for (size_t h = 0; h < file_histograms_.size(); ++h) {
    LatencyHistogram& into = histograms_[file_histogram_names_[h]];
    for (size_t b = 0; b < into.buckets.size(); ++b) into.buckets[b] += file_histograms_[h].buckets[b];
    into.count += file_histograms_[h].count;
  }
  // A process stays in its container: container totals are the sums of their
  // processes', which spares the event loop one more update per event.
  for (const ProcessSlot& slot : processes_) {
    if (slot.file != files_) continue;
    add_to(file_container_totals_[slot.container], slot.totals.totals);
    file_container_processes_[slot.container]++;
  }
  for (size_t c = 0; c < file_container_totals_.size(); ++c) {
    if (file_container_totals_[c].calls == 0) continue;
    const bool known = c < metadata_->containers.size();
    const std::string id = known ? metadata_->containers[c].id : std::string();
    ContainerTotals& into = containers_[id];
    into.id = id;
    into.name = known ? container_label(metadata_->containers[c]) : std::string("(host)");
    add_to(into.totals, file_container_totals_[c]);
    into.processes += file_container_processes_[c];
  }
  if (file_first_ns_ != UINT64_MAX) {
    const int64_t first_wall = static_cast<int64_t>(file_first_ns_ + file_boot_to_wall_);
    const int64_t last_wall = static_cast<int64_t>(file_last_ns_ + file_boot_to_wall_);
    if (first_wall_ns_ == 0 || first_wall < first_wall_ns_) {
      first_wall_ns_ = first_wall;
    }
    last_wall_ns_ = std::max(last_wall_ns_, last_wall);
    if (first_ns_ == 0 && last_ns_ == 0) {
      first_ns_ = file_first_ns_;
      last_ns_ = file_last_ns_;
    } else {
      first_ns_ = std::min(first_ns_, file_first_ns_);
      last_ns_ = std::max(last_ns_, file_last_ns_);
    }
  }
}

SyscallTotals StatsAccumulator::total() const {
  SyscallTotals all;
  for (const auto& [name, totals] : syscalls_) add_to(all, totals);
  return all;
}

std::vector<ProcessTotals> StatsAccumulator::processes() const {
  std::vector<ProcessTotals> out;
  out.reserve(processes_.size());
  for (const auto& slot : processes_) out.push_back(slot.totals);
  std::stable_sort(out.begin(), out.end(),
                   [](const ProcessTotals& a, const ProcessTotals& b) { return a.first_ns < b.first_ns; });
  return out;
}

std::vector<ContainerTotals> StatsAccumulator::containers() const {
  std::vector<ContainerTotals> out;
  for (const auto& [id, totals] : containers_) out.push_back(totals);
  std::sort(out.begin(), out.end(), [](const ContainerTotals& a, const ContainerTotals& b) {
    return a.totals.calls != b.totals.calls ? a.totals.calls > b.totals.calls : a.name < b.name;
  });
  return out;
}

std::vector<PathCount> StatsAccumulator::top_opened(size_t n) const { return top(opened_, n); }
std::vector<PathCount> StatsAccumulator::top_failed(size_t n) const { return top(failed_, n); }

}  // namespace traceloop::tools
