#pragma once
// Column encoding of events into one frame (EventBatch in the schema) and the
// decoded, reusable form readers hand out.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "format/event.h"
#include "format/frame.h"
#include "format/result.h"

namespace capnp {
class MessageBuilder;
}

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
  // The room, in words, finish() builds its message in: the columns with
  // their lists' pointers and padding, and room to spare (never touched when
  // not used). A message that fits it is compressed without a copy.
  size_t message_words() const;
  // Encodes, compresses (zstd level of the compressor) and resets the builder.
  EncodedFrame finish(ZstdCompressor& compressor);

  // The captured bytes stored so far (a capture given as a repeat of an
  // earlier one stores none).
  size_t capture_bytes() const;
  // Those bytes by capture group (the captures of one argument of one
  // syscall), in order of the groups' first captures.
  std::vector<std::string_view> capture_groups() const;
  // For finish_parted(): the captured bytes of the events added since the
  // last call make a part (nothing without events since).
  void end_capture_part();
  // A batch whose captured bytes come in parts (columnEncoding 4): the
  // EventBatch message without them, and a CaptureBytes message per part,
  // serialised and uncompressed (compaction compresses them as one LZMA2
  // stream, see trace_compaction.h).
  struct PartedMessages {
    std::string batch;
    std::vector<std::string> parts;
    uint32_t event_count = 0;
  };
  // Encodes with the parts end_capture_part() ended, the events after the
  // last one making the last part, and resets the builder. A capture group
  // (see capture_groups()) whose entry in `whole_groups` is true is not cut:
  // all of it goes into the part of its first capture.
  PartedMessages finish_parted(const std::vector<bool>& whole_groups = {});

 private:
  struct CapturePart {
    uint32_t events = 0;
    std::vector<size_t> pieces;  // bytes of each group in the part
  };
  std::vector<CapturePart> capture_parts(const std::vector<bool>& whole_groups) const;
  void to_message(capnp::MessageBuilder& message, const std::vector<CapturePart>* parts) const;
  void reset();
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

// The captures frames (format 5) that followed a batch's events frame, for a
// batch whose captured bytes are in them (columnEncoding 4): their messages,
// in file order, and whether the file ended right after them, in which case
// the parts after them are missing from a file cut short, not corrupt.
struct CaptureFrames {
  std::span<const std::string_view> messages;
  bool file_ended = false;
};

// One frame's events, decoded into columns. Reused from frame to frame so a
// steady-state read allocates nothing. Captured bytes are not copied: they
// point into the message the batch was decoded from.
class DecodedBatch {
 public:
  size_t size() const { return enter_ns_.size(); }
  // Arguments are decoded for the whole batch on the first call: a batch is
  // used by one thread at a time. Inline, as summary(): called for every
  // event, and a caller that ignores a field then does not load it.
  Event event(size_t i) const {
    if (args_pending_) [[unlikely]] decode_args();
    Event e = summary(i);
    std::memcpy(e.args.data(), &args_[i * 6], sizeof e.args);
    return e;
  }
  // The event with its arguments left 0, for aggregations that never look at
  // them (tl-stats): they then cost nothing to decode.
  Event summary(size_t i) const {
    Event e;
    e.enter_ns = enter_ns_[i];
    e.state = static_cast<CallState>(state_[i]);
    e.exit_ns = e.state == CallState::returned ? enter_ns_[i] + duration_ns_[i] : 0;
    e.pid = pid_[i];
    e.tid = tid_[i];
    e.cpu = cpu_[i];
    e.nr = nr_[i];
    e.container = container_.empty() ? 0 : container_[i];
    e.arg_count = arg_count_[i];
    e.ret = ret_[i];
    e.comm = comms_[comm_index_[i]];
    e.captures = std::span<const CaptureView>(captures_.data() + capture_begin_[i],
                                              capture_begin_[i + 1] - capture_begin_[i]);
    return e;
  }
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
  // The events from this one on lost their captured data: a file cut short
  // kept the batch's events frame but not all of its captures frames (see
  // CaptureFrames). Their captures are empty, as those of a call whose
  // arguments could not be read, and a reader says so. size() when none did.
  size_t captures_cut_from() const { return captures_cut_from_; }

 private:
  friend Result<void> decode_event_batch(std::string_view message_bytes, DecodedBatch& out,
                                         const ReaderLimits& limits, const CaptureFrames& captures);
  friend class detail::BatchDecoder;
  friend class detail::LegacyBatchDecoder;
  void clear();
  // captures_[i] = view, growing it geometrically (never shrunk: see clear()).
  void add_capture(size_t i, const CaptureView& view) {
    if (i >= captures_.size()) grow_captures(i + 1);
    captures_[i] = view;
  }
  // Makes captures_ hold `size` at least; its data.
  CaptureView* grow_captures(size_t size) {
    captures_.resize(std::max(size, captures_.size() * 2 + 64));
    return captures_.data();
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
  size_t captures_cut_from_ = 0;
  // A parted batch's captured bytes gathered from its captures frames, as
  // captureBytes and captureGroupSizes would hold them: captures_ point here.
  std::string gathered_bytes_, gathered_group_sizes_;
};

// Parses an EventBatch message (decompressed frame payload) into `out`,
// checking every count and length against the message itself and its
// captures frames. The events' captures point into `message_bytes` or into
// `out`: the message must stay alive and unchanged while `out` is used.
Result<void> decode_event_batch(std::string_view message_bytes, DecodedBatch& out, const ReaderLimits& limits,
                                const CaptureFrames& captures = {});

}  // namespace traceloop::format
