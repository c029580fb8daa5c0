#include "recorder/daemon/flight_buffer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "format/synthetic_workload.h"
#include "format/trace_reader.h"
#include "recorder/daemon/publisher.h"
#include "recorder/daemon/total_budget.h"
#include "tests/support/same_event.h"
#include "tests/support/temp_dir.h"

namespace traceloop::daemon {
namespace {

const format::Catalogue& catalogue() { return format::builtin_catalogue(format::Arch::x86_64); }

format::TraceMetadata metadata_for(const std::string& id) {
  format::TraceMetadata m;
  format::fill_host_metadata(m);
  m.catalogue = catalogue();
  m.capture.mode = "daemon";
  format::ContainerInfo c;
  c.id = id;
  c.pod_name = "pod";
  m.containers.push_back(c);
  return m;
}

void feed(FlightBuffer& buffer, FlightCodec& codec, uint64_t n, uint64_t seed, uint32_t container = 7) {
  format::SyntheticWorkload work(catalogue(), seed);
  for (uint64_t i = 0; i < n; ++i) {
    format::Event e = work.next();
    e.container = container;
    buffer.add(e, codec);
  }
}

TEST(FlightBuffer, KeepsEverythingWithinBudget) {
  FlightCodec codec(3);
  FlightBuffer buffer({.budget_bytes = 8u << 20});
  feed(buffer, codec, 5000, 1);
  EXPECT_EQ(buffer.events_seen(), 5000u);
  EXPECT_EQ(buffer.events_held(), 5000u);
  EXPECT_EQ(buffer.overwritten(), 0u);

  testing::TempDir dir;
  auto path = dir / "c.tl";
  ASSERT_TRUE(buffer.write(path, metadata_for("c"), {}, codec).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto trace = format::load_trace(path);
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  ASSERT_EQ(trace->events.size(), 5000u);
  EXPECT_TRUE(trace->losses.empty());
  EXPECT_EQ(trace->events.front().fields.container, 0u);  // re-indexed for the one-container file
  EXPECT_EQ(trace->metadata.containers.at(0).id, "c");
  ASSERT_TRUE(trace->counters.has_value());
  EXPECT_EQ(trace->counters->events_recorded, 5000u);
  EXPECT_EQ(trace->counters->events_overwritten, 0u);

  // The same events, in order, as the generator made them.
  format::SyntheticWorkload again(catalogue(), 1);
  for (size_t i = 0; i < 5000; ++i) ASSERT_EQ(trace->events[i].fields.enter_ns, again.next().enter_ns) << i;
}

// Signal deliveries and process ends come with the calls of a fork-heavy
// workload (a shell's children: an exit and a SIGCHLD each); they must cost
// the history about what they weigh, not its depth.
TEST(FlightBuffer, TaskNoticesCostTheHistoryLittleDepth) {
  // (Below some 32 KiB the open batch's own tables take most of a budget,
  // with or without notices.)
  for (const uint64_t budget : {uint64_t{64} << 10, uint64_t{256} << 10}) {
    auto held_with = [&](bool notices) {
      FlightCodec codec(3);
      FlightBuffer buffer({.budget_bytes = budget});
      format::SyntheticWorkload work(catalogue(), 5);
      const std::string siginfo(48, '\x11');
      for (uint64_t i = 0; i < 40000; ++i) {
        format::Event e = work.next();
        buffer.add(e, codec);
        if (notices && i % 35 == 34) {
          format::TaskNotice n;  // a child's end, then its parent's SIGCHLD
          n.kind = format::TaskNotice::Kind::exit;
          n.at_ns = e.enter_ns + 1;
          n.pid = n.tid = e.pid + 1;
          n.comm = e.comm;
          n.exit_status = 3 << 8;
          n.group_dead = true;
          buffer.add_notice(n);
          n.kind = format::TaskNotice::Kind::signal;
          n.pid = n.tid = e.pid;
          n.signo = 17;
          n.siginfo = siginfo;
          buffer.add_notice(n);
        }
      }
      return buffer.events_held();
    };
    const uint64_t plain = held_with(false), with_notices = held_with(true);
    std::printf("events held in %llu KiB: %llu plain, %llu with an exit and a SIGCHLD every 35 calls\n",
                static_cast<unsigned long long>(budget >> 10), static_cast<unsigned long long>(plain),
                static_cast<unsigned long long>(with_notices));
    EXPECT_GT(with_notices, plain * 7 / 10) << budget;
  }
}

TEST(FlightBuffer, DropsOldestFirstAndCountsOverwritten) {
  FlightCodec codec(3);
  FlightBuffer buffer({.budget_bytes = 64u << 10, .chunk_raw_bytes = 16u << 10});
  feed(buffer, codec, 200000, 2);
  EXPECT_LE(buffer.bytes(), buffer.budget());
  EXPECT_GT(buffer.overwritten(), 0u);
  EXPECT_EQ(buffer.overwritten() + buffer.events_held(), 200000u);

  testing::TempDir dir;
  ASSERT_TRUE(buffer.write(dir / "c.tl", metadata_for("c"), {}, codec).ok());
  auto trace = format::load_trace(dir / "c.tl");
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  EXPECT_EQ(trace->events.size(), buffer.events_held());
  ASSERT_FALSE(trace->losses.empty());
  EXPECT_EQ(trace->losses.front().first, 0u);  // before the first retained event
  EXPECT_EQ(trace->losses.front().second.overwritten, buffer.overwritten());
  EXPECT_EQ(trace->counters->events_overwritten, buffer.overwritten());
  // What is kept is the most recent tail of the stream.
  format::SyntheticWorkload again(catalogue(), 2);
  uint64_t last = 0;
  for (uint64_t i = 0; i < 200000; ++i) last = again.next().enter_ns;
  EXPECT_EQ(trace->events.back().fields.enter_ns, last);
}

TEST(FlightBuffer, SnapshotDoesNotStopRecording) {
  FlightCodec codec(3);
  FlightBuffer buffer;
  feed(buffer, codec, 1000, 3);
  testing::TempDir dir;
  ASSERT_TRUE(buffer.write(dir / "s1.tl", metadata_for("c"), {}, codec).ok());
  feed(buffer, codec, 500, 4);
  ASSERT_TRUE(buffer.write(dir / "s2.tl", metadata_for("c"), {}, codec).ok());
  EXPECT_EQ(format::load_trace(dir / "s1.tl")->events.size(), 1000u);
  EXPECT_EQ(format::load_trace(dir / "s2.tl")->events.size(), 1500u);
}

TEST(FlightBuffer, RingLossesAreKeptInPlace) {
  FlightCodec codec(3);
  FlightBuffer buffer;
  feed(buffer, codec, 10, 5);
  format::LossMarker loss;
  loss.lost = 17;
  loss.cpu = 1;
  buffer.add_loss(loss);
  feed(buffer, codec, 10, 6);
  EXPECT_EQ(buffer.lost(), 17u);
  testing::TempDir dir;
  ASSERT_TRUE(buffer.write(dir / "l.tl", metadata_for("c"), {}, codec).ok());
  auto trace = format::load_trace(dir / "l.tl");
  ASSERT_TRUE(trace.ok());
  ASSERT_EQ(trace->losses.size(), 1u);
  EXPECT_EQ(trace->losses[0].first, 10u);
  EXPECT_EQ(trace->losses[0].second.lost, 17u);
  EXPECT_EQ(trace->counters->events_lost, 17u);
}

TEST(FlightBuffer, UnwritableDestinationIsAnError) {
  FlightCodec codec(3);
  FlightBuffer buffer;
  feed(buffer, codec, 10, 7);
  auto r = buffer.write("/nonexistent-dir/x.tl", metadata_for("c"), {}, codec);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(buffer.events_held(), 10u);  // history survives a failed write
}

// History depth is a size property of the encoding, deterministic for a
// seed: the SPEC's target is 100,000 syscalls of a shell workload per MiB
// (bench/recorder/daemon/history_depth_bench prints the figure).
TEST(FlightBuffer, HistoryDepthPerMiBMeetsTheTarget) {
  FlightCodec codec(3);
  FlightBuffer buffer({.budget_bytes = 1u << 20});
  feed(buffer, codec, 1'000'000, 8);
  EXPECT_GT(buffer.overwritten(), 0u);
  EXPECT_LE(buffer.bytes(), buffer.budget());
  EXPECT_GE(buffer.events_held(), 100'000u) << "bytes " << buffer.bytes();
}

TEST(FlightBuffer, MergingSmallFramesKeepsEveryEventAndLoss) {
  FlightCodec codec(3);
  // Small frames of 16 KiB merged by 128 KiB: several merges in 30,000 events.
  FlightBuffer buffer({.budget_bytes = 64u << 20, .chunk_raw_bytes = 16u << 10, .merge_raw_bytes = 128u << 10});
  format::SyntheticWorkload work(catalogue(), 11);
  size_t seals = 0;
  for (uint64_t i = 0; i < 30000; ++i) {
    if (i % 7000 == 3000) buffer.add_loss(format::LossMarker{.lost = i, .cpu = 0});
    const size_t frames = buffer.frame_count();
    buffer.add(work.next(), codec);
    seals += buffer.frame_count() != frames;
  }
  EXPECT_GT(seals, 3u);
  EXPECT_LT(buffer.frame_count(), 30000u * 90 / (16u << 10)) << "small frames were merged";
  EXPECT_EQ(buffer.events_held(), 30000u);

  testing::TempDir dir;
  ASSERT_TRUE(buffer.write(dir / "m.tl", metadata_for("c"), {}, codec).ok());
  auto trace = format::load_trace(dir / "m.tl");
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  ASSERT_EQ(trace->events.size(), 30000u);
  format::SyntheticWorkload again(catalogue(), 11);
  for (size_t i = 0; i < 30000; ++i) {
    const format::Event& want = again.next();
    ASSERT_NO_FATAL_FAILURE(testing::expect_same_event(trace->events[i].view(), want, i));
  }
  ASSERT_EQ(trace->losses.size(), 4u);  // at 3000, 10000, 17000, 24000
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(trace->losses[k].first, 3000 + 7000 * k);
    EXPECT_EQ(trace->losses[k].second.lost, 3000 + 7000 * k);
  }
}

TEST(FlightBuffer, MicrosecondTimesThroughMergesAndDeeperHistory) {
  FlightCodec codec(3);
  FlightBuffer buffer({.budget_bytes = 64u << 20, .chunk_raw_bytes = 16u << 10, .merge_raw_bytes = 128u << 10,
                       .time_unit_ns = 1000});
  format::SyntheticWorkload work(catalogue(), 12);
  for (int i = 0; i < 20000; ++i) buffer.add(work.next(), codec);
  testing::TempDir dir;
  auto metadata = metadata_for("c");
  metadata.capture.timestamp_resolution_ns = 1000;
  ASSERT_TRUE(buffer.write(dir / "us.tl", metadata, {}, codec).ok());
  auto trace = format::load_trace(dir / "us.tl");
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  ASSERT_EQ(trace->events.size(), 20000u);
  format::SyntheticWorkload again(catalogue(), 12);
  for (size_t i = 0; i < 20000; ++i) {
    format::Event want = again.next();
    want.enter_ns -= want.enter_ns % 1000;
    if (want.state == format::CallState::returned) want.exit_ns -= want.exit_ns % 1000;
    ASSERT_NO_FATAL_FAILURE(testing::expect_same_event(trace->events[i].view(), want, i));
  }

  FlightBuffer ns_buffer({.budget_bytes = 1u << 20});
  FlightBuffer us_buffer({.budget_bytes = 1u << 20, .time_unit_ns = 1000});
  feed(ns_buffer, codec, 400'000, 8);
  feed(us_buffer, codec, 400'000, 8);
  EXPECT_GT(us_buffer.events_held(), ns_buffer.events_held() * 11 / 10) << "microseconds keep 10% more history";
}

// The worker's results come back to the buffer the way the daemon's loop
// hands them: by owner, at whatever moment.
void install_all(MergeWorker& worker, FlightBuffer& buffer) {
  worker.wait_idle();
  for (auto& result : worker.take_done()) buffer.install(std::move(result));
}

TEST(FlightBuffer, MergesOnTheWorkerKeepEveryEventAndLossInOrder) {
  MergeWorker worker(3);
  FlightCodec codec(3, &worker);
  FlightBuffer buffer({.budget_bytes = 64u << 20, .chunk_raw_bytes = 16u << 10, .merge_raw_bytes = 128u << 10,
                       .owner = 5});
  format::SyntheticWorkload work(catalogue(), 21);
  size_t most_frames = 0;
  for (uint64_t i = 0; i < 30000; ++i) {
    if (i % 7000 == 3000) buffer.add_loss(format::LossMarker{.lost = i, .cpu = 0});
    buffer.add(work.next(), codec);
    most_frames = std::max(most_frames, buffer.frame_count());
    if (i % 5000 == 4999) install_all(worker, buffer);
  }
  install_all(worker, buffer);
  EXPECT_LT(buffer.frame_count(), most_frames) << "merged frames replaced small ones";
  EXPECT_EQ(buffer.events_held(), 30000u);

  testing::TempDir dir;
  ASSERT_TRUE(buffer.write(dir / "w.tl", metadata_for("c"), {}, codec).ok());
  auto trace = format::load_trace(dir / "w.tl");
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  ASSERT_EQ(trace->events.size(), 30000u);
  format::SyntheticWorkload again(catalogue(), 21);
  for (size_t i = 0; i < 30000; ++i)
    ASSERT_NO_FATAL_FAILURE(testing::expect_same_event(trace->events[i].view(), again.next(), i));
  ASSERT_EQ(trace->losses.size(), 4u);
  for (size_t k = 0; k < 4; ++k) EXPECT_EQ(trace->losses[k].first, 3000 + 7000 * k);
}

TEST(FlightBuffer, AMergeOfFramesOverwrittenMeanwhileIsDiscarded) {
  MergeWorker worker(3);
  FlightCodec codec(3, &worker);
  FlightBuffer buffer({.budget_bytes = 4u << 20, .chunk_raw_bytes = 16u << 10, .merge_raw_bytes = 64u << 10});
  format::SyntheticWorkload work(catalogue(), 22);
  // Sealed frames go to the worker; none comes back before the buffer drops
  // them all.
  while (buffer.frame_count() < 6) buffer.add(work.next(), codec);
  worker.wait_idle();
  auto results = worker.take_done();
  ASSERT_FALSE(results.empty());
  while (buffer.drop_oldest()) {
  }
  const uint64_t held = buffer.events_held();
  const uint64_t bytes = buffer.bytes();
  for (auto& r : results) buffer.install(std::move(r));
  EXPECT_EQ(buffer.frame_count(), 0u);
  EXPECT_EQ(buffer.events_held(), held);
  EXPECT_EQ(buffer.bytes(), bytes);

  // A buffer that did not ask (a container's next history) ignores results.
  FlightBuffer other({.budget_bytes = 4u << 20, .chunk_raw_bytes = 16u << 10, .merge_raw_bytes = 64u << 10});
  while (other.frame_count() < 3) other.add(work.next(), codec);
  worker.wait_idle();
  auto theirs = worker.take_done();
  FlightBuffer bystander({.budget_bytes = 4u << 20, .chunk_raw_bytes = 16u << 10});
  while (bystander.frame_count() < 3) bystander.add(work.next(), codec);
  const size_t frames = bystander.frame_count();
  for (auto& r : theirs) bystander.install(std::move(r));
  EXPECT_EQ(bystander.frame_count(), frames);
}

TEST(FlightBuffer, SmallFramesGatheredWhileTheWorkerIsBusyMergeInBoundedGroups) {
  MergeWorker worker(3, 1);
  ASSERT_TRUE(worker.submit(MergeJob{}));  // the worker's one job is out: every merge is refused
  FlightCodec codec(3, &worker);
  FlightBuffer buffer({.budget_bytes = 256u << 20, .chunk_raw_bytes = 16u << 10, .merge_raw_bytes = 64u << 10});
  format::SyntheticWorkload work(catalogue(), 25);
  for (int i = 0; i < 40000; ++i) buffer.add(work.next(), codec);
  const size_t small = buffer.frame_count();
  ASSERT_GT(small, 20u);
  testing::TempDir dir;
  ASSERT_TRUE(buffer.write(dir / "g.tl", metadata_for("c"), {}, codec).ok());
  // Merged by the merge size, not into one frame of everything.
  EXPECT_LT(buffer.frame_count(), small);
  EXPECT_GE(buffer.frame_count(), small / 5);
  auto trace = format::load_trace(dir / "g.tl");
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  EXPECT_EQ(trace->events.size(), 40000u);
}

TEST(MergeWorker, RefusesJobsBeyondItsBound) {
  MergeWorker worker(3, 1);
  FlightCodec codec(3);
  FlightBuffer buffer({.budget_bytes = 4u << 20, .chunk_raw_bytes = 16u << 10});
  format::SyntheticWorkload work(catalogue(), 23);
  while (buffer.frame_count() < 1) buffer.add(work.next(), codec);
  EXPECT_TRUE(worker.submit(MergeJob{}));
  EXPECT_FALSE(worker.submit(MergeJob{})) << "one job out: the next waits until its result is taken";
  worker.wait_idle();
  EXPECT_EQ(worker.take_done().size(), 1u);
  EXPECT_TRUE(worker.submit(MergeJob{}));
}

// Frames are kept at their size: what the budget counts is what they hold.
TEST(FlightBuffer, CountsFramesAndTheOpenBatchAsAllocated) {
  FlightCodec codec(3);
  FlightBuffer buffer({.budget_bytes = 64u << 20, .chunk_raw_bytes = 64u << 10, .merge_raw_bytes = 64u << 10});
  format::SyntheticWorkload work(catalogue(), 24);
  for (int i = 0; i < 20000; ++i) buffer.add(work.next(), codec);
  buffer.seal(codec);
  testing::TempDir dir;
  ASSERT_TRUE(buffer.write(dir / "a.tl", metadata_for("c"), {}, codec).ok());
  const auto file = std::filesystem::file_size(dir / "a.tl");
  // The file holds the frames plus a header and a trailer; the buffer's count
  // of them must not be the compressor's bound (several times their size).
  EXPECT_LE(buffer.bytes(), file + 4096);
  EXPECT_GE(buffer.bytes() + 65536, file);

  // An open batch counts its columns' capacity, at least its raw bytes.
  format::EventBatchBuilder batch(65536, 1u << 30);
  for (int i = 0; i < 5000; ++i) batch.add(work.next());
  EXPECT_GE(batch.memory_bytes(), batch.raw_bytes());
  EXPECT_LE(batch.memory_bytes(), 2 * batch.raw_bytes() + (64u << 10));
}

TEST(TotalBudget, EvictsFromTheLargestFirst) {
  FlightCodec codec(3);
  FlightBuffer noisy({.budget_bytes = 4u << 20, .chunk_raw_bytes = 16u << 10});
  FlightBuffer quiet({.budget_bytes = 4u << 20, .chunk_raw_bytes = 16u << 10});
  feed(quiet, codec, 3000, 9);
  quiet.seal(codec);
  uint64_t quiet_events = quiet.events_held();
  feed(noisy, codec, 300000, 10);
  std::vector<FlightBuffer*> all = {&noisy, &quiet};
  uint64_t total = quiet.bytes() + (512u << 10);
  EXPECT_GT(enforce_total_budget(all, total, codec), 0u);
  EXPECT_LE(noisy.bytes() + quiet.bytes(), total);
  EXPECT_EQ(quiet.events_held(), quiet_events);
  EXPECT_EQ(quiet.overwritten(), 0u);
  EXPECT_EQ(noisy.overwritten() + noisy.events_held(), 300000u);
}

TEST(TotalBudget, SealsOpenBatchesAndCountsWhatItCannotDrop) {
  FlightCodec codec(3);
  FlightBuffer a({.budget_bytes = 4u << 20, .chunk_raw_bytes = 1u << 20});
  FlightBuffer b({.budget_bytes = 4u << 20, .chunk_raw_bytes = 1u << 20});
  feed(a, codec, 4000, 31);
  feed(b, codec, 1000, 32);
  ASSERT_EQ(a.frame_count() + b.frame_count(), 0u) << "open batches only";
  std::vector<FlightBuffer*> all = {&a, &b};
  const uint64_t open = a.bytes() + b.bytes();
  // Room for both once compressed: the larger is sealed, nothing is lost.
  EXPECT_EQ(enforce_total_budget(all, open * 3 / 4, codec), 0u);
  EXPECT_EQ(a.frame_count(), 1u);
  EXPECT_EQ(a.events_held() + b.events_held(), 5000u);
  EXPECT_LE(a.bytes() + b.bytes(), open * 3 / 4);
  // What the budget cannot drop (process tables, histories being written)
  // leaves less for the events.
  const uint64_t held = a.bytes() + b.bytes();
  EXPECT_GT(enforce_total_budget(all, held, codec, b.bytes() + 1), 0u);
  EXPECT_GT(a.overwritten() + b.overwritten(), 0u);
}

}  // namespace
}  // namespace traceloop::daemon

namespace traceloop::daemon {
namespace {

TEST(Publisher, WritesHistoriesOnItsThreadAndReportsFailures) {
  testing::TempDir dir;
  FlightCodec codec(3);
  {
    Publisher publisher(3);
    for (int i = 0; i < 3; ++i) {
      FlightBuffer buffer;
      feed(buffer, codec, 1000, 20 + static_cast<uint64_t>(i));
      publisher.submit({std::move(buffer), metadata_for("c"), {}, dir / ("c" + std::to_string(i) + ".tl")});
    }
    FlightBuffer doomed;
    feed(doomed, codec, 10, 30);
    publisher.submit({std::move(doomed), metadata_for("d"), {}, "/nonexistent-dir/d.tl"});
    publisher.wait_idle();
    EXPECT_FALSE(publisher.busy_with(dir / "c0.tl"));
    auto done = publisher.take_done();
    ASSERT_EQ(done.size(), 4u);
    int failures = 0;
    for (const auto& d : done) failures += d.error.has_value() ? 1 : 0;
    EXPECT_EQ(failures, 1);
    // Handed over and not waited for: the destructor still writes it.
    FlightBuffer last;
    feed(last, codec, 500, 31);
    publisher.submit({std::move(last), metadata_for("e"), {}, dir / "e.tl"});
  }
  for (const char* name : {"c0.tl", "c1.tl", "c2.tl"}) {
    auto trace = format::load_trace(dir / name);
    ASSERT_TRUE(trace.ok()) << name;
    EXPECT_EQ(trace->events.size(), 1000u);
  }
  EXPECT_EQ(format::load_trace(dir / "e.tl")->events.size(), 500u);
}

}  // namespace
}  // namespace traceloop::daemon
