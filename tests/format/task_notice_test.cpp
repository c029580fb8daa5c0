// Task notices (format minor 3): written among events, read back in place by
// every reader path, carried through frame merges, absent from older files,
// and hostile values refused.
#include <gtest/gtest.h>

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <filesystem>

#include "format/catalogue.h"
#include "format/frame_codec.h"
#include "format/frame_merge.h"
#include "format/synthetic_workload.h"
#include "format/trace_reader.h"
#include "format/trace_writer.h"
#include "format/zstd_codec.h"
#include "tests/support/source_dir.h"
#include "tests/support/temp_dir.h"
#include "trace.capnp.h"

namespace traceloop::format {
namespace {

using traceloop::testing::TempDir;

TaskNotice signal_notice(uint32_t tid, uint64_t at_ns, std::string_view siginfo) {
  TaskNotice n;
  n.kind = TaskNotice::Kind::signal;
  n.at_ns = at_ns;
  n.pid = 100;
  n.tid = tid;
  n.cpu = 1;
  n.container = 0;
  n.comm = "victim";
  n.signo = 11;
  n.siginfo = siginfo;
  return n;
}

TaskNotice exit_notice(uint32_t tid, uint64_t at_ns, int32_t status, bool group_dead) {
  TaskNotice n;
  n.kind = TaskNotice::Kind::exit;
  n.at_ns = at_ns;
  n.pid = 100;
  n.tid = tid;
  n.cpu = 0;
  n.comm = "victim";
  n.exit_status = status;
  n.group_dead = group_dead;
  return n;
}

void expect_same(const TaskNotice& a, const TaskNotice& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.at_ns, b.at_ns);
  EXPECT_EQ(a.pid, b.pid);
  EXPECT_EQ(a.tid, b.tid);
  EXPECT_EQ(a.cpu, b.cpu);
  EXPECT_EQ(a.container, b.container);
  EXPECT_EQ(a.comm, b.comm);
  EXPECT_EQ(a.signo, b.signo);
  EXPECT_EQ(a.siginfo, b.siginfo);
  EXPECT_EQ(a.exit_status, b.exit_status);
  EXPECT_EQ(a.group_dead, b.group_dead);
}

// siginfo of SIGSEGV at 0x10, as the recorder keeps it (48 bytes).
std::string segv_siginfo() {
  std::string b(48, '\0');
  b[0] = 11;    // si_signo
  b[8] = 1;     // si_code SEGV_MAPERR
  b[16] = 0x10; // si_addr
  return b;
}

TEST(TaskNotice, RoundTripInPlaceAmongEventsAndFrames) {
  TempDir dir;
  const auto path = dir / "notices.tl";
  const std::string siginfo = segv_siginfo();
  TraceMetadata metadata;
  fill_host_metadata(metadata);
  metadata.catalogue = builtin_catalogue(Arch::x86_64);
  SyntheticWorkload workload(metadata.catalogue, 7);
  std::vector<std::pair<size_t, OwnedTaskNotice>> written;  // events before each
  {
    WriterOptions options;
    options.max_events_per_frame = 1000;  // notices fall in several frames, one at a frame's end
    auto writer = TraceWriter::create(path, metadata, options);
    ASSERT_TRUE(writer.ok()) << writer.error().message;
    for (size_t i = 0; i < 5000; ++i) {
      if (i % 999 == 0) {
        const TaskNotice n = i % 2 ? signal_notice(static_cast<uint32_t>(i), 1000 + i, siginfo)
                                   : exit_notice(static_cast<uint32_t>(i), 2000 + i, (3 << 8) | 0, i == 0);
        ASSERT_TRUE(writer->append_notice(n).ok());
        written.emplace_back(i, OwnedTaskNotice::from(n));
      }
      ASSERT_TRUE(writer->append(workload.next()).ok());
    }
    const TaskNotice last = exit_notice(7, 99999, 11 | 0x80, true);
    ASSERT_TRUE(writer->append_notice(last).ok());
    written.emplace_back(5000, OwnedTaskNotice::from(last));
    ASSERT_TRUE(writer->finish().ok());
  }
  // records(): in place
  auto reader = TraceReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  const TraceMetadata& m = reader->metadata();
  EXPECT_TRUE(m.format_major > 4 || m.format_minor >= 3) << "notices came with format 4.3";
  size_t events = 0, notices = 0;
  for (const Record& r : reader->records()) {
    if (r.kind == Record::Kind::event) {
      ++events;
      continue;
    }
    ASSERT_EQ(r.kind, Record::Kind::notice);
    ASSERT_LT(notices, written.size());
    EXPECT_EQ(events, written[notices].first);
    expect_same(r.notice, written[notices].second.view());
    ++notices;
  }
  EXPECT_EQ(events, 5000u);
  EXPECT_EQ(notices, written.size());
  EXPECT_EQ(reader->counters()->events_recorded, 5000u);  // notices are no events

  // load_trace(): the same positions
  auto loaded = load_trace(path);
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->notices.size(), written.size());
  for (size_t i = 0; i < written.size(); ++i) {
    EXPECT_EQ(loaded->notices[i].first, written[i].first);
    expect_same(loaded->notices[i].second.view(), written[i].second.view());
  }
}

TEST(TaskNotice, FrameMergeKeepsNoticesInPlace) {
  ZstdCompressor compressor(1);
  SyntheticWorkload workload(builtin_catalogue(Arch::x86_64), 3);
  const std::string siginfo = segv_siginfo();
  std::vector<EncodedFrame> frames;
  for (int f = 0; f < 3; ++f) {
    EventBatchBuilder b;
    b.add(workload.next());
    b.add_notice(signal_notice(1, 10 + f, siginfo));
    b.add(workload.next());
    if (f == 2) b.add_notice(exit_notice(1, 20, 0, true));  // after the last event
    frames.push_back(b.finish(compressor));
  }
  EventFrameMerger merger;
  auto merged = merger.merge(frames, compressor);
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  ZstdDecompressor d;
  std::string raw(merged->raw_size, '\0');
  ASSERT_TRUE(d.decompress(std::string_view(merged->bytes).substr(kFrameHeaderBytes), raw.data(), raw.size()).ok());
  DecodedBatch out;
  ASSERT_TRUE(decode_event_batch(raw, out, ReaderLimits{}).ok());
  ASSERT_EQ(out.size(), 6u);
  const auto n = out.notices();
  ASSERT_EQ(n.size(), 4u);
  EXPECT_EQ(n[0].before_event, 1u);
  EXPECT_EQ(n[1].before_event, 3u);
  EXPECT_EQ(n[2].before_event, 5u);
  EXPECT_EQ(n[3].before_event, 6u);
  EXPECT_EQ(n[2].notice.at_ns, 12u);
  EXPECT_EQ(n[2].notice.siginfo, siginfo);
  EXPECT_EQ(n[3].notice.kind, TaskNotice::Kind::exit);
  EXPECT_TRUE(n[3].notice.group_dead);
}

TEST(TaskNotice, ABatchOfNoticesAloneIsWritten) {
  ZstdCompressor compressor(1);
  EventBatchBuilder b;
  EXPECT_TRUE(b.empty());
  b.add_notice(exit_notice(1, 5, 0, true));
  EXPECT_FALSE(b.empty());
  EncodedFrame f = b.finish(compressor);
  EXPECT_EQ(f.event_count, 0u);
  std::string raw(f.raw_size, '\0');
  ZstdDecompressor d;
  ASSERT_TRUE(d.decompress(std::string_view(f.bytes).substr(kFrameHeaderBytes), raw.data(), raw.size()).ok());
  DecodedBatch out;
  ASSERT_TRUE(decode_event_batch(raw, out, ReaderLimits{}).ok());
  ASSERT_EQ(out.notices().size(), 1u);
  EXPECT_EQ(out.notices()[0].before_event, 0u);
}

// A file of format 4.2 (before notices) reads as before, with none.
TEST(TaskNotice, OlderMinorFilesHaveNone) {
  const auto path = traceloop::testing::source_dir() / "testdata" / "real" / "multiplication.tl";
  auto loaded = load_trace(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_LT(loaded->metadata.format_minor, 3);
  EXPECT_FALSE(loaded->events.empty());
  EXPECT_TRUE(loaded->notices.empty());
}

// Hand-made batches with hostile notices: refused with one line, never read
// beyond the message.
std::string batch_with(const std::function<void(schema::TaskNotice::Builder)>& fill, uint32_t count = 0) {
  capnp::MallocMessageBuilder message;
  auto batch = message.initRoot<schema::EventBatch>();
  batch.setCount(count);
  batch.setColumnEncoding(3);
  fill(batch.initNotices(1)[0]);
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

TEST(TaskNotice, HostileNoticesAreRefused) {
  DecodedBatch out;
  auto ok = batch_with([](schema::TaskNotice::Builder n) {
    n.setComm("x");
    n.initExit().setStatus(0);
  });
  ASSERT_TRUE(decode_event_batch(ok, out, ReaderLimits{}).ok());
  ASSERT_EQ(out.notices().size(), 1u);

  auto beyond = batch_with([](schema::TaskNotice::Builder n) {
    n.setBeforeEvent(1);
    n.initExit();
  });
  auto r = decode_event_batch(beyond, out, ReaderLimits{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("task notice out of range"), std::string::npos);

  auto long_siginfo = batch_with([](schema::TaskNotice::Builder n) {
    auto s = n.initSignal();
    s.setSigno(11);
    s.initSiginfo(129);
  });
  r = decode_event_batch(long_siginfo, out, ReaderLimits{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("siginfo too long"), std::string::npos);

  auto long_comm = batch_with([](schema::TaskNotice::Builder n) {
    n.setComm(std::string(65, 'c'));
    n.initExit();
  });
  r = decode_event_batch(long_comm, out, ReaderLimits{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("name too long"), std::string::npos);

  // a full siginfo_t is fine
  auto full = batch_with([](schema::TaskNotice::Builder n) { n.initSignal().initSiginfo(128); });
  ASSERT_TRUE(decode_event_batch(full, out, ReaderLimits{}).ok());
  EXPECT_EQ(out.notices()[0].notice.siginfo.size(), 128u);
}

TEST(TaskNotice, BuilderCutsAnOverlongSiginfo) {
  ZstdCompressor compressor(1);
  EventBatchBuilder b;
  const std::string big(300, 'x');
  b.add_notice(signal_notice(1, 1, big));
  EncodedFrame f = b.finish(compressor);
  std::string raw(f.raw_size, '\0');
  ZstdDecompressor d;
  ASSERT_TRUE(d.decompress(std::string_view(f.bytes).substr(kFrameHeaderBytes), raw.data(), raw.size()).ok());
  DecodedBatch out;
  ASSERT_TRUE(decode_event_batch(raw, out, ReaderLimits{}).ok());
  EXPECT_EQ(out.notices()[0].notice.siginfo, big.substr(0, TaskNotice::kSiginfoBytes));
}

}  // namespace
}  // namespace traceloop::format
