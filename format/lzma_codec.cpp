#include "format/lzma_codec.h"

#include <lzma.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <stdexcept>

namespace traceloop::format {
namespace {

constexpr size_t kChecksumBytes = 4;

// No match reaches further back than the data: a dictionary as large as it
// (bounded by the frame limits) costs the encoder (~10x) and the decoder
// memory for nothing.
uint32_t dictionary_for(size_t size) {
  return static_cast<uint32_t>(std::clamp<size_t>(size, LZMA_DICT_SIZE_MIN, size_t{1} << 30));
}

// The default preset, with literal and position contexts set for event
// columns: varints and unaligned structures, where the byte's position mod 4
// says nothing (pb = lp = 0) and one byte of context (lc = 1) beats three
// (measured on ls and Python start-up traces). The strongest preset saves
// 1-1.5% more but takes two to four times as long (0.24 s against 0.06 s for
// the 480 KB of an `ls -l /usr/bin` trace), which a user of `run` waits for
// at the end of every command.
lzma_options_lzma encoder_options(size_t size) {
  constexpr uint32_t kPreset = 6;
  lzma_options_lzma options{};
  if (lzma_lzma_preset(&options, kPreset)) throw std::runtime_error("LZMA2 preset unavailable");
  options.dict_size = dictionary_for(size);
  options.lc = 1;
  options.lp = 0;
  options.pb = 0;
  return options;
}

uint32_t checksum(const char* data, size_t size) {
  return lzma_crc32(reinterpret_cast<const uint8_t*>(data), size, 0);
}

void put_checksum(const char* data, size_t size, std::string& out) {
  const uint32_t crc = checksum(data, size);
  for (size_t i = 0; i < kChecksumBytes; ++i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
}

bool checksum_matches(std::string_view stored, const char* data, size_t size) {
  uint32_t value = 0;
  for (size_t i = 0; i < kChecksumBytes; ++i) value |= static_cast<uint32_t>(static_cast<uint8_t>(stored[i])) << (8 * i);
  return value == checksum(data, size);
}

// Stream payloads: link byte, dictionary byte, LZMA2 chunks, checksum.
constexpr size_t kStreamPrefixBytes = 2;
constexpr uint8_t kStartsStream = 0;
constexpr uint8_t kContinuesStream = 1;

// A stream frame must hold whole LZMA2 chunks (a sync flush ends one) that
// decompress to its declared size: liblzma would stop at a full output
// buffer in the middle of a chunk without a word, and leave the next frame
// to decode from there. The chunk headers say it all: a control byte (0x01
// or 0x02, stored; 0x80-0xff, LZMA, with bits 16-20 of its size), the
// uncompressed size - 1 and, for LZMA chunks, the compressed size - 1 (both
// big endian), and for control 0xc0 and above a properties byte.
Result<void> check_chunks(std::string_view chunks, size_t expected_size) {
  const auto byte = [&](size_t at) { return static_cast<size_t>(static_cast<uint8_t>(chunks[at])); };
  size_t at = 0, total = 0;
  while (at < chunks.size()) {
    const size_t control = byte(at);
    size_t header = 0, packed = 0, unpacked = 0;
    if (control == 0x00) return Error{"corrupt frame (the LZMA2 stream ends inside a frame)"};
    if (control == 0x01 || control == 0x02) {
      header = 3;
      if (chunks.size() - at < header) break;
      unpacked = (byte(at + 1) << 8 | byte(at + 2)) + 1;
      packed = unpacked;
    } else if (control >= 0x80) {
      header = control >= 0xc0 ? 6 : 5;
      if (chunks.size() - at < header) break;
      unpacked = ((control & 0x1f) << 16 | byte(at + 1) << 8 | byte(at + 2)) + 1;
      packed = (byte(at + 3) << 8 | byte(at + 4)) + 1;
    } else {
      return Error{"corrupt frame (bad LZMA2 chunk)"};
    }
    if (chunks.size() - at - header < packed) break;
    at += header + packed;
    total += unpacked;
  }
  if (at != chunks.size()) return Error{"corrupt frame (an LZMA2 chunk goes past the frame)"};
  if (total != expected_size)
    return Error{"corrupt frame (LZMA2 chunks of " + std::to_string(total) + " bytes, " +
                 std::to_string(expected_size) + " declared)"};
  return {};
}

// The dictionary of a stream, as the one-byte LZMA2 property of .xz. Sizes
// are rounded up to 2^n or 3 * 2^(n-1); 64 MiB (the largest frame) is 2^26,
// so the clamp also keeps the rounded size within a reader's limit.
uint32_t stream_dictionary_for(size_t total) {
  return static_cast<uint32_t>(std::clamp<size_t>(total, LZMA_DICT_SIZE_MIN, size_t{64} << 20));
}

}  // namespace

void lzma_compress(std::string_view input, std::string& out) {
  lzma_options_lzma options = encoder_options(input.size());
  const lzma_filter filters[] = {{LZMA_FILTER_LZMA2, &options}, {LZMA_VLI_UNKNOWN, nullptr}};
  const size_t offset = out.size();
  out.resize(offset + lzma_block_buffer_bound(input.size()) + kChecksumBytes);
  size_t written = offset;
  const lzma_ret r = lzma_raw_buffer_encode(filters, nullptr, reinterpret_cast<const uint8_t*>(input.data()),
                                            input.size(), reinterpret_cast<uint8_t*>(out.data()), &written,
                                            out.size() - kChecksumBytes);
  if (r != LZMA_OK) throw std::runtime_error("LZMA2 compression failed (" + std::to_string(r) + ")");
  const uint32_t crc = checksum(input.data(), input.size());
  for (size_t i = 0; i < kChecksumBytes; ++i) out[written + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  out.resize(written + kChecksumBytes);
}

Result<void> lzma_decompress(std::string_view input, char* out, size_t expected_size) {
  if (input.size() < kChecksumBytes) return Error{"corrupt frame (LZMA2 payload too short)"};
  const std::string_view stream = input.substr(0, input.size() - kChecksumBytes);
  // An LZMA2 decoder reads only the dictionary size; the rest is in the stream.
  lzma_options_lzma options{};
  options.dict_size = dictionary_for(expected_size);
  const lzma_filter filters[] = {{LZMA_FILTER_LZMA2, &options}, {LZMA_VLI_UNKNOWN, nullptr}};
  size_t in_pos = 0, out_pos = 0;
  const lzma_ret r = lzma_raw_buffer_decode(filters, nullptr, reinterpret_cast<const uint8_t*>(stream.data()),
                                            &in_pos, stream.size(), reinterpret_cast<uint8_t*>(out), &out_pos,
                                            expected_size);
  if (r == LZMA_BUF_ERROR) return Error{"corrupt frame (LZMA2 data longer than declared)"};
  if (r == LZMA_MEM_ERROR) throw std::bad_alloc();
  if (r != LZMA_OK) return Error{"corrupt frame (LZMA2 data error " + std::to_string(r) + ")"};
  if (out_pos != expected_size)
    return Error{"corrupt frame (" + std::to_string(out_pos) + " bytes decompressed, " +
                 std::to_string(expected_size) + " declared)"};
  if (in_pos != stream.size()) return Error{"corrupt frame (bytes after the LZMA2 stream)"};
  uint32_t stored = 0;
  for (size_t i = 0; i < kChecksumBytes; ++i)
    stored |= static_cast<uint32_t>(static_cast<uint8_t>(input[stream.size() + i])) << (8 * i);
  if (stored != checksum(out, expected_size)) return Error{"corrupt frame (LZMA2 checksum mismatch)"};
  return {};
}

struct LzmaStreamEncoder::State {
  lzma_stream stream = LZMA_STREAM_INIT;
  uint8_t dictionary_property = 0;
  bool started = false;
  lzma_options_lzma options{};  // liblzma keeps a pointer to them
  ~State() { lzma_end(&stream); }
};

LzmaStreamEncoder::LzmaStreamEncoder(size_t total_size) : state_(std::make_unique<State>()) {
  lzma_options_lzma& options = state_->options;
  options = encoder_options(total_size);
  options.dict_size = stream_dictionary_for(total_size);
  lzma_filter filters[] = {{LZMA_FILTER_LZMA2, &options}, {LZMA_VLI_UNKNOWN, nullptr}};
  uint32_t property_size = 0;
  if (lzma_properties_size(&property_size, filters) != LZMA_OK || property_size != 1 ||
      lzma_properties_encode(filters, &state_->dictionary_property) != LZMA_OK)
    throw std::runtime_error("LZMA2 dictionary property unavailable");
  const lzma_ret r = lzma_raw_encoder(&state_->stream, filters);
  if (r == LZMA_MEM_ERROR) throw std::bad_alloc();
  if (r != LZMA_OK) throw std::runtime_error("LZMA2 encoder unavailable (" + std::to_string(r) + ")");
}

LzmaStreamEncoder::~LzmaStreamEncoder() = default;

void LzmaStreamEncoder::compress(std::string_view input, std::string& out) {
  State& s = *state_;
  out.push_back(static_cast<char>(s.started ? kContinuesStream : kStartsStream));
  out.push_back(static_cast<char>(s.dictionary_property));
  s.started = true;
  s.stream.next_in = reinterpret_cast<const uint8_t*>(input.data());
  s.stream.avail_in = input.size();
  // A sync flush ends the frame at a point the decoder reaches with this
  // frame's bytes alone; the dictionary and the model carry on.
  for (;;) {
    const size_t at = out.size();
    out.resize(at + std::max<size_t>(input.size() / 4, 4096));
    s.stream.next_out = reinterpret_cast<uint8_t*>(out.data() + at);
    s.stream.avail_out = out.size() - at;
    const lzma_ret r = lzma_code(&s.stream, LZMA_SYNC_FLUSH);
    out.resize(out.size() - s.stream.avail_out);
    if (r == LZMA_STREAM_END) break;
    if (r == LZMA_MEM_ERROR) throw std::bad_alloc();
    if (r != LZMA_OK) throw std::runtime_error("LZMA2 compression failed (" + std::to_string(r) + ")");
  }
  put_checksum(input.data(), input.size(), out);
}

void LzmaStreamEncoder::set_literal_contexts(uint32_t lc, uint32_t lp, uint32_t pb) {
  State& s = *state_;
  s.options.lc = lc;
  s.options.lp = lp;
  s.options.pb = pb;
  const lzma_filter filters[] = {{LZMA_FILTER_LZMA2, &s.options}, {LZMA_VLI_UNKNOWN, nullptr}};
  // Allowed between frames: each ends with a sync flush.
  const lzma_ret r = lzma_filters_update(&s.stream, filters);
  if (r != LZMA_OK) throw std::runtime_error("LZMA2 options update failed (" + std::to_string(r) + ")");
}

struct LzmaStreamDecoder::State {
  lzma_stream stream = LZMA_STREAM_INIT;
  uint8_t dictionary_property = 0;
  bool active = false;  // a stream started and every frame of it so far decoded
  ~State() { lzma_end(&stream); }

  void end() {
    lzma_end(&stream);
    stream = LZMA_STREAM_INIT;
    active = false;
  }

  Result<void> start(uint8_t property, size_t max_dictionary) {
    end();
    lzma_filter filter{LZMA_FILTER_LZMA2, nullptr};
    const lzma_ret decoded = lzma_properties_decode(&filter, nullptr, &property, 1);
    if (decoded == LZMA_MEM_ERROR) throw std::bad_alloc();
    if (decoded != LZMA_OK) return Error{"corrupt frame (bad LZMA2 dictionary size)"};
    auto* options = static_cast<lzma_options_lzma*>(filter.options);
    const size_t dictionary = options->dict_size;
    if (dictionary > max_dictionary) {
      std::free(options);
      return Error{"corrupt frame (declares an LZMA2 dictionary of " + std::to_string(dictionary) + " bytes, limit " +
                   std::to_string(max_dictionary) + ")"};
    }
    const lzma_filter filters[] = {filter, {LZMA_VLI_UNKNOWN, nullptr}};
    const lzma_ret r = lzma_raw_decoder(&stream, filters);
    std::free(options);
    if (r == LZMA_MEM_ERROR) throw std::bad_alloc();
    if (r != LZMA_OK) return Error{"corrupt frame (LZMA2 stream error " + std::to_string(r) + ")"};
    dictionary_property = property;
    active = true;
    return {};
  }

  // Exactly `expected_size` bytes from exactly `input`.
  Result<void> decode(std::string_view input, char* out, size_t expected_size) {
    stream.next_in = reinterpret_cast<const uint8_t*>(input.data());
    stream.avail_in = input.size();
    stream.next_out = reinterpret_cast<uint8_t*>(out);
    stream.avail_out = expected_size;
    lzma_ret r = LZMA_OK;
    while (r == LZMA_OK && stream.avail_in > 0 && stream.avail_out > 0) r = lzma_code(&stream, LZMA_RUN);
    const size_t produced = expected_size - stream.avail_out;
    // The frame's last bytes may close its chunk without producing any: the
    // decoder takes them with a byte of room that must stay unused.
    uint8_t spare = 0;
    while (r == LZMA_OK && stream.avail_in > 0 && produced == expected_size) {
      stream.next_out = &spare;
      stream.avail_out = 1;
      r = lzma_code(&stream, LZMA_RUN);
      if (stream.avail_out == 0) return Error{"corrupt frame (LZMA2 data longer than declared)"};
    }
    if (r == LZMA_MEM_ERROR) throw std::bad_alloc();
    if (r == LZMA_STREAM_END) return Error{"corrupt frame (the LZMA2 stream ends inside a frame)"};
    if (r != LZMA_OK && r != LZMA_BUF_ERROR) return Error{"corrupt frame (LZMA2 data error " + std::to_string(r) + ")"};
    if (produced != expected_size)
      return Error{"corrupt frame (" + std::to_string(produced) + " bytes decompressed, " +
                   std::to_string(expected_size) + " declared)"};
    if (stream.avail_in != 0) return Error{"corrupt frame (LZMA2 data longer than declared)"};
    return {};
  }
};

LzmaStreamDecoder::LzmaStreamDecoder() : state_(std::make_unique<State>()) {}
LzmaStreamDecoder::~LzmaStreamDecoder() = default;

Result<void> LzmaStreamDecoder::decompress(std::string_view input, char* out, size_t expected_size,
                                           size_t max_dictionary) {
  State& s = *state_;
  if (input.size() < kStreamPrefixBytes + kChecksumBytes) {
    s.end();
    return Error{"corrupt frame (LZMA2 payload too short)"};
  }
  const auto link = static_cast<uint8_t>(input[0]);
  const auto property = static_cast<uint8_t>(input[1]);
  Result<void> result;
  if (link == kStartsStream) {
    result = s.start(property, max_dictionary);
  } else if (link != kContinuesStream) {
    result = Error{"corrupt frame (bad LZMA2 stream link " + std::to_string(link) + ")"};
  } else if (!s.active) {
    result = Error{"corrupt frame (continues an LZMA2 stream whose earlier frames are missing or corrupt)"};
  } else if (property != s.dictionary_property) {
    result = Error{"corrupt frame (dictionary size differs from its LZMA2 stream's)"};
  }
  const std::string_view chunks = input.substr(kStreamPrefixBytes, input.size() - kStreamPrefixBytes - kChecksumBytes);
  if (result) result = check_chunks(chunks, expected_size);
  if (result) result = s.decode(chunks, out, expected_size);
  if (result && !checksum_matches(input.substr(input.size() - kChecksumBytes), out, expected_size))
    result = Error{"corrupt frame (LZMA2 checksum mismatch)"};
  if (!result) s.end();
  return result;
}

}  // namespace traceloop::format
