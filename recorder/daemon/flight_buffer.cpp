#include "recorder/daemon/flight_buffer.h"

#include <algorithm>
#include <atomic>

#include "format/trace_writer.h"

namespace traceloop::daemon {

namespace {

// A frame's bookkeeping besides its bytes: the shared block and the deque's slot.
constexpr uint64_t kFrameOverhead = 96;

uint32_t chunk_bytes(const FlightBufferOptions& o) {
  if (o.chunk_raw_bytes != 0) return o.chunk_raw_bytes;
  return static_cast<uint32_t>(std::clamp<uint64_t>(o.budget_bytes / 32, 8u << 10, 1u << 20));
}

uint32_t merge_bytes(const FlightBufferOptions& o) {
  if (o.merge_raw_bytes != 0) return o.merge_raw_bytes;
  return static_cast<uint32_t>(std::clamp<uint64_t>(o.budget_bytes / 2, 64u << 10, 8u << 20));
}

}  // namespace

FlightBuffer::FlightBuffer(FlightBufferOptions options)
    : options_(options), open_(65536, chunk_bytes(options), options.time_unit_ns), open_bytes_(open_.memory_bytes()) {
  options_.chunk_raw_bytes = chunk_bytes(options);
  options_.merge_raw_bytes = merge_bytes(options);
}

void FlightBuffer::add(const format::Event& event, FlightCodec& codec) {
  format::Event e = event;
  e.container = 0;
  if (open_.empty()) open_since_ = std::chrono::steady_clock::now();  // once a frame
  open_.add(e);
  // Columns grow by doubling: their memory moves in steps, rarely.
  if ((++events_seen_ & 63) == 0) open_bytes_ = open_.memory_bytes();
  if (open_.should_flush()) seal(codec);
  // The open batch grows between seals: older frames make room for it.
  while (bytes() > options_.budget_bytes && !frames_.empty()) drop_oldest();
}

void FlightBuffer::add_loss(const format::LossMarker& loss) {
  format::LossMarker l = loss;
  l.container = 0;
  open_.add_loss(l);
  open_bytes_ = open_.memory_bytes();
  lost_ += loss.lost;
}

void FlightBuffer::add_notice(const format::TaskNotice& notice) {
  format::TaskNotice n = notice;
  n.container = 0;
  open_.add_notice(n);
  open_bytes_ = open_.memory_bytes();
}

void FlightBuffer::seal(FlightCodec& codec) {
  if (open_.empty()) return;
  push_frame(open_.finish(codec.zstd));
  if (journal_) journal_->append(*frames_.back());
  open_bytes_ = open_.memory_bytes();
  ++small_frames_;
  small_raw_bytes_ += frames_.back()->raw_size;
  if (small_raw_bytes_ >= options_.merge_raw_bytes) {
    if (codec.worker != nullptr) submit_merge(*codec.worker);
    else merge_small_frames(codec);
  }
  enforce_budget();
}

void FlightBuffer::push_frame(format::EncodedFrame frame) {
  // The compressor leaves the bytes' capacity at the compressed size's
  // bound, several times what they take: kept for long, it would be memory
  // the budget does not see.
  frame.bytes.shrink_to_fit();
  sealed_bytes_ += frame.bytes.capacity() + kFrameOverhead;
  sealed_events_ += frame.event_count;
  frames_.push_back(std::make_shared<const format::EncodedFrame>(std::move(frame)));
}

size_t FlightBuffer::merge_group() const {
  // The oldest small frames up to the merge size: a merged frame stays far
  // below the readers' bound on frames however many small ones gathered
  // (a worker that got no CPU for a while).
  const size_t first = frames_.size() - small_frames_;
  size_t n = 0;
  uint64_t raw = 0;
  while (n < small_frames_ && (n < 2 || raw + frames_[first + n]->raw_size <= options_.merge_raw_bytes)) {
    raw += frames_[first + n]->raw_size;
    ++n;
  }
  return n;
}

void FlightBuffer::take_small(size_t n) {
  const size_t first = frames_.size() - small_frames_;
  for (size_t i = 0; i < n; ++i) small_raw_bytes_ -= frames_[first + i]->raw_size;
  small_frames_ -= n;
}

void FlightBuffer::merge_small_frames(FlightCodec& codec) {
  while (small_frames_ >= 2) {
    const size_t n = merge_group();
    const auto first = frames_.end() - static_cast<std::ptrdiff_t>(small_frames_);
    const auto last = first + static_cast<std::ptrdiff_t>(n);
    std::vector<format::EncodedFrame> small;
    small.reserve(n);
    for (auto it = first; it != last; ++it) small.push_back(**it);
    take_small(n);
    auto merged = codec.merger.merge(small, codec.zstd);
    // Our own frames always decode; should one not, keep it as it is rather
    // than lose history.
    if (!merged.ok()) continue;
    for (auto it = first; it != last; ++it) {
      sealed_bytes_ -= (*it)->bytes.capacity() + kFrameOverhead;
      sealed_events_ -= (*it)->event_count;
    }
    merged->bytes.shrink_to_fit();
    sealed_bytes_ += merged->bytes.capacity() + kFrameOverhead;
    sealed_events_ += merged->event_count;
    auto at = frames_.erase(first, last);
    frames_.insert(at, std::make_shared<const format::EncodedFrame>(std::move(*merged)));
  }
  small_frames_ = 0;
  small_raw_bytes_ = 0;
}

void FlightBuffer::submit_merge(MergeWorker& worker) {
  // One job at a time per buffer; meanwhile small frames gather, and go with
  // the next ones.
  if (merging_ != 0 || small_frames_ < 2) return;
  // Serials are unique in the process: a buffer that replaced another (its
  // container's history published) is not told its predecessor's results.
  static std::atomic<uint64_t> serials{0};
  const size_t n = merge_group();
  MergeJob job;
  job.owner = options_.owner;
  job.serial = ++serials;
  const auto first = frames_.end() - static_cast<std::ptrdiff_t>(small_frames_);
  job.frames.assign(first, first + static_cast<std::ptrdiff_t>(n));
  const uint64_t serial = job.serial;
  if (!worker.submit(std::move(job))) return;
  merging_ = serial;
  take_small(n);
}

void FlightBuffer::install(MergeResult result) {
  if (result.serial != merging_) return;
  merging_ = 0;
  if (!result.merged || result.frames.empty()) return;
  auto first = std::find(frames_.begin(), frames_.end(), result.frames.front());
  const auto n = static_cast<std::ptrdiff_t>(result.frames.size());
  if (frames_.end() - first < n || !std::equal(result.frames.begin(), result.frames.end(), first)) return;
  for (auto it = first; it != first + n; ++it) {
    sealed_bytes_ -= (*it)->bytes.capacity() + kFrameOverhead;
    sealed_events_ -= (*it)->event_count;
  }
  result.merged->bytes.shrink_to_fit();
  sealed_bytes_ += result.merged->bytes.capacity() + kFrameOverhead;
  sealed_events_ += result.merged->event_count;
  auto at = frames_.erase(first, first + n);
  frames_.insert(at, std::make_shared<const format::EncodedFrame>(std::move(*result.merged)));
  enforce_budget();
}

bool FlightBuffer::drop_oldest() {
  if (frames_.empty()) return false;
  const format::EncodedFrame& oldest = *frames_.front();
  sealed_bytes_ -= oldest.bytes.capacity() + kFrameOverhead;
  sealed_events_ -= oldest.event_count;
  overwritten_ += oldest.event_count;
  if (small_frames_ == frames_.size()) {
    --small_frames_;
    small_raw_bytes_ -= oldest.raw_size;
  }
  // Ring losses inside the dropped frame are history too: they stay counted
  // in lost_ (the container's total), the marker only carries overwritten.
  first_dropped_ns_ = oldest.last_ns;
  frames_.pop_front();
  if (journal_) journal_->forget_before(overwritten_);
  return true;
}

void FlightBuffer::keep_on_disk(HistoryJournal journal) {
  uint64_t number = overwritten_;
  for (const auto& frame : frames_) {
    if (number >= journal.events()) journal.append(*frame);
    number += frame->event_count;
  }
  journal.forget_before(overwritten_);
  journal_ = std::move(journal);
}

void FlightBuffer::remove_journal() {
  if (!journal_) return;
  journal_->remove();
  journal_.reset();
}

void FlightBuffer::set_overwritten_before(uint64_t events, uint64_t at_ns) {
  overwritten_before_ = events;
  if (overwritten_ == 0) first_dropped_ns_ = at_ns;
}

void FlightBuffer::enforce_budget() {
  // The newest frame always stays: a budget smaller than one frame still
  // keeps the most recent events rather than nothing.
  while (bytes() > options_.budget_bytes && frames_.size() > 1) drop_oldest();
}

Result<void> FlightBuffer::write(const std::filesystem::path& path, const format::TraceMetadata& metadata,
                                 std::span<const format::ProcessInfo> processes, FlightCodec& codec,
                                 std::span<const format::OwnedEvent> in_flight) {
  seal(codec);
  merge_small_frames(codec);
  enforce_budget();
  auto writer = format::TraceWriter::create(path, metadata);
  if (!writer.ok()) return writer.error();
  if (overwritten_ + overwritten_before_ > 0) {
    format::EventBatchBuilder marker(1, 4096);
    format::LossMarker loss;
    loss.overwritten = overwritten_ + overwritten_before_;
    loss.at_ns = first_dropped_ns_;
    marker.add_loss(loss);
    if (auto r = writer->append_frame(marker.finish(codec.zstd)); !r.ok()) return r;
  }
  for (const auto& frame : frames_)
    if (auto r = writer->append_frame(*frame); !r.ok()) return r;
  for (const auto& e : in_flight)
    if (auto r = writer->append(e.view()); !r.ok()) return r;
  if (!processes.empty())
    if (auto r = writer->append_processes(processes); !r.ok()) return r;
  return writer->finish();
}

}  // namespace traceloop::daemon
