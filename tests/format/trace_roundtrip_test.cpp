// Write traces with TraceWriter, read them back with TraceReader: everything
// that went in comes out, in order, including captured data, loss markers,
// unfinished calls, processes, metadata and counters.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <set>

#include "format/frame_codec.h"
#include "format/frame_export.h"
#include "format/synthetic_workload.h"
#include "format/trace_reader.h"
#include "format/trace_writer.h"
#include "format/zstd_codec.h"
#include "tests/support/file_bytes.h"
#include "tests/support/frame_walk.h"
#include "tests/support/temp_dir.h"

namespace traceloop::format {
namespace {

using testing::TempDir;

TraceMetadata sample_metadata() {
  TraceMetadata m;
  fill_host_metadata(m);
  m.arch = Arch::x86_64;
  m.catalogue = builtin_catalogue(Arch::x86_64);
  m.capture.mode = "run";
  m.capture.syscall_filters = {"openat", "write"};
  m.capture.max_data_bytes = 64;
  m.command = {"sh", "-c", "echo hi"};
  ContainerInfo c;
  c.id = "ef6f2d3f44b555";
  c.name = "mypod";
  c.runtime = "runc";
  c.pod_name = "mypod";
  c.pod_namespace = "test";
  c.container_name = "mypod";
  c.cgroup_path = "/sys/fs/cgroup/unified/kubepods/ef6f";
  c.cgroup_id = 1234;
  c.mount_ns_id = 4026532000;
  c.annotations = {{"io.kubernetes.pod.name", "mypod"}};
  c.image = "bb:local";
  c.labels = {{"app", "demo"}, {"tier", "web"}};
  c.runtime_namespace = "moby";
  c.init_pid = 4242;
  m.containers = {ContainerInfo{}, c};
  return m;
}

OwnedEvent make_event(uint64_t t, uint32_t tid, uint32_t nr, int64_t ret, std::string comm) {
  OwnedEvent e;
  e.fields.enter_ns = t;
  e.fields.exit_ns = t + 1500;
  e.fields.pid = 100;
  e.fields.tid = tid;
  e.fields.cpu = tid % 4;
  e.fields.nr = nr;
  e.fields.ret = ret;
  e.fields.arg_count = 6;
  e.fields.args = {static_cast<uint64_t>(-100), 0x7ffc12345678, 0x80000, 0, 0xdeadbeef, UINT64_MAX};
  e.comm = std::move(comm);
  return e;
}

void expect_same(const Event& a, const Event& b) {
  EXPECT_EQ(a.enter_ns, b.enter_ns);
  EXPECT_EQ(a.exit_ns, b.exit_ns);
  EXPECT_EQ(a.pid, b.pid);
  EXPECT_EQ(a.tid, b.tid);
  EXPECT_EQ(a.cpu, b.cpu);
  EXPECT_EQ(a.nr, b.nr);
  EXPECT_EQ(a.container, b.container);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.ret, b.ret);
  EXPECT_EQ(a.comm, b.comm);
  for (unsigned i = 0; i < a.arg_count; ++i) EXPECT_EQ(a.args[i], b.args[i]) << "arg " << i;
  ASSERT_EQ(a.captures.size(), b.captures.size());
  for (size_t i = 0; i < a.captures.size(); ++i) {
    EXPECT_EQ(a.captures[i].arg, b.captures[i].arg);
    EXPECT_EQ(a.captures[i].size, b.captures[i].size);
    EXPECT_EQ(a.captures[i].bytes, b.captures[i].bytes);
  }
}

TEST(TraceRoundTrip, EventsDataLossesUnfinishedAndMetadata) {
  TempDir dir;
  const auto path = dir / "t.tl";
  const TraceMetadata metadata = sample_metadata();
  std::vector<OwnedEvent> events;
  events.push_back(make_event(1000, 100, 257, 3, "cat"));
  events.back().captures.push_back({1, 15, std::string("/tmp/file-3240\0", 15)});
  events.push_back(make_event(900, 101, 1, 60, "cat"));  // time goes backwards: deltas are signed
  events.back().captures.push_back({1, 600, std::string(64, 'x')});  // truncated buffer
  events.push_back(make_event(5000, 100, 231, 0, "cat"));
  events.back().fields.state = CallState::never_returned;
  events.back().fields.exit_ns = 0;
  events.push_back(make_event(6000, 102, 0, 0, "bc\x1b[31m"));
  events.back().fields.state = CallState::unfinished;
  events.back().fields.exit_ns = 0;
  events.back().fields.container = 1;
  events.push_back(make_event(7000, 102, 0, -2, "bc"));
  events.back().fields.arg_count = 3;
  events.back().fields.args = {0, 1, 2, 0, 0, 0};

  {
    auto writer = TraceWriter::create(path, metadata);
    ASSERT_TRUE(writer.ok()) << writer.error().message;
    ASSERT_TRUE(writer->append(events[0].view()).ok());
    ASSERT_TRUE(writer->append_loss({.lost = 17, .overwritten = 0, .cpu = 1, .container = 0, .at_ns = 950}).ok());
    for (size_t i = 1; i < events.size(); ++i) ASSERT_TRUE(writer->append(events[i].view()).ok());
    ASSERT_TRUE(writer->append_loss({.lost = 0, .overwritten = 5, .cpu = -1, .container = 1, .at_ns = 8000}).ok());
    ProcessInfo p{.pid = 100, .ppid = 1, .comm = "cat", .argv = {"cat", "/tmp/file-3240"}, .container = 1,
                  .start_ns = 10, .exit_ns = 9000, .exit_status = 256};
    ASSERT_TRUE(writer->append_processes(std::vector<ProcessInfo>{p}).ok());
    writer->counters().lost_per_cpu = {0, 17};
    ASSERT_TRUE(writer->finish().ok());
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto loaded = load_trace(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_TRUE(loaded->warnings.empty());
  ASSERT_EQ(loaded->events.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    SCOPED_TRACE(i);
    expect_same(loaded->events[i].view(), events[i].view());
  }
  ASSERT_EQ(loaded->losses.size(), 2u);
  EXPECT_EQ(loaded->losses[0].first, 1u);
  EXPECT_EQ(loaded->losses[0].second.lost, 17u);
  EXPECT_EQ(loaded->losses[0].second.cpu, 1);
  EXPECT_EQ(loaded->losses[1].first, events.size());
  EXPECT_EQ(loaded->losses[1].second.overwritten, 5u);
  ASSERT_EQ(loaded->processes.size(), 1u);
  EXPECT_EQ(loaded->processes[0].argv, (std::vector<std::string>{"cat", "/tmp/file-3240"}));
  EXPECT_EQ(loaded->processes[0].exit_status, 256);
  ASSERT_TRUE(loaded->counters.has_value());
  EXPECT_EQ(loaded->counters->events_recorded, events.size());
  EXPECT_EQ(loaded->counters->events_lost, 17u);
  EXPECT_EQ(loaded->counters->events_overwritten, 5u);
  EXPECT_EQ(loaded->counters->lost_per_cpu, (std::vector<uint64_t>{0, 17}));
  EXPECT_EQ(loaded->counters->first_ns, 900u);
  EXPECT_EQ(loaded->counters->last_ns, 7000u);

  const TraceMetadata& m = loaded->metadata;
  EXPECT_EQ(m.format_major, kFormatMajor);
  EXPECT_EQ(m.host_name, metadata.host_name);
  EXPECT_EQ(m.kernel_release, metadata.kernel_release);
  EXPECT_EQ(m.boot_to_wall_ns, metadata.boot_to_wall_ns);
  EXPECT_EQ(m.capture, metadata.capture);
  EXPECT_EQ(m.containers, metadata.containers);
  EXPECT_EQ(m.command, metadata.command);
  EXPECT_TRUE(m.catalogue == metadata.catalogue);
}

TEST(TraceRoundTrip, ManyFramesThroughTheRecordRange) {
  TempDir dir;
  const auto path = dir / "many.tl";
  TraceMetadata metadata = sample_metadata();
  SyntheticWorkload workload(metadata.catalogue, 7);
  std::vector<OwnedEvent> expected;
  {
    auto writer = TraceWriter::create(path, metadata, WriterOptions{.max_events_per_frame = 1000});
    ASSERT_TRUE(writer.ok());
    for (int i = 0; i < 25'000; ++i) {
      const Event& e = workload.next();
      expected.push_back(OwnedEvent::from(e));
      ASSERT_TRUE(writer->append(e).ok());
      if (i % 5000 == 4999) {
        ASSERT_TRUE(writer->append_loss({.lost = 3}).ok());
      }
    }
    ASSERT_TRUE(writer->finish().ok());
  }
  auto reader = TraceReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  size_t n_events = 0, n_losses = 0;
  for (const Record& r : reader->records()) {
    if (r.kind == Record::Kind::loss) {
      EXPECT_EQ(n_events % 5000, 0u);
      ++n_losses;
      continue;
    }
    ASSERT_LT(n_events, expected.size());
    expect_same(r.event, expected[n_events].view());
    ++n_events;
  }
  EXPECT_EQ(n_events, expected.size());
  EXPECT_EQ(n_losses, 5u);
  EXPECT_EQ(reader->counters()->events_lost, 15u);
}

TEST(TraceRoundTrip, AbandonedWriterLeavesNothingBehind) {
  TempDir dir;
  {
    auto writer = TraceWriter::create(dir / "x.tl", sample_metadata());
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(writer->append(make_event(1, 1, 1, 1, "a").view()).ok());
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(TraceRoundTrip, PublishedOnlyAfterFinish) {
  TempDir dir;
  auto writer = TraceWriter::create(dir / "x.tl", sample_metadata());
  ASSERT_TRUE(writer.ok());
  EXPECT_FALSE(std::filesystem::exists(dir / "x.tl"));
  ASSERT_TRUE(writer->finish().ok());
  EXPECT_TRUE(std::filesystem::exists(dir / "x.tl"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()), 1);
}

TEST(TraceRoundTrip, UnwritableDestinationFailsAtCreate) {
  auto writer = TraceWriter::create("/nonexistent-dir/x.tl", sample_metadata());
  ASSERT_FALSE(writer.ok());
  EXPECT_NE(writer.error().message.find("/nonexistent-dir/x.tl: cannot create trace file"), std::string::npos)
      << writer.error().message;
}

TEST(TraceRoundTrip, ADirectoryAsDestinationFailsAtCreate) {
  TempDir dir;
  std::filesystem::create_directory(dir / "sub");
  auto writer = TraceWriter::create(dir / "sub", sample_metadata());
  ASSERT_FALSE(writer.ok());
  EXPECT_NE(writer.error().message.find("sub: is a directory"), std::string::npos) << writer.error().message;
  // nothing left beside it either
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()), 1);
}

TEST(TraceRoundTrip, EmptyTrace) {
  TempDir dir;
  auto writer = TraceWriter::create(dir / "e.tl", sample_metadata());
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(writer->finish().ok());
  auto loaded = load_trace(dir / "e.tl");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_TRUE(loaded->events.empty());
  EXPECT_TRUE(loaded->warnings.empty());
  EXPECT_EQ(loaded->counters->events_recorded, 0u);
}

TEST(TraceRoundTrip, EncodedFramesFromElsewhereAreAppendedWithTheirCounts) {
  TempDir dir;
  const auto metadata = sample_metadata();
  ZstdCompressor compressor(3);
  EventBatchBuilder builder;
  builder.add(make_event(10, 1, 0, 5, "a").view());
  builder.add_loss({.overwritten = 40});
  builder.add(make_event(20, 1, 1, 5, "a").view());
  const EncodedFrame frame = builder.finish(compressor);
  EXPECT_TRUE(builder.empty());
  auto writer = TraceWriter::create(dir / "f.tl", metadata);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(writer->append(make_event(5, 1, 0, 5, "a").view()).ok());
  ASSERT_TRUE(writer->append_frame(frame).ok());
  ASSERT_TRUE(writer->finish().ok());
  auto loaded = load_trace(dir / "f.tl");
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->events.size(), 3u);
  EXPECT_EQ(loaded->events[0].fields.enter_ns, 5u);
  EXPECT_EQ(loaded->events[2].fields.enter_ns, 20u);
  EXPECT_EQ(loaded->counters->events_recorded, 3u);
  EXPECT_EQ(loaded->counters->events_overwritten, 40u);
  ASSERT_EQ(loaded->losses.size(), 1u);
  EXPECT_EQ(loaded->losses[0].first, 2u);
}

// Writes `n` synthetic events (several frames) with `options`; returns what
// went in.
std::vector<OwnedEvent> write_synthetic(const std::filesystem::path& path, size_t n, WriterOptions options,
                                        uint32_t resolution_ns = 1) {
  TraceMetadata m = sample_metadata();
  m.capture.timestamp_resolution_ns = resolution_ns;
  auto writer = TraceWriter::create(path, m, options);
  EXPECT_TRUE(writer.ok());
  SyntheticWorkload workload(m.catalogue, 7);
  std::vector<OwnedEvent> events;
  for (size_t i = 0; i < n; ++i) {
    events.push_back(OwnedEvent::from(workload.next()));
    EXPECT_TRUE(writer->append(events.back().view()).ok());
    if (i == n / 2) {
      EXPECT_TRUE(writer->append_loss(LossMarker{.lost = 3, .overwritten = 0, .cpu = 1, .container = 0, .at_ns = 9}).ok());
    }
  }
  ProcessInfo sh;
  sh.pid = 100;
  sh.comm = "sh";
  EXPECT_TRUE(writer->append_processes(std::vector<ProcessInfo>{sh}).ok());
  EXPECT_TRUE(writer->finish().ok());
  return events;
}

TEST(TraceRoundTrip, CompactionRecompressesAndKeepsOnlyTheCatalogueEntriesUsed) {
  TempDir dir;
  WriterOptions plain;
  plain.compression_level = 1;
  plain.max_events_per_frame = 5000;
  WriterOptions compact = plain;
  compact.compact_max_raw_bytes = 64u << 20;
  const auto events = write_synthetic(dir / "plain.tl", 20000, plain);
  write_synthetic(dir / "compact.tl", 20000, compact);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()), 2)
      << "no temporary file left";
  EXPECT_LT(std::filesystem::file_size(dir / "compact.tl"), std::filesystem::file_size(dir / "plain.tl") * 9 / 10);
  // Streamed frames are zstd; compacted events frames are LZMA2, the smaller,
  // each with its captured bytes in captures frames of the same LZMA2 stream.
  using Codecs = std::set<FrameCodec>;
  EXPECT_EQ(testing::frame_codecs(testing::read_file(dir / "plain.tl"))[FrameType::events], Codecs{FrameCodec::zstd});
  const auto compacted = testing::frame_codecs(testing::read_file(dir / "compact.tl"));
  EXPECT_EQ(compacted.at(FrameType::events), Codecs{FrameCodec::lzma2_stream});
  EXPECT_EQ(compacted.at(FrameType::captures), Codecs{FrameCodec::lzma2_stream});
  struct stat st{};
  ASSERT_EQ(::stat((dir / "compact.tl").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto full = load_trace(dir / "plain.tl");
  auto loaded = load_trace(dir / "compact.tl");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_TRUE(loaded->warnings.empty());
  ASSERT_EQ(loaded->events.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) ASSERT_NO_FATAL_FAILURE(expect_same(loaded->events[i].view(), events[i].view()));
  ASSERT_EQ(loaded->losses.size(), 1u);
  EXPECT_EQ(loaded->losses[0].first, 10001u);
  ASSERT_EQ(loaded->processes.size(), 1u);
  ASSERT_TRUE(loaded->counters.has_value());
  EXPECT_EQ(loaded->counters->events_recorded, events.size());
  EXPECT_EQ(loaded->counters->events_lost, 3u);

  std::set<uint32_t> used;
  for (const auto& e : events) used.insert(e.fields.nr);
  EXPECT_EQ(full->metadata.catalogue, builtin_catalogue(Arch::x86_64));
  ASSERT_EQ(loaded->metadata.catalogue.syscalls().size(), used.size());
  for (const uint32_t nr : used) {
    ASSERT_NE(loaded->metadata.catalogue.find(nr), nullptr);
    EXPECT_EQ(*loaded->metadata.catalogue.find(nr), *builtin_catalogue(Arch::x86_64).find(nr));
  }
  TraceMetadata rest = loaded->metadata, full_rest = full->metadata;
  rest.catalogue = full_rest.catalogue = Catalogue();
  EXPECT_EQ(rest.capture, full_rest.capture);
  EXPECT_EQ(rest.containers, full_rest.containers);
  EXPECT_EQ(rest.command, full_rest.command);
}

TEST(TraceRoundTrip, TracesOverTheCompactionLimitStayAsWritten) {
  TempDir dir;
  WriterOptions options;
  options.compact_max_raw_bytes = 1000;  // less than any frame
  write_synthetic(dir / "big.tl", 3000, options);
  auto loaded = load_trace(dir / "big.tl");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->metadata.catalogue, builtin_catalogue(Arch::x86_64));
  EXPECT_EQ(loaded->events.size(), 3000u);
}

TEST(TraceRoundTrip, ATraceCompactionCannotReadIsPublishedAsWritten) {
  // An events frame whose message is not an event batch (a daemon history
  // frame damaged in memory, say): compaction cannot decode it, so finish()
  // publishes the file as it was written, and its reader reports that frame.
  TempDir dir;
  WriterOptions options;
  options.compact_max_raw_bytes = 64u << 20;
  auto writer = TraceWriter::create(dir / "t.tl", sample_metadata(), options);
  ASSERT_TRUE(writer.ok()) << writer.error().message;
  SyntheticWorkload workload(builtin_catalogue(Arch::x86_64), 3);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(writer->append(workload.next()).ok());
  EncodedFrame bad;
  ZstdCompressor compressor(1);
  detail::encode_raw_frame(FrameType::events, std::string(64, '\xff'), 1, compressor, bad);
  ASSERT_TRUE(writer->append_frame(bad).ok());
  ASSERT_TRUE(writer->finish().ok());
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()), 1)
      << "no temporary file left";
  using Codecs = std::set<FrameCodec>;
  EXPECT_EQ(testing::frame_codecs(testing::read_file(dir / "t.tl"))[FrameType::events], Codecs{FrameCodec::zstd});
  auto reader = TraceReader::open(dir / "t.tl");
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(reader->metadata().catalogue, builtin_catalogue(Arch::x86_64)) << "not cut";
  size_t events = 0;
  for (;;) {
    auto batch = reader->next_batch();
    if (!batch) {
      EXPECT_NE(batch.error().message.find("corrupt frame"), std::string::npos) << batch.error().message;
      break;
    }
    ASSERT_NE(*batch, nullptr) << "the damaged frame is reported";
    events += (*batch)->size();
  }
  EXPECT_EQ(events, 100u);
}

TEST(TraceRoundTrip, EventTimesAreFlooredToTheCaptureResolution) {
  TempDir dir;
  const auto events = write_synthetic(dir / "us.tl", 3000, WriterOptions{}, 1000);
  auto loaded = load_trace(dir / "us.tl");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->metadata.capture.timestamp_resolution_ns, 1000u);
  ASSERT_EQ(loaded->events.size(), events.size());
  size_t not_whole_us = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& in = events[i].fields;
    const Event& out = loaded->events[i].fields;
    not_whole_us += in.enter_ns % 1000 != 0;
    EXPECT_EQ(out.enter_ns, in.enter_ns / 1000 * 1000);
    if (in.state == CallState::returned) {
      EXPECT_EQ(out.exit_ns, in.exit_ns / 1000 * 1000);
    }
  }
  EXPECT_GT(not_whole_us, events.size() / 2) << "the workload has nanoseconds to floor";
}

}  // namespace
}  // namespace traceloop::format
