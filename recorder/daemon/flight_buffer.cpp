#include "recorder/daemon/flight_buffer.h"

#include <algorithm>

#include "format/trace_writer.h"

namespace traceloop::daemon {

namespace {

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
    : options_(options), open_(65536, chunk_bytes(options), options.time_unit_ns) {
  options_.chunk_raw_bytes = chunk_bytes(options);
  options_.merge_raw_bytes = merge_bytes(options);
}

void FlightBuffer::add(const format::Event& event, FlightCodec& codec) {
  format::Event e = event;
  e.container = 0;
  open_.add(e);
  ++events_seen_;
  if (open_.should_flush()) seal(codec);
  // The open batch grows between seals: older frames make room for it.
  while (bytes() > options_.budget_bytes && !frames_.empty()) drop_oldest();
}

void FlightBuffer::add_loss(const format::LossMarker& loss) {
  format::LossMarker l = loss;
  l.container = 0;
  open_.add_loss(l);
  lost_ += loss.lost;
}

void FlightBuffer::seal(FlightCodec& codec) {
  if (open_.empty()) return;
  format::EncodedFrame frame = open_.finish(codec.zstd);
  sealed_bytes_ += frame.bytes.size();
  sealed_events_ += frame.event_count;
  small_raw_bytes_ += frame.raw_size;
  ++small_frames_;
  frames_.push_back(std::move(frame));
  if (small_raw_bytes_ >= options_.merge_raw_bytes) merge_small_frames(codec);
  enforce_budget();
}

void FlightBuffer::merge_small_frames(FlightCodec& codec) {
  if (small_frames_ < 2) {
    small_frames_ = 0;
    small_raw_bytes_ = 0;
    return;
  }
  const auto first = frames_.end() - static_cast<std::ptrdiff_t>(small_frames_);
  std::vector<format::EncodedFrame> small(std::make_move_iterator(first), std::make_move_iterator(frames_.end()));
  frames_.erase(first, frames_.end());
  auto merged = codec.merger.merge(small, codec.zstd);
  small_frames_ = 0;
  small_raw_bytes_ = 0;
  if (!merged.ok()) {
    // Our own frames always decode; should one not, keep it as it is rather
    // than lose history.
    for (auto& f : small) frames_.push_back(std::move(f));
    return;
  }
  for (const auto& f : small) sealed_bytes_ -= f.bytes.size();
  sealed_bytes_ += merged->bytes.size();
  frames_.push_back(std::move(*merged));
}

bool FlightBuffer::drop_oldest() {
  if (frames_.empty()) return false;
  const format::EncodedFrame& oldest = frames_.front();
  sealed_bytes_ -= oldest.bytes.size();
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
  return true;
}

void FlightBuffer::enforce_budget() {
  // The newest frame always stays: a budget smaller than one frame still
  // keeps the most recent events rather than nothing.
  while (bytes() > options_.budget_bytes && frames_.size() > 1) drop_oldest();
}

Result<void> FlightBuffer::write(const std::filesystem::path& path, const format::TraceMetadata& metadata,
                                 std::span<const format::ProcessInfo> processes, FlightCodec& codec) {
  seal(codec);
  merge_small_frames(codec);
  enforce_budget();
  auto writer = format::TraceWriter::create(path, metadata);
  if (!writer.ok()) return writer.error();
  if (overwritten_ > 0) {
    format::EventBatchBuilder marker(1, 4096);
    format::LossMarker loss;
    loss.overwritten = overwritten_;
    loss.at_ns = first_dropped_ns_;
    marker.add_loss(loss);
    if (auto r = writer->append_frame(marker.finish(codec.zstd)); !r.ok()) return r;
  }
  for (const auto& frame : frames_)
    if (auto r = writer->append_frame(frame); !r.ok()) return r;
  if (!processes.empty())
    if (auto r = writer->append_processes(processes); !r.ok()) return r;
  return writer->finish();
}

}  // namespace traceloop::daemon
