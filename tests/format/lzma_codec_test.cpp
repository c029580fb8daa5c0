// LZMA2 frame payloads (format 4, written by compaction): what goes in comes
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
  frame.bytes[1] = 2;
  auto out = detail::decompress_frame(frame.bytes, decompressor, words);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().message, "unknown frame codec 2");
}

}  // namespace
}  // namespace traceloop::format
