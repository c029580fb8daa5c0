// The column encodings no longer written (event_batch_legacy.h): each still
// decodes. Encodings 0 and 2 are what the real traces of testdata/ were
// recorded in (their goldens check every field); encoding 1 (format 2) has
// no file left, so a batch of it is built here byte by byte.

#include "format/event_batch_legacy.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>

#include "format/frame_codec.h"
#include "format/trace_reader.h"
#include "tests/support/frame_walk.h"
#include "trace.capnp.h"

namespace traceloop::format {
namespace {

const std::filesystem::path kReal = std::filesystem::path(TRACELOOP_TEST_SOURCE_DIR) / "testdata/real";

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The column encodings of a file's event frames.
std::set<int> encodings_of(const std::filesystem::path& path) {
  const std::string file = read_bytes(path);
  std::set<int> found;
  detail::FrameDecompressor decompressor;
  detail::MessageBuffer words;
  for (const auto& f : testing::frames_of(file)) {
    if (f.header.type != static_cast<uint8_t>(FrameType::events)) continue;
    auto message = detail::decompress_frame(
        std::string_view(file).substr(f.offset, kFrameHeaderBytes + f.header.compressed_size), decompressor, words);
    EXPECT_TRUE(message.ok()) << path;
    if (!message) continue;
    capnp::FlatArrayMessageReader reader(
        kj::ArrayPtr<const capnp::word>(reinterpret_cast<const capnp::word*>(message->data()), message->size() / 8));
    found.insert(reader.getRoot<schema::EventBatch>().getColumnEncoding());
  }
  return found;
}

TEST(LegacyEncodings, TheRealTracesKeepEncodingsZeroAndTwoCovered) {
  EXPECT_EQ(encodings_of(kReal / "multiplication.tl"), std::set<int>{detail::kColumnsV1});
  EXPECT_EQ(encodings_of(kReal / "listing.tl"), std::set<int>{detail::kColumnsV1});
  EXPECT_EQ(encodings_of(kReal / "format3-ls.tl"), std::set<int>{detail::kColumnsRepeats});
  for (const char* name : {"multiplication.tl", "listing.tl", "format3-ls.tl"}) {
    auto trace = load_trace(kReal / name);
    ASSERT_TRUE(trace.ok()) << name << ": " << trace.error().message;
    EXPECT_GT(trace->events.size(), 50u) << name;
  }
}

capnp::Data::Reader column(std::string_view bytes) {
  return {reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size()};
}

std::string message_bytes(capnp::MallocMessageBuilder& message) {
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

// Three events of encoding 1: thread 100 calls read twice (the second time
// its CPU, argument count and capture are predicted from the first), then
// thread 101 of the same process calls write (its first event: the enter gap
// counts from the previous event, its CPU is given).
std::string format2_batch(const std::string& cpu_change = std::string("\x03\x00\x01", 3)) {
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<schema::EventBatch>();
  b.setCount(3);
  b.setColumnEncoding(detail::kColumnsPredicted);
  b.setBaseEnterNs(1000);
  b.setTid(column(std::string("\xc8\x01\x00\x02", 4)));        // +100, +0, +1
  b.setPidDelta(column(std::string("\x00\x00\x02", 3)));       // 0, 0, 1
  b.setSyscallNr(column(std::string("\x00\x00\x01", 3)));      // read, read, write
  b.setDuration(column(std::string("\x05\x07\x03", 3)));
  b.setEnterGap(column(std::string("\x14\x08\x02", 3)));       // 10 after base, 4 after the call's end, 1 after e1
  b.setCpuChange(column(cpu_change));                          // cpu 2, as before, cpu 0
  b.setArgCountChange(column(std::string("\x04\x00\x00", 3))); // 3, as before, 6 (first write)
  b.setRetChange(column(std::string("\x0a\x08\x06", 3)));      // 5, 4, 3 (predictions 0)
  b.setState(column(std::string("\x00\x00\x00", 3)));
  b.setCommIndex(column(std::string("\x00\x00\x01", 3)));
  auto comms = b.initComms(2);
  comms.set(0, "cat");
  comms.set(1, "cat-worker");
  b.setCaptureShape(column(std::string("\x02\x00\x00", 3)));   // one capture, the same, none
  b.setCaptureArg(column(std::string("\x01", 1)));             // of argument 1
  b.setCaptureSizeChange(column(std::string("\x0b\x00", 2)));  // zigzag(5) + 1; then predicted from ret: +0
  b.setCaptureExcess(column(std::string("\x00\x00", 2)));      // kept whole
  b.setCaptureBytes(column("helloabcd"));
  // Arguments: differences from the same slot of the syscall's previous event.
  b.setArgs(column(std::string("\x06\x80\x40\x0a" "\x00\x00\x00" "\x02\x80\x80\x01\x06\x00\x00\x00", 15)));
  auto losses = b.initLosses(1);
  losses[0].setBeforeEvent(2);
  losses[0].setLost(7);
  losses[0].setCpu(1);
  return message_bytes(message);
}

TEST(LegacyEncodings, FormatTwoPredictedColumnsDecode) {
  const std::string bytes = format2_batch();
  DecodedBatch batch;
  auto r = decode_event_batch(bytes, batch, ReaderLimits{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(batch.size(), 3u);

  const Event e0 = batch.event(0), e1 = batch.event(1), e2 = batch.event(2);
  EXPECT_EQ(e0.tid, 100u);
  EXPECT_EQ(e0.pid, 100u);
  EXPECT_EQ(e0.nr, 0u);
  EXPECT_EQ(e0.enter_ns, 1010u);
  EXPECT_EQ(e0.exit_ns, 1015u);
  EXPECT_EQ(e0.cpu, 2u);
  EXPECT_EQ(e0.arg_count, 3u);
  EXPECT_EQ(e0.ret, 5);
  EXPECT_EQ(e0.comm, "cat");
  EXPECT_EQ(e0.args, (std::array<uint64_t, 6>{3, 0x1000, 5, 0, 0, 0}));
  ASSERT_EQ(e0.captures.size(), 1u);
  EXPECT_EQ(e0.captures[0].arg, 1u);
  EXPECT_EQ(e0.captures[0].size, 5u);
  EXPECT_EQ(e0.captures[0].bytes, "hello");

  EXPECT_EQ(e1.tid, 100u);
  EXPECT_EQ(e1.enter_ns, 1019u);  // the thread's previous call ended at 1015
  EXPECT_EQ(e1.exit_ns, 1026u);
  EXPECT_EQ(e1.cpu, 2u);
  EXPECT_EQ(e1.arg_count, 3u);
  EXPECT_EQ(e1.ret, 4);
  EXPECT_EQ(e1.args, e0.args);
  ASSERT_EQ(e1.captures.size(), 1u);
  EXPECT_EQ(e1.captures[0].arg, 1u);
  EXPECT_EQ(e1.captures[0].size, 4u);  // the size of its return value, as the previous read's
  EXPECT_EQ(e1.captures[0].bytes, "abcd");

  EXPECT_EQ(e2.tid, 101u);
  EXPECT_EQ(e2.pid, 100u);
  EXPECT_EQ(e2.nr, 1u);
  EXPECT_EQ(e2.enter_ns, 1020u);
  EXPECT_EQ(e2.exit_ns, 1023u);
  EXPECT_EQ(e2.cpu, 0u);
  EXPECT_EQ(e2.arg_count, 6u);
  EXPECT_EQ(e2.ret, 3);
  EXPECT_EQ(e2.comm, "cat-worker");
  EXPECT_EQ(e2.args, (std::array<uint64_t, 6>{1, 0x2000, 3, 0, 0, 0}));
  EXPECT_TRUE(e2.captures.empty());

  ASSERT_EQ(batch.losses().size(), 1u);
  EXPECT_EQ(batch.losses()[0].before_event, 2u);
  EXPECT_EQ(batch.losses()[0].loss.lost, 7u);
}

TEST(LegacyEncodings, FormatTwoColumnsThatDisagreeAreRefused) {
  // The first event's CPU "as before" names a thread not seen yet.
  DecodedBatch batch;
  auto unseen = decode_event_batch(format2_batch(std::string("\x00\x00\x01", 3)), batch, ReaderLimits{});
  ASSERT_FALSE(unseen.ok());
  EXPECT_EQ(unseen.error().message, "corrupt frame (cpu of an unseen thread)");
  // A CPU column one value too long.
  auto long_column = decode_event_batch(format2_batch(std::string("\x03\x00\x01\x01", 4)), batch, ReaderLimits{});
  ASSERT_FALSE(long_column.ok());
  EXPECT_EQ(long_column.error().message, "corrupt frame (column length mismatch)");
}

}  // namespace
}  // namespace traceloop::format
