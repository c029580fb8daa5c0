#pragma once
// Writes a .tl file. The file appears under its final name only when finish()
// succeeds: it is written to a temporary name in the same directory, fsynced
// and renamed, so a reader never sees a half-written published file.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "format/event.h"
#include "format/event_batch.h"
#include "format/frame.h"
#include "format/metadata.h"
#include "format/result.h"

namespace traceloop::format {

struct WriterOptions {
  mode_t file_mode = 0600;  // traces hold secrets
  int compression_level = 3;
  uint32_t max_events_per_frame = 65536;
  uint32_t max_frame_raw_bytes = 8u << 20;
  // finish() rewrites a trace whose frames hold at most this many raw bytes
  // (0: never) in LZMA2 (trace_compaction.h), with only the catalogue entries
  // its events use: for a recorder whose command has ended, when a second or
  // two at most buy a file half the size. Larger traces are left as written.
  uint64_t compact_max_raw_bytes = 0;
};

class TraceWriter {
 public:
  // Creates the temporary file and writes the preamble and header frame, so
  // an unwritable destination fails here, before any tracing starts.
  static Result<TraceWriter> create(const std::filesystem::path& path, const TraceMetadata& metadata,
                                    WriterOptions options = {});
  TraceWriter(TraceWriter&&) noexcept;
  TraceWriter& operator=(TraceWriter&&) noexcept;
  ~TraceWriter();  // without finish(): the temporary file is removed

  Result<void> append(const Event& event);
  Result<void> append_loss(const LossMarker& loss);
  // A signal delivered or a thread ended, after the events appended so far.
  Result<void> append_notice(const TaskNotice& notice);
  Result<void> append_processes(std::span<const ProcessInfo> processes);
  // A frame made elsewhere (the daemon's in-memory history) — its events and
  // losses are added to the counters.
  Result<void> append_frame(const EncodedFrame& frame);
  // Counters accumulated from what was appended; callers may add to them
  // (lost_per_cpu, overwritten events that never reached the writer).
  Counters& counters();

  // Flushes, writes the trailer, compacts (see WriterOptions), fsyncs, renames
  // into place, fsyncs the directory.
  Result<void> finish();

  const std::filesystem::path& path() const;
  uint64_t bytes_written() const;

 private:
  struct State;
  explicit TraceWriter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The bytes a trace file begins with: preamble and header frame. Frames
// appended after them, with no trailer, make a trace cut short, which readers
// read to its last complete frame (with a warning): what a file written in
// place as events come looks like at any moment, a crash included.
Result<std::string> encode_trace_head(const TraceMetadata& metadata);

}  // namespace traceloop::format
