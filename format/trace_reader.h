#pragma once
// Streams a .tl file in bounded memory. Defends against hostile input: every
// size is checked against limits before allocating, every frame against its
// checksum, every Cap'n Proto message against traversal limits. Errors are
// one line, meant for the user ("FILE: not a traceloop trace").
// From the first next_batch() on, a thread of the reader's own decompresses
// (and, while the caller is busy, decodes) up to two frames ahead; the reader
// itself is still used from one thread at a time.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "format/event.h"
#include "format/event_batch.h"
#include "format/metadata.h"
#include "format/result.h"

namespace traceloop::format {

class TraceReader {
 public:
  // Opens, checks the preamble and reads the header frame. "-" reads stdin.
  static Result<TraceReader> open(const std::filesystem::path& path, ReaderLimits limits = {});
  TraceReader(TraceReader&&) noexcept;
  TraceReader& operator=(TraceReader&&) noexcept;
  ~TraceReader();

  const TraceMetadata& metadata() const;
  const std::string& file_name() const;

  // The next batch of events; nullptr at the end of the file. A file cut
  // short ends after its last complete frame with a warning; a corrupt frame
  // is an error. The batch (its captures point into the frame) stays valid
  // until the next call.
  Result<const DecodedBatch*> next_batch();

  // For readers that share out a file's events frames (parallel tl-grep: one
  // reader per worker): only the events frames whose index among them is
  // `offset` modulo `stride` are decompressed and returned; the others are
  // read past, their event counts taken from their frame headers (which
  // their owner checks). Call before the first next_batch().
  void share_events_frames(uint32_t stride, uint32_t offset);
  // How many events of the file come before the batch next_batch() last
  // returned, those of the frames passed over included.
  uint64_t events_before_batch() const;
  // For readers that only count or only want what surrounds the events (a
  // directory's listing, tl-show --info): every events frame
  // is passed over, its payload skipped unread (a seek in a regular file),
  // never decompressed; its header's event count is what is known of it.
  // next_batch() then returns nullptr once the process tables and trailer
  // are read. Call before the first next_batch().
  void pass_over_events();
  // Events in the events frames read or passed over so far.
  uint64_t events_so_far() const;

  // Process table and trailer seen so far (complete once next_batch() returned nullptr).
  const std::vector<ProcessInfo>& processes() const;
  const std::optional<Counters>& counters() const;
  const std::vector<std::string>& warnings() const;

  // Records (events, loss markers and task notices in file order) as an input range.
  // Throws FatalError where next_batch() would return an error.
  class RecordIterator;
  struct Sentinel {};
  class RecordRange;
  RecordRange records();

 private:
  struct State;
  explicit TraceReader(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

class TraceReader::RecordIterator {
 public:
  using value_type = Record;
  using difference_type = std::ptrdiff_t;
  using iterator_category = std::input_iterator_tag;

  RecordIterator() = default;
  explicit RecordIterator(TraceReader* reader);
  const Record& operator*() const { return current_; }
  const Record* operator->() const { return &current_; }
  RecordIterator& operator++();
  void operator++(int) { ++*this; }
  friend bool operator==(const RecordIterator& it, Sentinel) { return it.done_; }

 private:
  void advance();
  TraceReader* reader_ = nullptr;
  const DecodedBatch* batch_ = nullptr;
  size_t event_index_ = 0;
  size_t loss_index_ = 0;
  size_t notice_index_ = 0;
  Record current_;
  bool done_ = true;
};

class TraceReader::RecordRange {
 public:
  explicit RecordRange(TraceReader* reader) : reader_(reader) {}
  RecordIterator begin() { return RecordIterator(reader_); }
  Sentinel end() const { return {}; }

 private:
  TraceReader* reader_;
};

// A whole trace in memory (tests, tl-diff on small files). Bounded by
// `max_events`; `on_batch` hears of each batch's events as they are loaded
// (a progress line).
struct LoadedTrace {
  TraceMetadata metadata;
  std::vector<OwnedEvent> events;
  std::vector<std::pair<size_t, LossMarker>> losses;  // shown before events[first]
  std::vector<std::pair<size_t, OwnedTaskNotice>> notices;  // shown before events[first], after its losses
  std::vector<ProcessInfo> processes;
  std::optional<Counters> counters;
  std::vector<std::string> warnings;
};
inline constexpr size_t kMaxLoadedEvents = 50'000'000;
Result<LoadedTrace> load_trace(const std::filesystem::path& path, size_t max_events = kMaxLoadedEvents,
                               const std::function<void(size_t events)>& on_batch = {});

}  // namespace traceloop::format
