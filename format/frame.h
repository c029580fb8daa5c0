#pragma once
// Framing of a .tl file (the only place that knows it):
//
//   preamble (16 bytes): "\x89TLTRACE" | u16 major | u16 minor | u32 reserved (0)
//   frame*:              u8 type | u8 codec | u8[2] zero | u32 compressed size |
//                        u32 raw (decompressed) size | u32 event count |
//                        the compressed Cap'n Proto message (unpacked, single
//                        segment framing): codec 0, a zstd frame (content
//                        checksum on); codec 1 (format 4), LZMA2 and a CRC-32
//                        (format/lzma_codec.h); codec 2 (format 5, events
//                        and captures frames only), a part of an LZMA2
//                        stream that an events frame starts and the captures
//                        frames after it continue, and a CRC-32
//                        (LzmaStreamEncoder in format/lzma_codec.h)
//
// All integers little endian. Frames are bounded by kMaxFrameRawBytes so a
// reader needs bounded memory and a cut file loses at most one frame. The
// captures frames (format 5) that follow an events frame hold the bytes its
// events captured (see CaptureBytes in schemas/trace.capnp): an events frame
// and its captures frames hold at most kMaxFrameRawBytes together. A codec 2
// frame decodes only after the codec 2 frames before it of its events frame
// (never after later ones): read in order, a cut file still yields every
// complete frame, and a reader that passes over an events frame passes over
// its captures frames too.

#include <cstdint>
#include <string>

namespace traceloop::format {

enum class FrameType : uint8_t { header = 1, events = 2, processes = 3, trailer = 4, captures = 5 };
enum class FrameCodec : uint8_t { zstd = 0, lzma2 = 1, lzma2_stream = 2 };

inline constexpr char kMagic[8] = {'\x89', 'T', 'L', 'T', 'R', 'A', 'C', 'E'};
inline constexpr size_t kPreambleBytes = 16;
inline constexpr size_t kFrameHeaderBytes = 16;

// Writers never exceed these; readers refuse anything larger (decompression bombs).
inline constexpr uint32_t kMaxFrameRawBytes = 64u << 20;
inline constexpr uint32_t kMaxFrameCompressedBytes = 64u << 20;
// Captures frames after one events frame (compaction writes up to 8).
inline constexpr uint32_t kMaxCaptureFrames = 4096;
// The dictionary of a codec 2 stream: what a reader holds besides its frames.
inline constexpr uint32_t kMaxStreamDictionaryBytes = 64u << 20;

// What a reader accepts; every declared size is checked against these before
// any allocation.
struct ReaderLimits {
  uint32_t max_frame_compressed_bytes = kMaxFrameCompressedBytes;
  uint32_t max_frame_raw_bytes = kMaxFrameRawBytes;
  uint64_t traversal_limit_words = 16u << 20;  // Cap'n Proto traversal budget per message
  int nesting_limit = 16;
};

// A complete frame, header included, ready to be appended to a file.
struct EncodedFrame {
  FrameType type = FrameType::events;
  std::string bytes;
  uint32_t raw_size = 0;
  uint32_t event_count = 0;
  uint64_t first_ns = 0;  // enter time of the first event (events frames)
  uint64_t last_ns = 0;
  uint64_t lost = 0;         // sums of the loss markers inside
  uint64_t overwritten = 0;
};

}  // namespace traceloop::format
