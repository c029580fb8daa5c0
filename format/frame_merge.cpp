#include "format/frame_merge.h"

#include "format/frame_codec.h"

namespace traceloop::format {

Result<EncodedFrame> EventFrameMerger::merge(std::span<const EncodedFrame> frames, ZstdCompressor& compressor) {
  if (auto r = add_all(frames); !r) {
    builder_ = EventBatchBuilder(UINT32_MAX, UINT32_MAX);  // the next merge must not start half full
    return r.error();
  }
  return builder_.finish(compressor);
}

Result<void> EventFrameMerger::add_all(std::span<const EncodedFrame> frames) {
  for (const EncodedFrame& frame : frames) {
    if (frame.type != FrameType::events) return Error{"merge: not an events frame"};
    auto message = detail::decompress_frame(frame.bytes, decompressor_, message_);
    if (!message) return Error{"merge: " + message.error().message};
    if (auto r = decode_event_batch(*message, batch_, ReaderLimits{}); !r) return r.error();
    // One unit for the merged frame: a finer frame's times would be floored.
    if (batch_.size() > 0) {
      if (builder_.event_count() == 0) builder_.set_time_unit(batch_.time_unit_ns());
      if (batch_.time_unit_ns() != builder_.time_unit()) return Error{"merge: frames of different time units"};
    }
    auto losses = batch_.losses();
    auto notices = batch_.notices();
    size_t next_loss = 0, next_notice = 0;
    auto add_before = [&](size_t i) {
      for (; next_loss < losses.size() && losses[next_loss].before_event <= i; ++next_loss)
        builder_.add_loss(losses[next_loss].loss);
      for (; next_notice < notices.size() && notices[next_notice].before_event <= i; ++next_notice)
        builder_.add_notice(notices[next_notice].notice);
    };
    for (size_t i = 0; i < batch_.size(); ++i) {
      add_before(i);
      builder_.add(batch_.event(i));
    }
    add_before(batch_.size());
  }
  return {};
}

}  // namespace traceloop::format
