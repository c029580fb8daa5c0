#include "format/frame_merge.h"

#include "format/frame_codec.h"

namespace traceloop::format {

Result<EncodedFrame> EventFrameMerger::merge(std::span<const EncodedFrame> frames, ZstdCompressor& compressor) {
  for (const EncodedFrame& frame : frames) {
    if (frame.type != FrameType::events || frame.bytes.size() < kFrameHeaderBytes)
      return Error{"merge: not an events frame"};
    const detail::FrameHeader h = detail::parse_frame_header(frame.bytes.data());
    if (h.raw_size > kMaxFrameRawBytes || h.raw_size % sizeof(capnp::word) != 0)
      return Error{"merge: bad frame size"};
    message_.resize(h.raw_size / sizeof(capnp::word));
    char* raw = reinterpret_cast<char*>(message_.data());
    if (auto r = decompressor_.decompress(std::string_view(frame.bytes).substr(kFrameHeaderBytes), raw, h.raw_size);
        !r)
      return r.error();
    if (auto r = decode_event_batch(std::string_view(raw, h.raw_size), batch_, ReaderLimits{}); !r) return r.error();
    auto losses = batch_.losses();
    size_t next_loss = 0;
    for (size_t i = 0; i < batch_.size(); ++i) {
      for (; next_loss < losses.size() && losses[next_loss].before_event <= i; ++next_loss)
        builder_.add_loss(losses[next_loss].loss);
      builder_.add(batch_.event(i));
    }
    for (; next_loss < losses.size(); ++next_loss) builder_.add_loss(losses[next_loss].loss);
  }
  return builder_.finish(compressor);
}

}  // namespace traceloop::format
