#pragma once
// Frame headers and Cap'n Proto message (de)serialisation. Internal to format/.

#include <capnp/message.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/frame.h"
#include "format/result.h"
#include "format/zstd_codec.h"

namespace traceloop::format::detail {

struct FrameHeader {
  uint8_t type = 0;
  uint32_t compressed_size = 0;
  uint32_t raw_size = 0;
  uint32_t event_count = 0;
};

void write_frame_header(char* out, FrameType type, uint32_t compressed_size, uint32_t raw_size,
                        uint32_t event_count);
FrameHeader parse_frame_header(const char* in);
// Why the frame header `in` (kFrameHeaderBytes) must not be trusted under
// `limits` (checked before any allocation), or an empty string.
std::string frame_header_problem(const char* in, const ReaderLimits& limits);

std::string make_preamble(uint16_t major, uint16_t minor);

// Serialises, compresses and frames one message.
void encode_frame(FrameType type, capnp::MessageBuilder& message, uint32_t event_count, ZstdCompressor& compressor,
                  EncodedFrame& frame);
// Compresses and frames a serialised message.
void encode_raw_frame(FrameType type, std::string_view message, uint32_t event_count, ZstdCompressor& compressor,
                      EncodedFrame& frame);

// The message of a whole frame (header and payload) this library wrote,
// decompressed into `words` (word aligned for Cap'n Proto); the view is into
// `words`. Sizes are checked against the writers' limits.
Result<std::string_view> decompress_frame(std::string_view frame, ZstdDecompressor& decompressor,
                                          std::vector<capnp::word>& words);

}  // namespace traceloop::format::detail
