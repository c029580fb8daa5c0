#pragma once
// tl-stats: summaries of one or more traces (strace -c and more).

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tools/lib/analyses/stats_accumulator.h"
#include "tools/lib/decoder/filter.h"
#include "tools/progress/progress_sink.h"

namespace traceloop::tools {

enum class StatsSortKey { time, seconds, usecs_per_call, calls, errors, syscall };
// "time" (% time, default), "seconds", "usecs" (usecs/call), "calls", "errors", "syscall" (also "name").
std::optional<StatsSortKey> stats_sort_key_from_name(std::string_view name);

enum class StatsFormat { text, json };

struct StatsOptions {
  std::vector<std::string> paths;
  StatsSortKey sort = StatsSortKey::time;
  bool per_process = false;
  bool per_container = false;
  std::vector<std::string> histograms;  // syscall names
  size_t top_paths = 10;
  StatsFormat format = StatsFormat::text;
  FilterOptions filter;  // tl-show's filters: only the calls they select are counted
  progress::ProgressSink* progress = nullptr;  // events read, for a progress line (null: none shown)
};

// The report of an accumulator (exposed for tests).
void write_stats_text(std::ostream& out, const StatsAccumulator& stats, const StatsOptions& options);
void write_stats_json(std::ostream& out, const StatsAccumulator& stats, const StatsOptions& options);

// Exit status: 0 ok, 2 error (one line on `err`).
int run_stats(const StatsOptions& options, std::ostream& out, std::ostream& err);

}  // namespace traceloop::tools
