#pragma once
// tl-diff A B: where two traces diverge. Processes are aligned by what they
// ran (the sequence of command names they went through, e.g. sh -> bc) and
// their order of appearance, never by pid; each pair's events are normalised
// (diff_normalise.h) and diffed (diff_algorithm.h).
// Memory stays bounded by the number of events, not their size: a first pass
// streams each file keeping one 8-byte key per event; a second pass reads
// again only the events the report shows (none when the traces are equal).

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "format/event.h"
#include "tools/lib/decoder/decode.h"
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

// The compared events of one process of one trace, in order: only their
// keys. What is shown of them (strace lines, their own numbers, times) is read
// again from the file for the few events a report shows (see run_diff).
struct ProcessStream {
  uint32_t pid = 0;
  std::string program;  // command names it went through: "sh>bc"
  uint64_t first_ns = 0;
  std::vector<uint64_t> keys;  // normalised, hashed (diff_normalise.h)
  uint32_t last_ordinal = 0;  // the process's own number (1-based, every event) of its last compared event
};

// One trace read once, in bounded memory: per event of it, its key alone.
struct TraceStreams {
  std::vector<ProcessStream> streams;  // by first appearance
  uint64_t lost = 0;  // events lost or overwritten, as its loss markers and counters say
  std::vector<std::string> warnings;
};
TraceStreams read_streams(const std::string& path, progress::ProgressSink* progress = nullptr);

// The events a report leaves out: where they fall depends on timing (the
// return from an asynchronous signal handler), not on what the program did.
bool skipped_by_diff(const Decoder& decoder, const format::Event& event);

struct ProcessDiff {
  enum class Status { equal, diverged, only_in_a, only_in_b };
  Status status = Status::equal;
  const ProcessStream* a = nullptr;
  const ProcessStream* b = nullptr;
  std::vector<DiffHunk> hunks;
  size_t change = 0;  // index into a->keys of the first event that differs (diverged)
};

// Aligns and diffs, in A's order of processes then those only in B.
std::vector<ProcessDiff> diff_traces(const std::vector<ProcessStream>& a, const std::vector<ProcessStream>& b,
                                     size_t context);

// Exit status: 0 equal, 1 different, 2 error (one line on `err`).
int run_diff(const DiffOptions& options, std::ostream& out, std::ostream& err);

}  // namespace traceloop::tools
