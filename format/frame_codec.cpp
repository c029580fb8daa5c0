#include "format/frame_codec.h"

#include <capnp/serialize.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>

#include "format/lzma_codec.h"

namespace traceloop::format::detail {
namespace {

void put_u32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void put_u16(char* p, uint16_t v) {
  p[0] = static_cast<char>(v & 0xff);
  p[1] = static_cast<char>(v >> 8);
}
uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

}  // namespace

void write_frame_header(char* out, FrameType type, FrameCodec codec, uint32_t compressed_size, uint32_t raw_size,
                        uint32_t event_count) {
  std::memset(out, 0, kFrameHeaderBytes);
  out[0] = static_cast<char>(type);
  out[1] = static_cast<char>(codec);
  put_u32(out + 4, compressed_size);
  put_u32(out + 8, raw_size);
  put_u32(out + 12, event_count);
}

FrameHeader parse_frame_header(const char* in) {
  FrameHeader h;
  h.type = static_cast<uint8_t>(in[0]);
  h.codec = static_cast<uint8_t>(in[1]);
  h.compressed_size = get_u32(in + 4);
  h.raw_size = get_u32(in + 8);
  h.event_count = get_u32(in + 12);
  return h;
}

std::string frame_header_problem(const char* in, const ReaderLimits& limits) {
  const FrameHeader h = parse_frame_header(in);
  if (in[2] != 0 || in[3] != 0) return "bad frame header";
  if (h.codec > static_cast<uint8_t>(FrameCodec::lzma2_stream)) return "unknown frame codec " + std::to_string(h.codec);
  // Only an events frame and its captures frames are chained: the others
  // must read on their own, also for readers that pass over every events frame.
  if (h.codec == static_cast<uint8_t>(FrameCodec::lzma2_stream) && h.type != static_cast<uint8_t>(FrameType::events) &&
      h.type != static_cast<uint8_t>(FrameType::captures))
    return "an LZMA2 stream frame that is neither an events nor a captures frame";
  if (h.compressed_size > limits.max_frame_compressed_bytes)
    return "declares " + std::to_string(h.compressed_size) + " compressed bytes, limit " +
           std::to_string(limits.max_frame_compressed_bytes);
  if (h.raw_size > limits.max_frame_raw_bytes)
    return "declares " + std::to_string(h.raw_size) + " decompressed bytes, limit " +
           std::to_string(limits.max_frame_raw_bytes);
  if (h.raw_size % sizeof(capnp::word) != 0 || h.raw_size == 0) return "bad message size";
  return {};
}

std::string make_preamble(uint16_t major, uint16_t minor) {
  std::string p(kPreambleBytes, '\0');
  std::memcpy(p.data(), kMagic, sizeof(kMagic));
  put_u16(p.data() + 8, major);
  put_u16(p.data() + 10, minor);
  return p;
}

void FrameMessage::Free::operator()(capnp::word* p) const { std::free(p); }

FrameMessage::FrameMessage(size_t words_hint)
    : buffer_(static_cast<capnp::word*>(std::calloc(std::max<size_t>(words_hint, 64) + 1, sizeof(capnp::word)))),
      words_(std::max<size_t>(words_hint, 64)) {
  if (!buffer_) throw std::bad_alloc();
  builder_ = std::make_unique<capnp::MallocMessageBuilder>(kj::arrayPtr(buffer_.get() + 1, words_));
}

FrameMessage::~FrameMessage() = default;

capnp::MessageBuilder& FrameMessage::builder() { return *builder_; }

std::string_view FrameMessage::serialised() {
  const auto segments = builder_->getSegmentsForOutput();
  in_place_ = segments.size() == 1 && segments[0].begin() == buffer_.get() + 1;
  if (in_place_) {
    // The segment table of one segment: its count less one, then its size in words.
    char* table = reinterpret_cast<char*>(buffer_.get());
    put_u32(table, 0);
    put_u32(table + 4, static_cast<uint32_t>(segments[0].size()));
    return std::string_view(table, (segments[0].size() + 1) * sizeof(capnp::word));
  }
  flat_ = capnp::messageToFlatArray(segments);
  return std::string_view(flat_.asChars().begin(), flat_.asChars().size());
}

void encode_frame(FrameType type, FrameMessage& message, uint32_t event_count, ZstdCompressor& compressor,
                  EncodedFrame& frame) {
  encode_raw_frame(type, message.serialised(), event_count, compressor, frame);
}

namespace {

void frame_payload(FrameType type, FrameCodec codec, std::string_view message, uint32_t event_count,
                   const std::function<void(std::string&)>& compress, EncodedFrame& frame) {
  frame.type = type;
  frame.raw_size = static_cast<uint32_t>(message.size());
  frame.bytes.assign(kFrameHeaderBytes, '\0');
  compress(frame.bytes);
  write_frame_header(frame.bytes.data(), type, codec, static_cast<uint32_t>(frame.bytes.size() - kFrameHeaderBytes),
                     frame.raw_size, event_count);
}

}  // namespace

void encode_raw_frame(FrameType type, std::string_view message, uint32_t event_count, ZstdCompressor& compressor,
                      EncodedFrame& frame) {
  frame_payload(type, FrameCodec::zstd, message, event_count,
                [&](std::string& out) { compressor.compress(message, out); }, frame);
}

void encode_compact_frame(FrameType type, std::string_view message, uint32_t event_count, EncodedFrame& frame) {
  // zstd's frame is the smaller only for a few hundred bytes at most; at
  // megabytes its strongest level takes three times LZMA2's time.
  constexpr size_t kTryZstdBelow = 64u << 10;
  constexpr int kZstdLevel = 19;
  frame_payload(type, FrameCodec::lzma2, message, event_count,
                [&](std::string& out) { lzma_compress(message, out); }, frame);
  if (message.size() >= kTryZstdBelow) return;
  ZstdCompressor compressor(kZstdLevel);
  EncodedFrame zstd;
  encode_raw_frame(type, message, event_count, compressor, zstd);
  if (zstd.bytes.size() < frame.bytes.size()) frame.bytes.swap(zstd.bytes);
}

void encode_stream_frame(FrameType type, std::string_view message, uint32_t event_count, LzmaStreamEncoder& encoder,
                         EncodedFrame& frame) {
  frame_payload(type, FrameCodec::lzma2_stream, message, event_count,
                [&](std::string& out) { encoder.compress(message, out); }, frame);
}

Result<void> FrameDecompressor::decompress(const FrameHeader& h, std::string_view payload, char* out) {
  if (h.codec == static_cast<uint8_t>(FrameCodec::lzma2)) return lzma_decompress(payload, out, h.raw_size);
  if (h.codec == static_cast<uint8_t>(FrameCodec::lzma2_stream))
    return lzma_stream_.decompress(payload, out, h.raw_size, kMaxStreamDictionaryBytes);
  return zstd_.decompress(payload, out, h.raw_size);
}

Result<std::string_view> decompress_frame(std::string_view frame, FrameDecompressor& decompressor,
                                          MessageBuffer& words) {
  if (frame.size() < kFrameHeaderBytes) return Error{"frame shorter than its header"};
  const FrameHeader h = parse_frame_header(frame.data());
  if (h.compressed_size != frame.size() - kFrameHeaderBytes) return Error{"frame size disagrees with its header"};
  if (auto problem = frame_header_problem(frame.data(), ReaderLimits{}); !problem.empty()) return Error{problem};
  words.resize_for_overwrite(h.raw_size / sizeof(capnp::word));
  char* raw = reinterpret_cast<char*>(words.data());
  if (auto r = decompressor.decompress(h, frame.substr(kFrameHeaderBytes), raw); !r) return r.error();
  return std::string_view(raw, h.raw_size);
}

}  // namespace traceloop::format::detail
