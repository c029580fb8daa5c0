#pragma once
// tl-diff A B: where two traces diverge. Processes are aligned by what they
// ran (the sequence of command names they went through, e.g. sh -> bc) and
// their order of appearance, never by pid; each pair's events are normalised
// (diff_normalise.h) and diffed (diff_algorithm.h).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "format/trace_reader.h"
#include "tools/lib/analyses/diff_algorithm.h"
#include "tools/progress/progress_sink.h"

namespace traceloop::tools {

enum class DiffFormat { text, json };

struct DiffOptions {
  std::string path_a;
  std::string path_b;
  size_t context = 3;  // events of context around each change (-U)
  size_t string_limit = 32;  // -s of the strace lines shown
  DiffFormat format = DiffFormat::text;
  bool color = false;
  progress::ProgressSink* progress = nullptr;  // events read, for a progress line (null: none shown)
};

// The events of one process of one trace, in order.
struct ProcessStream {
  uint32_t pid = 0;
  std::string program;  // command names it went through: "sh>bc"
  uint64_t first_ns = 0;
  std::vector<size_t> events;  // indices into LoadedTrace::events (events compared)
  std::vector<uint32_t> ordinals;  // 1-based number of each among all the process's events
  std::vector<uint64_t> times;  // exit_ns of each event (enter_ns when it did not return)
  std::vector<uint64_t> keys;  // normalised, hashed
};

std::vector<ProcessStream> process_streams(const format::LoadedTrace& trace);

struct ProcessDiff {
  enum class Status { equal, diverged, only_in_a, only_in_b };
  Status status = Status::equal;
  const ProcessStream* a = nullptr;
  const ProcessStream* b = nullptr;
  std::vector<DiffHunk> hunks;
  size_t diverged_at = 0;  // 1-based event of the process in A (counting every event of it)
  uint64_t diverged_ns = 0;  // when the diverging event completed, since the trace's first event (ordering)
};

// Aligns and diffs; the result is ordered: first divergence first, then
// processes only in one trace, then the equal ones.
std::vector<ProcessDiff> diff_traces(const std::vector<ProcessStream>& a, const std::vector<ProcessStream>& b,
                                     size_t context);

// Exit status: 0 equal, 1 different, 2 error (one line on `err`).
int run_diff(const DiffOptions& options, std::ostream& out, std::ostream& err);

}  // namespace traceloop::tools
