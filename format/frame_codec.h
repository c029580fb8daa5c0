#pragma once
// Frame headers and Cap'n Proto message (de)serialisation. Internal to format/.

#include <capnp/message.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/frame.h"
#include "format/lzma_codec.h"
#include "format/result.h"
#include "format/zstd_codec.h"

namespace traceloop::format::detail {

struct FrameHeader {
  uint8_t type = 0;
  uint8_t codec = 0;  // FrameCodec, once frame_header_problem() accepted it
  uint32_t compressed_size = 0;
  uint32_t raw_size = 0;
  uint32_t event_count = 0;
};

void write_frame_header(char* out, FrameType type, FrameCodec codec, uint32_t compressed_size, uint32_t raw_size,
                        uint32_t event_count);
FrameHeader parse_frame_header(const char* in);
// Why the frame header `in` (kFrameHeaderBytes) must not be trusted under
// `limits` (checked before any allocation), or an empty string.
std::string frame_header_problem(const char* in, const ReaderLimits& limits);

std::string make_preamble(uint16_t major, uint16_t minor);

// A message built where it is compressed from. Its first segment starts one
// word into a zeroed buffer of its own, so a message that fits there is, once
// its segment table (one word for one segment) is written in front, its own
// serialised form: no flat copy of a merged frame's megabytes beside it.
// `words_hint`: the expected size; more costs only address space (a large
// buffer is fresh zero pages, resident once written). A message that
// outgrows it gets more segments and is serialised by a copy.
class FrameMessage {
 public:
  explicit FrameMessage(size_t words_hint);
  FrameMessage(const FrameMessage&) = delete;
  FrameMessage& operator=(const FrameMessage&) = delete;
  ~FrameMessage();

  capnp::MessageBuilder& builder();
  // The serialised message, valid while this lives; call once, when built.
  std::string_view serialised();
  // Whether serialised() needed no copy (the message fit its first segment).
  bool in_place() const { return in_place_; }

 private:
  struct Free {
    void operator()(capnp::word* p) const;
  };
  std::unique_ptr<capnp::word[], Free> buffer_;
  size_t words_;
  std::unique_ptr<capnp::MallocMessageBuilder> builder_;  // after buffer_: gone before it
  kj::Array<capnp::word> flat_;
  bool in_place_ = false;
};

// Serialises, compresses and frames one message.
void encode_frame(FrameType type, FrameMessage& message, uint32_t event_count, ZstdCompressor& compressor,
                  EncodedFrame& frame);
// Compresses and frames a serialised message.
void encode_raw_frame(FrameType type, std::string_view message, uint32_t event_count, ZstdCompressor& compressor,
                      EncodedFrame& frame);
// For a file written once and kept (compaction): in LZMA2, which beats zstd's
// strongest level on event columns, in size and time (trace_compaction.h).
// Small messages (a trailer, a process table) are tried in zstd too and the
// smaller is kept.
void encode_compact_frame(FrameType type, std::string_view message, uint32_t event_count, EncodedFrame& frame);
// The next frame of an LZMA2 stream (codec 2): a compacted trace's events
// frame, which starts one, and its captures frames.
void encode_stream_frame(FrameType type, std::string_view message, uint32_t event_count, LzmaStreamEncoder& encoder,
                         EncodedFrame& frame);

// Word-aligned storage for a decompressed message. Unlike a vector it
// neither zero-fills nor copies the old contents when it grows: zstd
// overwrites every byte, or the frame is an error and never read. Frames
// vary a little in size, so it grows with some room to spare.
class MessageBuffer {
 public:
  void resize_for_overwrite(size_t words) {
    if (words > capacity_) {
      capacity_ = words + words / 8;
      words_ = std::make_unique_for_overwrite<capnp::word[]>(capacity_);
    }
    size_ = words;
  }
  capnp::word* data() { return words_.get(); }
  const capnp::word* data() const { return words_.get(); }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<capnp::word[]> words_;
  size_t capacity_ = 0;
  size_t size_ = 0;
};

// Decompresses frame payloads of any codec; reused from frame to frame of
// one file, in file order (codec 2 frames continue each other).
class FrameDecompressor {
 public:
  // Exactly h.raw_size bytes into `out`; `h` passed frame_header_problem().
  Result<void> decompress(const FrameHeader& h, std::string_view payload, char* out);

 private:
  ZstdDecompressor zstd_;
  LzmaStreamDecoder lzma_stream_;
};

// The message of a whole frame (header and payload) this library wrote,
// decompressed into `words` (word aligned for Cap'n Proto); the view is into
// `words`. Sizes are checked against the writers' limits.
Result<std::string_view> decompress_frame(std::string_view frame, FrameDecompressor& decompressor,
                                          MessageBuffer& words);

}  // namespace traceloop::format::detail
