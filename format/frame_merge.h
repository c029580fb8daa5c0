#pragma once
// Re-encodes consecutive events frames as one. A frame's columns compress
// better the longer they are, so a history that had to seal small frames
// (to keep its uncompressed part small) merges them later.

#include <capnp/common.h>

#include <span>
#include <vector>

#include "format/event_batch.h"
#include "format/frame.h"
#include "format/frame_codec.h"
#include "format/result.h"
#include "format/zstd_codec.h"

namespace traceloop::format {

class EventFrameMerger {
 public:
  // `frames` are events frames made by EventBatchBuilder, in order; the
  // result holds their events and loss markers in the same order.
  Result<EncodedFrame> merge(std::span<const EncodedFrame> frames, ZstdCompressor& compressor);

 private:
  Result<void> add_all(std::span<const EncodedFrame> frames);

  // Reused from merge to merge: a steady-state merge allocates little.
  detail::FrameDecompressor decompressor_;
  detail::MessageBuffer message_;
  DecodedBatch batch_;
  EventBatchBuilder builder_{UINT32_MAX, UINT32_MAX};
};

}  // namespace traceloop::format
