// Messages serialised where they were built: byte for byte what capnp's own
// flat copy gives, in place when the message fits its first segment, by a
// copy when it outgrew it; and the room an events batch is built in holds
// real batches, so that a merged frame is never copied flat beside itself.

#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "format/catalogue.h"
#include "format/event_batch.h"
#include "format/frame_codec.h"
#include "format/synthetic_workload.h"
#include "format/zstd_codec.h"
#include "trace.capnp.h"

namespace traceloop::format {
namespace {

std::string flat_copy(capnp::MessageBuilder& builder) {
  const kj::Array<capnp::word> words = capnp::messageToFlatArray(builder);
  return std::string(words.asChars().begin(), words.asChars().size());
}

void fill(capnp::MessageBuilder& builder, size_t bytes) {
  auto root = builder.initRoot<schema::CaptureBytes>();
  root.setPart(7);
  auto data = root.initBytes(static_cast<unsigned>(bytes));
  for (size_t i = 0; i < bytes; ++i) data[i] = static_cast<uint8_t>(i * 31 + 5);
}

TEST(FrameMessage, FitsItsRoomAndIsSerialisedInPlace) {
  detail::FrameMessage message(1024);
  fill(message.builder(), 4000);
  const std::string expected = flat_copy(message.builder());
  const std::string_view serialised = message.serialised();
  EXPECT_TRUE(message.in_place());
  EXPECT_EQ(std::string(serialised), expected);
  kj::ArrayPtr<const capnp::word> words(reinterpret_cast<const capnp::word*>(serialised.data()),
                                        serialised.size() / sizeof(capnp::word));
  capnp::FlatArrayMessageReader reader(words);
  const auto root = reader.getRoot<schema::CaptureBytes>();
  EXPECT_EQ(root.getPart(), 7u);
  ASSERT_EQ(root.getBytes().size(), 4000u);
  EXPECT_EQ(root.getBytes()[3999], static_cast<uint8_t>(3999 * 31 + 5));
}

TEST(FrameMessage, OutgrowingItsRoomIsSerialisedByACopy) {
  detail::FrameMessage message(64);
  fill(message.builder(), 100'000);
  const std::string expected = flat_copy(message.builder());
  EXPECT_EQ(std::string(message.serialised()), expected);
  EXPECT_FALSE(message.in_place());
}

// Batches of a realistic stream (captures, new processes), small and at the
// flush limits: each message fits the room finish() gives it. A one-segment
// message of S words is S + 1 words serialised, a spilled one more than
// the room.
TEST(FrameMessage, EventBatchesFitTheRoomTheyAreBuiltIn) {
  const Catalogue catalogue = builtin_catalogue(host_arch());
  ZstdCompressor compressor(3);
  for (const uint32_t max_raw : {4u << 10, 64u << 10, 2u << 20, 8u << 20}) {
    for (const uint64_t seed : {1u, 2u}) {
      SyntheticWorkload workload(catalogue, seed);
      EventBatchBuilder batch(1u << 20, max_raw);
      // A process's end and a SIGCHLD every few calls, as a shell loop of
      // short commands brings them.
      const std::string siginfo(TaskNotice::kSiginfoBytes, '\x11');
      uint32_t added = 0;
      while (!batch.should_flush()) {
        batch.add(workload.next());
        if (++added % 5000 == 0) batch.add_loss(LossMarker{.lost = added});
        if (added % 40 == 0) {
          batch.add_notice(TaskNotice{.kind = TaskNotice::Kind::exit, .at_ns = added, .pid = added, .tid = added,
                                      .comm = "cat", .siginfo = {}, .exit_status = 0, .group_dead = true});
          batch.add_notice(TaskNotice{.kind = TaskNotice::Kind::signal, .at_ns = added, .pid = 1, .tid = 1,
                                      .comm = "sh", .signo = 17, .siginfo = siginfo});
        }
      }
      const size_t room = batch.message_words();
      const EncodedFrame frame = batch.finish(compressor);
      EXPECT_LE(frame.raw_size, (room + 1) * sizeof(capnp::word))
          << max_raw << " raw bytes, seed " << seed << ": " << added << " events";
      EXPECT_EQ(frame.event_count, added);
    }
  }
}

}  // namespace
}  // namespace traceloop::format
