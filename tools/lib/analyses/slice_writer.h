#pragma once
// The slice behind `tl-grep -o OUT.tl`: selected events of one trace written
// as a new, valid trace with the source's metadata and catalogue (mode
// "slice"), the process-table entries of the processes it contains, and
// optionally without captured data (a slice attached to a bug report should
// not leak the secrets that buffers hold).

#include <filesystem>
#include <optional>
#include <unordered_set>
#include <vector>

#include "format/event.h"
#include "format/metadata.h"
#include "format/result.h"
#include "format/trace_writer.h"

namespace traceloop::tools {

struct SliceOptions {
  // Drop every capture except path strings: buffers, structures, argv,
  // socket addresses; and the process table's arguments after argv[0]. Paths
  // stay (they are what a reader needs to follow the story and rarely a secret).
  bool strip_data = false;
};

class SliceWriter {
 public:
  static Result<SliceWriter> create(const std::filesystem::path& path, const format::TraceMetadata& source,
                                    SliceOptions options = {});

  Result<void> add(const format::Event& event);
  // A signal delivered or a thread ended, in its place among the events:
  // kept when its process already has a call in the slice (so a slice keeps
  // the crash and the end of the processes it shows; a notice of a process
  // before its first selected call is left out, as that call's past is).
  Result<void> add_notice(const format::TaskNotice& notice);
  // Keeps the entries of `processes` whose pid has an event in the slice, then publishes the file.
  Result<void> finish(const std::vector<format::ProcessInfo>& processes);
  uint64_t events() const { return events_; }
  uint64_t notices() const { return notices_; }

 private:
  SliceWriter(format::TraceWriter writer, format::TraceMetadata metadata, SliceOptions options);

  format::TraceWriter writer_;
  format::TraceMetadata metadata_;
  SliceOptions options_;
  std::unordered_set<uint32_t> pids_;
  std::vector<format::CaptureView> kept_;  // reused per event
  uint64_t events_ = 0;
  uint64_t notices_ = 0;
};

// The metadata of a slice of `source` (exposed for tests).
format::TraceMetadata slice_metadata(const format::TraceMetadata& source, const SliceOptions& options);

}  // namespace traceloop::tools
