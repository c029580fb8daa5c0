#pragma once
// One container's recent history, kept compressed within a byte budget.
//
// Events go into an open batch (raw columns, counted in the budget at their
// raw size), which is sealed into a small zstd frame when it reaches the
// chunk size. Small frames compress worse than big ones, so once the small
// frames hold the merge size they are re-encoded as one big frame. The
// history is thus: big frames (oldest first), small frames, the open batch.
// All frames are exactly the frames of a .tl file. With a MergeWorker in the
// codec, the merge runs on the worker's thread and its result replaces the
// small frames when it comes back (install); without one, in place. When the budget is
// exceeded the oldest frame goes first; its events are counted as
// overwritten and show up as one LossMarker{overwritten} at the start of the
// history when it is written out.
//
// With a journal (history_journal.h), every frame sealed is also written to
// disk as it seals, and the disk drops what the memory drops: a crash loses
// at most the open batch.

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <optional>
#include <span>

#include "format/event.h"
#include "format/event_batch.h"
#include "format/frame.h"
#include "format/frame_merge.h"
#include "format/metadata.h"
#include "format/result.h"
#include "format/zstd_codec.h"
#include "recorder/daemon/history_journal.h"
#include "recorder/daemon/merge_worker.h"

namespace traceloop::daemon {

struct FlightBufferOptions {
  uint64_t budget_bytes = 1u << 20;  // compressed frames + the open batch's columns, as allocated
  // Raw bytes of the open batch before it is sealed into a small frame;
  // 0: budget/32 within [8 KiB, 1 MiB].
  uint32_t chunk_raw_bytes = 0;
  // Raw bytes of small frames merged into one big frame; 0: budget/2 within
  // [64 KiB, 8 MiB]. Bigger frames compress better but are dropped in
  // bigger steps. Not above chunk_raw_bytes: no merging.
  uint32_t merge_raw_bytes = 0;
  uint32_t time_unit_ns = 1;  // event times are floored to it (CaptureSettings::timestamp_resolution_ns)
  uint32_t owner = 0;         // names the buffer in its MergeJobs (the daemon's container index)
};

// Compression state shared by every buffer of one thread: zstd contexts and
// the merger's scratch space are large, buffers are many. With `worker`,
// merges go to its thread; without, they run in the caller's.
struct FlightCodec {
  explicit FlightCodec(int zstd_level, MergeWorker* worker_in = nullptr) : zstd(zstd_level), worker(worker_in) {}
  format::ZstdCompressor zstd;
  format::EventFrameMerger merger;
  MergeWorker* worker;
};

class FlightBuffer {
 public:
  explicit FlightBuffer(FlightBufferOptions options = {});
  FlightBuffer(FlightBuffer&&) noexcept = default;
  FlightBuffer& operator=(FlightBuffer&&) noexcept = default;

  // The event is stored as the file's container 0 (one container per file).
  void add(const format::Event& event, FlightCodec& codec);
  void add_loss(const format::LossMarker& loss);
  void add_notice(const format::TaskNotice& notice);
  // Compresses the open batch into a small frame (snapshots, shutdown).
  void seal(FlightCodec& codec);
  // Drops the oldest sealed frame (total-budget eviction); false when none.
  bool drop_oldest();
  // A merge of this buffer's frames came back from the worker: its frame
  // replaces them if they are all still here (none overwritten meanwhile).
  void install(MergeResult result);

  // From now on the history is kept on disk too. The journal holds the
  // history's events up to journal.events() (numbered as sealed here, those
  // overwritten included); the frames held after those are written at once.
  void keep_on_disk(HistoryJournal journal);
  // The history is published: its journal goes.
  void remove_journal();
  const HistoryJournal* journal() const { return journal_ ? &*journal_ : nullptr; }
  // Events a history resumed from a journal had lost to its budget before
  // its first segment: written out with those this buffer overwrote.
  void set_overwritten_before(uint64_t events, uint64_t at_ns);

  // The memory the history holds: its frames and the open batch's columns,
  // as allocated (not merely as filled).
  uint64_t bytes() const { return sealed_bytes_ + open_bytes_; }
  uint64_t open_bytes() const { return open_bytes_; }
  uint64_t open_events() const { return open_.event_count(); }
  // When the open batch got its first event: a history kept on disk has it
  // sealed once it is old enough, so that what a crash loses is bounded in
  // time as well as in size.
  std::chrono::steady_clock::time_point open_since() const { return open_since_; }
  uint64_t budget() const { return options_.budget_bytes; }
  uint64_t events_held() const { return sealed_events_ + open_.event_count(); }
  uint64_t events_seen() const { return events_seen_; }
  uint64_t overwritten() const { return overwritten_; }  // by this buffer (not those before a resume)
  uint64_t sealed_total() const { return overwritten_ + sealed_events_; }  // events ever sealed
  uint64_t lost() const { return lost_; }
  size_t frame_count() const { return frames_.size(); }

  // Writes the history (sealing the open batch and merging the small frames
  // first, so a snapshot sees everything so far without stopping the
  // recording) as a .tl file: atomic, mode 0600, with `metadata` and the
  // process table. `in_flight`: calls not finished yet (a snapshot's), last.
  Result<void> write(const std::filesystem::path& path, const format::TraceMetadata& metadata,
                     std::span<const format::ProcessInfo> processes, FlightCodec& codec,
                     std::span<const format::OwnedEvent> in_flight = {});

 private:
  void merge_small_frames(FlightCodec& codec);
  void submit_merge(MergeWorker& worker);
  size_t merge_group() const;   // how many of the small frames, oldest first, go into one merge
  void take_small(size_t n);    // they are no longer small (merged, or at the worker)
  void push_frame(format::EncodedFrame frame);
  void enforce_budget();

  FlightBufferOptions options_;
  format::EventBatchBuilder open_;
  uint64_t open_bytes_ = 0;  // open_.memory_bytes(), as of the last add
  std::chrono::steady_clock::time_point open_since_;
  // Big ones, then those at the worker, then the last small_frames_ small
  // ones. Shared with the worker while it merges them.
  std::deque<FramePtr> frames_;
  uint64_t merging_ = 0;  // the serial of our job at the worker; 0: none
  size_t small_frames_ = 0;
  uint64_t small_raw_bytes_ = 0;
  uint64_t sealed_bytes_ = 0;
  uint64_t sealed_events_ = 0;
  uint64_t events_seen_ = 0;
  uint64_t overwritten_ = 0;
  uint64_t lost_ = 0;
  uint64_t first_dropped_ns_ = 0;  // where the overwritten marker is placed
  uint64_t overwritten_before_ = 0;
  std::optional<HistoryJournal> journal_;
};

}  // namespace traceloop::daemon
