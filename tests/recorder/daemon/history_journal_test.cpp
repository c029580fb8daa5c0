#include "recorder/daemon/history_journal.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "format/synthetic_workload.h"
#include "format/trace_reader.h"
#include "recorder/daemon/flight_buffer.h"
#include "recorder/daemon/publisher.h"
#include "tests/support/file_bytes.h"
#include "tests/support/frame_walk.h"
#include "tests/support/same_event.h"
#include "tests/support/temp_dir.h"

namespace traceloop::daemon {
namespace {

namespace fs = std::filesystem;

const format::Catalogue& catalogue() { return format::builtin_catalogue(format::Arch::x86_64); }

format::TraceMetadata metadata_for(const std::string& id) {
  format::TraceMetadata m;
  format::fill_host_metadata(m);
  m.catalogue = catalogue();
  m.capture.mode = "daemon";
  format::ContainerInfo c;
  c.id = id;
  m.containers.push_back(c);
  return m;
}

// The n events a seed's synthetic workload begins with.
std::vector<format::OwnedEvent> workload(uint64_t n, uint64_t seed) {
  format::SyntheticWorkload work(catalogue(), seed);
  std::vector<format::OwnedEvent> events;
  for (uint64_t i = 0; i < n; ++i) events.push_back(format::OwnedEvent::from(work.next()));
  return events;
}

void feed(FlightBuffer& buffer, FlightCodec& codec, const std::vector<format::OwnedEvent>& events, size_t from = 0,
          size_t to = SIZE_MAX) {
  for (size_t i = from; i < std::min(to, events.size()); ++i) buffer.add(events[i].view(), codec);
}

struct Collect : recorder::EventSink {
  void event(const format::Event& e) override { events.push_back(format::OwnedEvent::from(e)); }
  void loss(const format::LossMarker& l) override { losses.push_back(l); }
  void notice(const format::TaskNotice& n) override { notices.push_back(format::OwnedTaskNotice::from(n)); }
  std::vector<format::OwnedEvent> events;
  std::vector<format::LossMarker> losses;
  std::vector<format::OwnedTaskNotice> notices;
};

uint64_t bytes_in(const fs::path& dir) {
  uint64_t total = 0;
  for (const auto& entry : fs::directory_iterator(dir)) total += entry.file_size();
  return total;
}

// Small frames, sealed often: many writes, several segments.
FlightBufferOptions small_frames(uint64_t budget) {
  return {.budget_bytes = budget, .chunk_raw_bytes = 8u << 10, .merge_raw_bytes = 64u << 10};
}

TEST(HistoryJournal, EverySealedFrameIsOnDiskAsItSealsAndReadsBack) {
  testing::TempDir dir;
  FlightCodec codec(3);
  FlightBuffer buffer(small_frames(64u << 20));
  auto journal = HistoryJournal::create(dir.path(), "c1", metadata_for("c1"), 64u << 10, 0);
  ASSERT_TRUE(journal.ok()) << journal.error().message;
  const fs::path jdir = journal->dir();
  EXPECT_EQ(jdir.parent_path(), journal_root(dir.path()));
  buffer.keep_on_disk(std::move(*journal));
  const auto events = workload(20000, 1);
  feed(buffer, codec, events);
  // No write, no publication: what a SIGKILL leaves.
  const uint64_t sealed = buffer.sealed_total();
  ASSERT_GT(sealed, 10000u);
  ASSERT_LT(sealed, 20000u) << "the open batch is not on disk";
  ASSERT_GT(buffer.journal()->segment_count(), 1u);
  EXPECT_EQ(bytes_in(jdir), buffer.journal()->disk_bytes());
  struct stat st {};
  ASSERT_EQ(::stat(jdir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  Collect got;
  auto replayed = replay_journal(jdir, got);
  ASSERT_TRUE(replayed.ok()) << replayed.error().message;
  EXPECT_EQ(replayed->events_before, 0u);
  EXPECT_EQ(replayed->events, sealed);
  ASSERT_EQ(got.events.size(), sealed);
  for (size_t i = 0; i < got.events.size(); ++i)
    ASSERT_NO_FATAL_FAILURE(testing::expect_same_event(got.events[i].view(), events[i].view(), i));
  EXPECT_EQ(replayed->metadata.containers.at(0).id, "c1");
  // Each segment is a trace of its own, cut short: any reader shows it.
  auto first = format::load_trace(replayed->segments.front().path);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_GT(first->events.size(), 0u);
}

// The flight buffer drops its oldest frames to stay within its budget: the
// disk follows, segment by segment, and keeps every event the memory keeps.
TEST(HistoryJournal, TheDiskDropsWhatTheMemoryDropsAndStaysBounded) {
  testing::TempDir dir;
  FlightCodec codec(3);
  const uint64_t budget = 256u << 10, segment = 64u << 10;
  FlightBuffer buffer(small_frames(budget));
  auto journal = HistoryJournal::create(dir.path(), "c2", metadata_for("c2"), segment, 0);
  ASSERT_TRUE(journal.ok());
  const fs::path jdir = journal->dir();
  buffer.keep_on_disk(std::move(*journal));
  const auto events = workload(400000, 2);
  uint64_t most = 0;
  for (size_t i = 0; i < events.size(); i += 1000) {
    feed(buffer, codec, events, i, i + 1000);
    most = std::max(most, buffer.journal()->disk_bytes());
  }
  ASSERT_GT(buffer.overwritten(), 200000u) << "the budget must have dropped most of the history";
  EXPECT_EQ(bytes_in(jdir), buffer.journal()->disk_bytes());
  // The frames as sealed (not merged) for what the memory holds, and one
  // segment of older ones at most.
  EXPECT_LE(most, 2 * budget + segment + (64u << 10));

  Collect got;
  auto replayed = replay_journal(jdir, got);
  ASSERT_TRUE(replayed.ok());
  EXPECT_LE(replayed->events_before, buffer.overwritten()) << "the disk lost events the memory holds";
  EXPECT_GT(replayed->events_before, 0u) << "the oldest segments were never removed";
  EXPECT_EQ(replayed->events_before + replayed->events, buffer.sealed_total());
  for (size_t i = 0; i < got.events.size(); i += 997)
    ASSERT_NO_FATAL_FAILURE(
        testing::expect_same_event(got.events[i].view(), events[replayed->events_before + i].view(), i));
}

// A crash while a frame was written leaves it torn; a node that went down
// before the kernel wrote the page cache out leaves zeros. Either way the
// frames before it are read back, and nothing after.
TEST(HistoryJournal, ATornOrZeroedLastFrameIsIgnored) {
  for (const bool zeroed : {false, true}) {
    testing::TempDir dir;
    FlightCodec codec(3);
    FlightBuffer buffer(small_frames(64u << 20));
    auto journal = HistoryJournal::create(dir.path(), "c3", metadata_for("c3"), 1u << 30, 0);
    ASSERT_TRUE(journal.ok());
    const fs::path jdir = journal->dir();
    buffer.keep_on_disk(std::move(*journal));
    feed(buffer, codec, workload(5000, 3));
    ASSERT_EQ(buffer.journal()->segment_count(), 1u);
    const fs::path seg = fs::directory_iterator(jdir)->path();
    std::string bytes = testing::read_file(seg);
    const auto frames = testing::frames_of(bytes);
    ASSERT_GT(frames.size(), 3u);
    const uint64_t last_count = frames.back().header.event_count;
    if (zeroed) {
      std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(frames.back().offset), bytes.end(), '\0');
      bytes.append(4096, '\0');
    } else {
      bytes.resize(bytes.size() - 7);
    }
    testing::write_file(seg, bytes);

    Collect got;
    auto replayed = replay_journal(jdir, got);
    ASSERT_TRUE(replayed.ok()) << replayed.error().message;
    EXPECT_EQ(replayed->events, buffer.sealed_total() - last_count) << (zeroed ? "zeroed" : "torn");
    EXPECT_EQ(got.events.size(), replayed->events);
    EXPECT_FALSE(replayed->warnings.empty());
  }
}

// A restarted daemon reads a journal back and goes on with it: the old
// segments stay as they are, new frames go to a new one, and a second
// crash loses neither.
TEST(HistoryJournal, AResumedJournalGoesOnAfterItsOldSegments) {
  testing::TempDir dir;
  const auto events = workload(30000, 4);
  fs::path jdir;
  uint64_t first_sealed = 0;
  {
    FlightCodec codec(3);
    FlightBuffer buffer(small_frames(64u << 20));
    auto journal = HistoryJournal::create(dir.path(), "c4", metadata_for("c4"), 32u << 10, 0);
    ASSERT_TRUE(journal.ok());
    jdir = journal->dir();
    buffer.keep_on_disk(std::move(*journal));
    feed(buffer, codec, events, 0, 10000);
    first_sealed = buffer.sealed_total();
  }  // killed: the buffer's open batch is lost, the journal stays
  ASSERT_TRUE(fs::exists(jdir));
  const auto found = find_journals(dir.path());
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].id, "c4");
  EXPECT_EQ(found[0].dir, jdir);

  FlightCodec codec(3);
  FlightBuffer buffer(small_frames(64u << 20));
  struct Refill : recorder::EventSink {
    Refill(FlightBuffer& b, FlightCodec& c) : buffer(b), codec(c) {}
    void event(const format::Event& e) override { buffer.add(e, codec); }
    void loss(const format::LossMarker& l) override { buffer.add_loss(l); }
    void notice(const format::TaskNotice& n) override { buffer.add_notice(n); }
    FlightBuffer& buffer;
    FlightCodec& codec;
  } refill(buffer, codec);
  auto replayed = replay_journal(jdir, refill);
  ASSERT_TRUE(replayed.ok());
  ASSERT_EQ(replayed->events, first_sealed);
  buffer.seal(codec);
  const auto old_segments = replayed->segments.size();
  auto resumed = HistoryJournal::resume(*replayed, metadata_for("c4"), 32u << 10);
  ASSERT_TRUE(resumed.ok());
  buffer.keep_on_disk(std::move(*resumed));
  // A segment of its own (the last one read back may end torn), holding
  // only its head: what was read back is not written again.
  ASSERT_EQ(buffer.journal()->segment_count(), old_segments + 1);
  EXPECT_EQ(buffer.journal()->disk_bytes(), bytes_in(jdir));
  format::LossMarker gap;
  buffer.add_loss(gap);
  feed(buffer, codec, events, 10000, 30000);
  const uint64_t sealed = buffer.sealed_total();

  Collect got;
  auto again = replay_journal(jdir, got);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(got.events.size(), sealed);
  for (size_t i = 0; i < got.events.size(); ++i) {
    const size_t want = i < first_sealed ? i : 10000 + (i - first_sealed);
    ASSERT_NO_FATAL_FAILURE(testing::expect_same_event(got.events[i].view(), events[want].view(), i));
  }
  ASSERT_EQ(got.losses.size(), 1u);
  EXPECT_EQ(got.losses[0].lost, 0u);
  EXPECT_EQ(got.losses[0].overwritten, 0u);
}

// Published: the journal goes. Not published (DIR unwritable): it stays,
// for the next daemon to publish.
TEST(HistoryJournal, OnlyAPublishedHistoryLosesItsJournal) {
  testing::TempDir dir;
  Publisher publisher(3);
  std::vector<fs::path> journals;
  for (const bool publishable : {true, false}) {
    FlightCodec codec(3);
    FlightBuffer buffer(small_frames(64u << 20));
    const std::string id = publishable ? "ok" : "fails";
    auto journal = HistoryJournal::create(dir.path(), id, metadata_for(id), 64u << 10, 0);
    ASSERT_TRUE(journal.ok());
    journals.push_back(journal->dir());
    buffer.keep_on_disk(std::move(*journal));
    feed(buffer, codec, workload(5000, 5));
    const fs::path file = publishable ? dir / (id + ".tl") : dir / "missing" / (id + ".tl");
    publisher.submit(Publisher::Job{std::move(buffer), metadata_for(id), {}, file});
  }
  publisher.wait_idle();
  const auto done = publisher.take_done();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_TRUE(fs::exists(dir / "ok.tl"));
  EXPECT_FALSE(fs::exists(journals[0])) << "a published history's journal stays";
  EXPECT_TRUE(fs::exists(journals[1])) << "a history that could not be published lost its journal";
}

TEST(HistoryJournal, FindIgnoresWhatIsNotAJournal) {
  testing::TempDir dir;
  const fs::path root = journal_root(dir.path());
  fs::create_directories(root / "abc.12");
  fs::create_directories(root / "abc.5");
  fs::create_directories(root / "noserial");
  fs::create_directories(root / "bad id.3");
  fs::create_directories(root / "x.notanumber");
  std::ofstream(root / "file.7") << "x";
  const auto found = find_journals(dir.path());
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].serial, 5u);
  EXPECT_EQ(found[1].serial, 12u);
  EXPECT_EQ(found[0].id, "abc");
}

TEST(HistoryJournal, ANameThatIsNotAContainerIdIsRefused) {
  testing::TempDir dir;
  EXPECT_FALSE(HistoryJournal::create(dir.path(), "../escape", metadata_for("x"), 1u << 20, 0).ok());
  EXPECT_FALSE(fs::exists(dir.path().parent_path() / "escape"));
}

}  // namespace
}  // namespace traceloop::daemon
