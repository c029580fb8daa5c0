// LZMA2 frame payloads (formats 4 and 5, written by compaction): what goes in comes
// out, and a payload that was changed in any way is refused, never trusted.

#include "format/lzma_codec.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "format/catalogue.h"
#include "format/event_batch.h"
#include "format/frame_codec.h"
#include "format/synthetic_workload.h"
#include "format/zstd_codec.h"

namespace traceloop::format {
namespace {

std::string compress(const std::string& in) {
  std::string out;
  lzma_compress(in, out);
  return out;
}

Result<std::string> decompress(const std::string& payload, size_t expected) {
  std::string out(expected, '\0');
  if (auto r = lzma_decompress(payload, out.data(), expected); !r) return r.error();
  return out;
}

std::string sample(size_t n, uint64_t seed) {
  std::mt19937_64 rnd(seed);
  std::string s;
  while (s.size() < n) {
    // Columns-like: runs of small numbers with now and then a random word.
    if (rnd() % 8 == 0) {
      for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(rnd()));
    } else {
      s.append(rnd() % 16, static_cast<char>(rnd() % 4));
    }
  }
  s.resize(n);
  return s;
}

TEST(LzmaCodec, RoundTripsEverySize) {
  // Up to past the 1 MiB where the dictionary stops being a power of two.
  for (size_t n : {size_t{0}, size_t{1}, size_t{4095}, size_t{70000}, (size_t{1} << 20) + 1}) {
    const std::string in = sample(n, n);
    const std::string payload = compress(in);
    auto out = decompress(payload, n);
    ASSERT_TRUE(out.ok()) << n << ": " << out.error().message;
    EXPECT_EQ(*out, in) << n;
  }
  const std::string zeros(1 << 20, '\0');
  EXPECT_LT(compress(zeros).size(), 400u);
  std::string noise(1 << 16, '\0');
  std::mt19937_64 rnd(1);
  for (auto& c : noise) c = static_cast<char>(rnd());
  EXPECT_LT(compress(noise).size(), noise.size() + noise.size() / 100) << "stored, not expanded";
  ASSERT_TRUE(decompress(compress(noise), noise.size()).ok());
}

TEST(LzmaCodec, EveryChangedByteIsRefused) {
  const std::string in = sample(3000, 7);
  const std::string payload = compress(in);
  for (size_t i = 0; i < payload.size(); ++i) {
    for (const unsigned char flip : {0x01, 0x80, 0xff}) {
      std::string bad = payload;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      auto out = decompress(bad, in.size());
      ASSERT_FALSE(out.ok()) << "byte " << i << " ^ " << int{flip};
      EXPECT_EQ(out.error().message.rfind("corrupt frame (", 0), 0u) << out.error().message;
    }
  }
}

TEST(LzmaCodec, SizesThatDisagreeAreRefused) {
  const std::string in = sample(5000, 9);
  const std::string payload = compress(in);
  auto message = [&](const std::string& p, size_t expected) {
    auto out = decompress(p, expected);
    return out.ok() ? std::string("accepted") : out.error().message;
  };
  EXPECT_EQ(message(payload, in.size() - 1), "corrupt frame (LZMA2 data longer than declared)");
  EXPECT_EQ(message(payload, in.size() + 8).rfind("corrupt frame (", 0), 0u);
  EXPECT_EQ(message(payload + "junk", in.size()).rfind("corrupt frame (", 0), 0u) << "bytes after the stream";
  EXPECT_EQ(message(payload.substr(0, payload.size() / 2), in.size()).rfind("corrupt frame (", 0), 0u);
  EXPECT_EQ(message("abc", 10), "corrupt frame (LZMA2 payload too short)");
  EXPECT_EQ(message("", 0), "corrupt frame (LZMA2 payload too short)");
}

// A batch of 5000 synthetic events, serialised.
std::string events_message() {
  SyntheticWorkload workload(builtin_catalogue(Arch::x86_64), 11);
  EventBatchBuilder builder;
  for (int i = 0; i < 5000; ++i) builder.add(workload.next());
  ZstdCompressor zstd(1);
  const EncodedFrame frame = builder.finish(zstd);
  std::string message(frame.raw_size, '\0');
  ZstdDecompressor d;
  EXPECT_TRUE(
      d.decompress(std::string_view(frame.bytes).substr(kFrameHeaderBytes), message.data(), message.size()).ok());
  return message;
}

TEST(LzmaCodec, CompactFramesSayTheirCodec) {
  detail::FrameDecompressor decompressor;
  detail::MessageBuffer words;
  ZstdCompressor zstd(19);
  // Event columns: LZMA2, smaller than zstd's strongest. 8 bytes: zstd's frame is smaller.
  for (const auto& [message, codec] :
       {std::pair{events_message(), FrameCodec::lzma2}, std::pair{std::string(8, 'x'), FrameCodec::zstd}}) {
    EncodedFrame frame;
    detail::encode_compact_frame(FrameType::events, message, 1, frame);
    EXPECT_EQ(detail::parse_frame_header(frame.bytes.data()).codec, static_cast<uint8_t>(codec));
    EncodedFrame as_zstd;
    detail::encode_raw_frame(FrameType::events, message, 1, zstd, as_zstd);
    EXPECT_LE(frame.bytes.size(), as_zstd.bytes.size());
    auto out = detail::decompress_frame(frame.bytes, decompressor, words);
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(*out, message);
  }
  // An unknown codec is named before anything is decompressed.
  EncodedFrame frame;
  detail::encode_raw_frame(FrameType::events, sample(64, 1), 1, zstd, frame);
  frame.bytes[1] = 3;
  auto out = detail::decompress_frame(frame.bytes, decompressor, words);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().message, "unknown frame codec 3");
}

}  // namespace
}  // namespace traceloop::format

namespace traceloop::format {
namespace {

// One stream cut into frames (an events frame and its captures frames,
// format 5).
struct StreamFrames {
  std::vector<std::string> inputs;
  std::vector<std::string> payloads;
};

StreamFrames stream_frames(size_t frames, size_t each, uint64_t seed) {
  StreamFrames s;
  LzmaStreamEncoder encoder(frames * each);
  for (size_t i = 0; i < frames; ++i) {
    // Later frames repeat much of earlier ones, as event columns do.
    s.inputs.push_back(sample(each / 2, seed) + sample(each - each / 2, seed + i));
    s.payloads.emplace_back();
    encoder.compress(s.inputs.back(), s.payloads.back());
    // Captures frames use other literal contexts than their events frame.
    if (i == 0) encoder.set_literal_contexts(3, 0, 2);
  }
  return s;
}

Result<std::string> stream_decompress(LzmaStreamDecoder& decoder, const std::string& payload, size_t expected,
                                      size_t max_dictionary = 64u << 20) {
  std::string out(expected, '\0');
  if (auto r = decoder.decompress(payload, out.data(), expected, max_dictionary); !r) return r.error();
  return out;
}

TEST(LzmaStream, FramesDecodeInOrderAndCostLessThanOnTheirOwn) {
  const StreamFrames s = stream_frames(6, 20000, 3);
  LzmaStreamDecoder decoder;
  size_t chained = 0, alone = 0;
  for (size_t i = 0; i < s.payloads.size(); ++i) {
    auto out = stream_decompress(decoder, s.payloads[i], s.inputs[i].size());
    ASSERT_TRUE(out.ok()) << i << ": " << out.error().message;
    EXPECT_EQ(*out, s.inputs[i]) << i;
    chained += s.payloads[i].size();
    alone += compress(s.inputs[i]).size();
  }
  EXPECT_LT(chained * 10, alone * 8) << "later frames refer to earlier ones";
  // A second stream in the same file starts afresh.
  const StreamFrames t = stream_frames(2, 5000, 4);
  for (size_t i = 0; i < t.payloads.size(); ++i) {
    auto out = stream_decompress(decoder, t.payloads[i], t.inputs[i].size());
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(*out, t.inputs[i]);
  }
}

TEST(LzmaStream, AFrameWithoutItsPredecessorsIsRefused) {
  const StreamFrames s = stream_frames(4, 8000, 5);
  const std::string missing = "corrupt frame (continues an LZMA2 stream whose earlier frames are missing or corrupt)";
  {  // the first frame missing
    LzmaStreamDecoder decoder;
    auto out = stream_decompress(decoder, s.payloads[1], s.inputs[1].size());
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().message, missing);
  }
  {  // a frame in the middle missing: the next one does not decode to its bytes
    LzmaStreamDecoder decoder;
    ASSERT_TRUE(stream_decompress(decoder, s.payloads[0], s.inputs[0].size()).ok());
    auto out = stream_decompress(decoder, s.payloads[2], s.inputs[2].size());
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().message.rfind("corrupt frame (", 0), 0u) << out.error().message;
    // ... nor does any later one: the stream is broken until a new one starts.
    out = stream_decompress(decoder, s.payloads[3], s.inputs[3].size());
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().message, missing);
    ASSERT_TRUE(stream_decompress(decoder, s.payloads[0], s.inputs[0].size()).ok());
    ASSERT_TRUE(stream_decompress(decoder, s.payloads[1], s.inputs[1].size()).ok());
  }
}

TEST(LzmaStream, EveryChangedByteIsRefusedAndBreaksTheStream) {
  const StreamFrames s = stream_frames(3, 3000, 6);
  const std::string& payload = s.payloads[1];
  for (size_t i = 0; i < payload.size(); ++i) {
    for (const unsigned char flip : {0x01, 0x80, 0xff}) {
      LzmaStreamDecoder decoder;
      ASSERT_TRUE(stream_decompress(decoder, s.payloads[0], s.inputs[0].size()).ok());
      std::string bad = payload;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      auto out = stream_decompress(decoder, bad, s.inputs[1].size());
      ASSERT_FALSE(out.ok()) << "byte " << i << " ^ " << int{flip};
      EXPECT_EQ(out.error().message.rfind("corrupt frame (", 0), 0u) << out.error().message;
      EXPECT_FALSE(stream_decompress(decoder, s.payloads[2], s.inputs[2].size()).ok()) << "byte " << i;
    }
  }
}

TEST(LzmaStream, SizesAndDictionariesThatDisagreeAreRefused) {
  const StreamFrames s = stream_frames(2, 5000, 8);
  auto message = [&](std::string first, size_t expected, size_t max_dictionary = 64u << 20) {
    LzmaStreamDecoder decoder;
    auto out = stream_decompress(decoder, first, expected, max_dictionary);
    return out.ok() ? std::string("accepted") : out.error().message;
  };
  const size_t n = s.inputs[0].size();
  EXPECT_EQ(message(s.payloads[0], n), "accepted");
  EXPECT_EQ(message(s.payloads[0], n - 1), "corrupt frame (LZMA2 chunks of 5000 bytes, 4999 declared)");
  EXPECT_EQ(message(s.payloads[0], n + 8), "corrupt frame (LZMA2 chunks of 5000 bytes, 5008 declared)");
  EXPECT_EQ(message(s.payloads[0].substr(0, s.payloads[0].size() - 4) + '\0' + s.payloads[0].substr(s.payloads[0].size() - 4), n),
            "corrupt frame (the LZMA2 stream ends inside a frame)");
  EXPECT_EQ(message(s.payloads[0].substr(0, s.payloads[0].size() / 2), n).rfind("corrupt frame (", 0), 0u);
  EXPECT_EQ(message("ab", 10), "corrupt frame (LZMA2 payload too short)");
  std::string link = s.payloads[0];
  link[0] = 7;
  EXPECT_EQ(message(link, n), "corrupt frame (bad LZMA2 stream link 7)");
  // The dictionary is checked before the decoder allocates it.
  std::string huge = s.payloads[0];
  huge[1] = 39;  // 3 GiB
  EXPECT_EQ(message(huge, n), "corrupt frame (declares an LZMA2 dictionary of 3221225472 bytes, limit 67108864)");
  huge[1] = 41;
  EXPECT_EQ(message(huge, n), "corrupt frame (bad LZMA2 dictionary size)");
  EXPECT_EQ(message(s.payloads[0], n, 4096).rfind("corrupt frame (declares an LZMA2 dictionary of ", 0), 0u);
  // A continuing frame must use its stream's dictionary.
  LzmaStreamDecoder decoder;
  ASSERT_TRUE(stream_decompress(decoder, s.payloads[0], n).ok());
  std::string other = s.payloads[1];
  other[1] = static_cast<char>(other[1] + 1);
  auto out = stream_decompress(decoder, other, s.inputs[1].size());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().message, "corrupt frame (dictionary size differs from its LZMA2 stream's)");
}

}  // namespace
}  // namespace traceloop::format
