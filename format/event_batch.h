#pragma once
// Column encoding of events into one frame (EventBatch in the schema) and the
// decoded, reusable form readers hand out.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "format/event.h"
#include "format/frame.h"
#include "format/result.h"

namespace traceloop::format {

class ZstdCompressor;
namespace detail {
class BatchDecoder;        // the encoding written (event_batch.cpp)
class LegacyBatchDecoder;  // earlier encodings (event_batch_legacy.h)
}  // namespace detail

// A coarser unit than a second would make timestamps useless.
inline constexpr uint32_t kMaxTimeUnitNs = 1'000'000'000;

// Accumulates events and loss markers; finish() compresses them into one
// frame and starts over. Memory is bounded by the caller flushing when
// should_flush() says so.
class EventBatchBuilder {
 public:
  // Times are floored to `time_unit_ns` (1: kept to the ns), see
  // CaptureSettings::timestamp_resolution_ns.
  explicit EventBatchBuilder(uint32_t max_events = 65536, uint32_t max_raw_bytes = 8u << 20,
                             uint32_t time_unit_ns = 1);
  ~EventBatchBuilder();
  EventBatchBuilder(EventBatchBuilder&&) noexcept;
  EventBatchBuilder& operator=(EventBatchBuilder&&) noexcept;

  // Only while empty: a batch counts all its times in one unit.
  void set_time_unit(uint32_t time_unit_ns);
  uint32_t time_unit() const;
  void add(const Event& event);
  void add_loss(const LossMarker& loss);
  // Placed after the events added so far, like a loss. A siginfo longer
  // than TaskNotice::kSiginfoBytes is cut to it.
  void add_notice(const TaskNotice& notice);
  uint32_t event_count() const;
  size_t raw_bytes() const;
  // What the open batch holds in memory: its columns as allocated (growth
  // leaves them up to twice their raw size) and its tables. Walks every
  // column: callers that add millions of events ask now and then.
  size_t memory_bytes() const;
  bool empty() const;
  bool should_flush() const;
  // Encodes, compresses (zstd level of the compressor) and resets the builder.
  EncodedFrame finish(ZstdCompressor& compressor);

 private:
  struct Columns;
  std::unique_ptr<Columns> columns_;
  uint32_t max_events_;
  uint32_t max_raw_bytes_;
};

// An event, a loss marker or a task notice, in file order.
struct Record {
  enum class Kind : uint8_t { event, loss, notice };
  Kind kind = Kind::event;
  Event event;
  LossMarker loss;
  TaskNotice notice;
};

// One frame's events, decoded into columns. Reused from frame to frame so a
// steady-state read allocates nothing. Captured bytes are not copied: they
// point into the message the batch was decoded from.
class DecodedBatch {
 public:
  size_t size() const { return enter_ns_.size(); }
  // Arguments are decoded for the whole batch on the first call: a batch is
  // used by one thread at a time.
  Event event(size_t i) const;
  // The event with its arguments left 0, for aggregations that never look at
  // them (tl-stats): they then cost nothing to decode.
  Event summary(size_t i) const;
  struct PositionedLoss {
    uint32_t before_event;
    LossMarker loss;
  };
  std::span<const PositionedLoss> losses() const { return losses_; }
  struct PositionedNotice {
    uint32_t before_event;
    TaskNotice notice;  // comm and siginfo point into the message
  };
  // In file order; before_event never decreases.
  std::span<const PositionedNotice> notices() const { return notices_; }

  // Direct column access for aggregations that need one or two fields.
  std::span<const uint32_t> syscall_numbers() const { return nr_; }
  std::span<const int64_t> return_values() const { return ret_; }
  std::span<const uint64_t> enter_times() const { return enter_ns_; }
  std::span<const uint64_t> durations() const { return duration_ns_; }  // 0 unless returned
  std::span<const uint32_t> pids() const { return pid_; }
  std::span<const uint32_t> tids() const { return tid_; }
  CallState state(size_t i) const { return static_cast<CallState>(state_[i]); }
  // The unit the batch's times were floored to.
  uint32_t time_unit_ns() const { return time_unit_ns_; }
  uint32_t container(size_t i) const { return container_.empty() ? 0 : container_[i]; }

 private:
  friend Result<void> decode_event_batch(std::string_view message_bytes, DecodedBatch& out,
                                         const ReaderLimits& limits);
  friend class detail::BatchDecoder;
  friend class detail::LegacyBatchDecoder;
  void clear();
  // captures_[i] = view, growing it geometrically (never shrunk: see clear()).
  void add_capture(size_t i, const CaptureView& view) {
    if (i >= captures_.size()) captures_.resize(captures_.size() * 2 + 64);
    captures_[i] = view;
  }

  std::vector<uint64_t> enter_ns_;
  std::vector<uint64_t> duration_ns_;
  std::vector<uint32_t> pid_;
  std::vector<uint32_t> tid_;
  std::vector<uint32_t> cpu_;
  std::vector<uint32_t> nr_;
  std::vector<int64_t> ret_;
  std::vector<uint8_t> state_;
  std::vector<uint8_t> arg_count_;
  void decode_args() const;
  mutable std::vector<uint64_t> args_;  // 6 per event, once decoded
  mutable bool args_pending_ = false;        // the legacy decoder decodes them at once
  std::string_view arg_codes_, arg_values_;  // the message's argCode and args columns
  std::vector<uint32_t> comm_index_;
  std::vector<std::string> comms_;
  std::vector<uint32_t> container_;
  std::vector<uint32_t> capture_begin_;  // per event + 1: index into captures_
  std::vector<CaptureView> captures_;  // bytes point into the message's captureBytes column
  struct CaptureGroup {                // a part of that column, while decoding
    size_t begin = 0, size = 0, used = 0;
  };
  std::vector<CaptureGroup> capture_groups_;  // kept from batch to batch for its memory
  std::vector<PositionedLoss> losses_;
  std::vector<PositionedNotice> notices_;
  uint32_t time_unit_ns_ = 1;
};

// Parses an EventBatch message (decompressed frame payload) into `out`,
// checking every count and length against the message itself. The events'
// captures point into `message_bytes`, which must stay alive and unchanged
// while `out` is used.
Result<void> decode_event_batch(std::string_view message_bytes, DecodedBatch& out, const ReaderLimits& limits);

}  // namespace traceloop::format
