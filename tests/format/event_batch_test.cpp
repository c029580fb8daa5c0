// Column encoding details: varints, zigzag, argument deltas, comm interning.

#include <gtest/gtest.h>

#include <limits>

#include "format/event_batch.h"
#include "format/varint.h"
#include "format/zstd_codec.h"

namespace traceloop::format {
namespace {

TEST(Varint, RoundTripsExtremes) {
  std::string buf;
  const uint64_t values[] = {0, 1, 127, 128, 16383, 16384, UINT32_MAX, UINT64_MAX - 1, UINT64_MAX};
  for (uint64_t v : values) detail::put_varint(buf, v);
  detail::VarintReader r(buf);
  for (uint64_t v : values) EXPECT_EQ(r.next(), v);
  EXPECT_TRUE(r.at_end());
  EXPECT_FALSE(r.failed());
}

TEST(Varint, OverrunAndOverlongFail) {
  detail::VarintReader cut(std::string_view("\x80\x80", 2));
  EXPECT_EQ(cut.next(), 0u);
  EXPECT_TRUE(cut.failed());
  const std::string overlong(11, '\x80');
  detail::VarintReader r(overlong);
  r.next();
  EXPECT_TRUE(r.failed());
}

// The tenth byte holds bit 63 alone: anything above 1 there is not a 64-bit
// value, and used to lose its bits silently.
TEST(Varint, TenthByteAboveOneFails) {
  std::string max;
  detail::put_varint(max, UINT64_MAX);
  ASSERT_EQ(max.size(), 10u);
  ASSERT_EQ(static_cast<uint8_t>(max.back()), 1u);
  for (int last = 2; last < 0x80; ++last) {
    std::string bad = max;
    bad.back() = static_cast<char>(last);
    detail::VarintReader r(bad);
    r.next();
    EXPECT_TRUE(r.failed()) << last;
  }
  detail::VarintReader ok(max);
  EXPECT_EQ(ok.next(), UINT64_MAX);
  EXPECT_FALSE(ok.failed());
}

TEST(Varint, Zigzag) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{-4095}, std::numeric_limits<int64_t>::min(),
                    std::numeric_limits<int64_t>::max()})
    EXPECT_EQ(detail::unzigzag(detail::zigzag(v)), v);
  EXPECT_EQ(detail::zigzag(-1), 1u);
  EXPECT_EQ(detail::zigzag(1), 2u);
}

std::string decompress(const EncodedFrame& f) {
  std::string raw(f.raw_size, '\0');
  ZstdDecompressor d;
  EXPECT_TRUE(d.decompress(std::string_view(f.bytes).substr(kFrameHeaderBytes), raw.data(), raw.size()).ok());
  return raw;
}

TEST(EventBatch, RepeatedArgumentsCostLittle) {
  ZstdCompressor compressor(3);
  EventBatchBuilder same, varied;
  Event e;
  e.comm = "loop";
  e.nr = 0;
  e.arg_count = 3;
  for (int i = 0; i < 1000; ++i) {
    e.enter_ns = 1'000'000 + static_cast<uint64_t>(i) * 1000;
    e.exit_ns = e.enter_ns + 500;
    e.args = {3, 0x7ffc00001000, 4096, 0, 0, 0};
    same.add(e);
    e.args = {static_cast<uint64_t>(i) * 7919 % 1000, 0x7ffc00001000 + static_cast<uint64_t>(i) * 4096 * 7919, 4096};
    varied.add(e);
  }
  const size_t same_raw = same.raw_bytes();
  EXPECT_LT(same_raw, varied.raw_bytes());
  // One byte a column (two for the time columns) before zstd, and next to nothing after.
  EXPECT_LE(same_raw, 17u * 1000 + 64);
  const EncodedFrame frame = same.finish(compressor);
  EXPECT_LT(frame.bytes.size(), 600u);
  DecodedBatch out;
  const std::string message = decompress(frame);  // the batch points into it
  ASSERT_TRUE(decode_event_batch(message, out, ReaderLimits{}).ok());
  ASSERT_EQ(out.size(), 1000u);
  EXPECT_EQ(out.event(999).args[1], 0x7ffc00001000u);
  EXPECT_EQ(out.event(999).comm, "loop");
}

TEST(EventBatch, ArgumentsBeyondArgCountReadAsZero) {
  ZstdCompressor compressor(1);
  EventBatchBuilder b;
  Event e;
  e.comm = "c";
  e.arg_count = 2;
  e.args = {1, 2, 3, 4, 5, 6};
  b.add(e);
  DecodedBatch out;
  const std::string message = decompress(b.finish(compressor));  // the batch points into it
  ASSERT_TRUE(decode_event_batch(message, out, ReaderLimits{}).ok());
  EXPECT_EQ(out.event(0).args, (std::array<uint64_t, 6>{1, 2, 0, 0, 0, 0}));
  EXPECT_EQ(out.event(0).arg_count, 2);
}

TEST(EventBatch, ShouldFlushAtTheEventLimit) {
  EventBatchBuilder b(3);
  Event e;
  e.comm = "c";
  b.add(e);
  b.add(e);
  EXPECT_FALSE(b.should_flush());
  b.add(e);
  EXPECT_TRUE(b.should_flush());
}

TEST(EventBatch, CommsAreInternedPerBatch) {
  ZstdCompressor compressor(1);
  EventBatchBuilder b;
  Event e;
  for (const char* comm : {"sh", "bc", "sh", "cat", "bc", "sh"}) {
    e.comm = comm;
    b.add(e);
  }
  DecodedBatch out;
  const std::string message = decompress(b.finish(compressor));  // the batch points into it
  ASSERT_TRUE(decode_event_batch(message, out, ReaderLimits{}).ok());
  std::vector<std::string> comms;
  for (size_t i = 0; i < out.size(); ++i) comms.emplace_back(out.event(i).comm);
  EXPECT_EQ(comms, (std::vector<std::string>{"sh", "bc", "sh", "cat", "bc", "sh"}));
}

}  // namespace
}  // namespace traceloop::format

namespace traceloop::format {
namespace {

TEST(EventBatch, ManyCapturesOfOneArgumentReadBackExactly) {
  ZstdCompressor compressor(3);
  EventBatchBuilder b;
  std::vector<std::string> structs;
  for (int i = 0; i < 200; ++i) {
    std::string st(144, '\0');
    st[0] = static_cast<char>(i);         // st_dev-like constant bytes around a changing inode
    st[8] = static_cast<char>(i * 7);
    st[48] = static_cast<char>(0x42 + i % 3);
    for (int k = 100; k < 144; ++k) st[static_cast<size_t>(k)] = static_cast<char>(0x55);
    structs.push_back(st);
  }
  std::vector<CaptureView> views(1);
  for (const auto& st : structs) {
    Event e;
    e.comm = "ls";
    e.nr = 5;
    views[0] = {1, 144, st};
    e.captures = views;
    b.add(e);
  }
  const EncodedFrame frame = b.finish(compressor);
  DecodedBatch out;
  const std::string message = decompress(frame);  // the batch points into it
  ASSERT_TRUE(decode_event_batch(message, out, ReaderLimits{}).ok());
  ASSERT_EQ(out.size(), structs.size());
  for (size_t i = 0; i < structs.size(); ++i) {
    ASSERT_EQ(out.event(i).captures.size(), 1u);
    EXPECT_EQ(out.event(i).captures[0].bytes, structs[i]) << i;
    EXPECT_EQ(out.event(i).captures[0].arg, 1);
  }
}

}  // namespace
}  // namespace traceloop::format
