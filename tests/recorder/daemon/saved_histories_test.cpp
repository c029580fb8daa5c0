#include "recorder/daemon/saved_histories.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "format/frame.h"
#include "format/trace_writer.h"
#include "tests/support/file_bytes.h"
#include "tests/support/frame_walk.h"
#include "tests/support/temp_dir.h"

namespace traceloop::daemon {
namespace {

namespace fs = std::filesystem;

// A finished trace of container `id` holding `events` events, at `path`.
void write_history(const fs::path& path, const std::string& id, int events) {
  format::TraceMetadata m;
  format::fill_host_metadata(m);
  m.catalogue = format::builtin_catalogue(format::Arch::x86_64);
  format::ContainerInfo c;
  c.id = id;
  c.image = "bb:local";
  m.containers = {c};
  auto writer = format::TraceWriter::create(path, m);
  ASSERT_TRUE(writer.ok()) << writer.error().message;
  for (int i = 0; i < events; ++i) {
    format::OwnedEvent e;
    e.fields.enter_ns = 1000 + static_cast<uint64_t>(i) * 10;
    e.fields.exit_ns = e.fields.enter_ns + 5;
    e.fields.pid = e.fields.tid = 7;
    e.fields.nr = 39;
    e.comm = "sh";
    ASSERT_TRUE(writer->append(e.view()).ok());
  }
  ASSERT_TRUE(writer->finish().ok());
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(SavedHistories, LoadListsTheTracesNamedAfterTheirContainer) {
  testing::TempDir dir;
  write_history(dir / "abc.tl", "abc", 3);
  write_history(dir / "renamed.tl", "xyz", 2);         // its name is not its id: not ours
  write_history(dir / "abc.snapshot.tl", "abc", 9);    // a snapshot, not a history
  std::ofstream(dir / "junk.tl") << "not a trace";
  SavedHistories saved(dir.path());
  saved.load();
  ASSERT_EQ(saved.entries().size(), 1u);
  const Saved* s = saved.find("abc");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->events, 3u);
  EXPECT_EQ(s->info.image, "bb:local");
  EXPECT_EQ(s->file, dir / "abc.tl");
}

TEST(SavedHistories, AnEarlierHistoryIsKeptAsideNeverReplaced) {
  testing::TempDir dir;
  SavedHistories saved(dir.path());
  EXPECT_EQ(saved.prepare_file("c1"), dir / "c1.tl");
  std::ofstream(dir / "c1.tl") << "first";
  EXPECT_EQ(saved.prepare_file("c1"), dir / "c1.tl");
  EXPECT_EQ(read(dir / "c1.1.tl"), "first");
  std::ofstream(dir / "c1.tl") << "second";
  EXPECT_EQ(saved.prepare_file("c1"), dir / "c1.tl");
  EXPECT_EQ(read(dir / "c1.1.tl"), "first");
  EXPECT_EQ(read(dir / "c1.2.tl"), "second");
  EXPECT_FALSE(fs::exists(dir / "c1.tl"));
}

TEST(SavedHistories, LeftoversOfDeadWritersAndSnapshotsGo) {
  testing::TempDir dir;
  const pid_t dead = ::fork();
  if (dead == 0) _exit(0);
  ::waitpid(dead, nullptr, 0);
  const std::string dead_tmp = "c1.tl.tmp." + std::to_string(dead) + ".1234";
  const std::string live_tmp = "c2.tl.tmp." + std::to_string(::getppid()) + ".5678";
  for (const auto& name : {dead_tmp, live_tmp, std::string("c3.snapshot.tl"), std::string("c4.tl")})
    std::ofstream(dir / name) << "x";
  SavedHistories(dir.path()).remove_leftovers();
  EXPECT_FALSE(fs::exists(dir / dead_tmp));
  EXPECT_FALSE(fs::exists(dir / "c3.snapshot.tl"));
  EXPECT_TRUE(fs::exists(dir / live_tmp)) << "a writer still alive keeps its file";
  EXPECT_TRUE(fs::exists(dir / "c4.tl"));
}

// A daemon restarted in a container of its own has the pid its predecessor
// had: the temporary files that one left bear the new daemon's pid, and
// used to be kept for ever as a live writer's.
TEST(SavedHistories, TemporaryFilesNamedWithOurOwnPidAreLeftovers) {
  testing::TempDir dir;
  const std::string ours = "c5.tl.tmp." + std::to_string(::getpid()) + ".9abc";
  std::ofstream(dir / ours) << "x";
  SavedHistories(dir.path()).remove_leftovers();
  EXPECT_FALSE(fs::exists(dir / ours));
}

// The probe of DIR's writability, when the daemon was killed between its
// creation and its removal, used to stay for ever.
TEST(SavedHistories, AProbeOfADeadDaemonIsALeftover) {
  testing::TempDir dir;
  const pid_t dead = ::fork();
  if (dead == 0) _exit(0);
  ::waitpid(dead, nullptr, 0);
  const std::string probe = ".write-test.tmp." + std::to_string(dead) + ".0123";
  const std::string live = ".write-test.tmp." + std::to_string(::getppid()) + ".4567";
  std::ofstream(dir / probe) << "";
  std::ofstream(dir / live) << "";
  SavedHistories(dir.path()).remove_leftovers();
  EXPECT_FALSE(fs::exists(dir / probe));
  EXPECT_TRUE(fs::exists(dir / live));
}

// What `list` shows of a saved trace comes from its trailer (or, in a file
// cut short, its frame headers): its events frames are never decompressed,
// so a damaged payload changes nothing and a large directory lists at once.
TEST(SavedHistories, LoadCountsEventsFromTrailerAndFrameHeadersWithoutDecompressing) {
  testing::TempDir dir;
  write_history(dir / "whole.tl", "whole", 100000);
  write_history(dir / "cut.tl", "cut", 100000);
  for (const char* name : {"whole.tl", "cut.tl"}) {
    std::string bytes = testing::read_file(dir / name);
    const auto frames = testing::frames_of(bytes);
    size_t events_frames = 0;
    for (const auto& f : frames) {
      if (f.header.type != static_cast<uint8_t>(format::FrameType::events)) continue;
      ++events_frames;
      // The payload's middle turned to garbage: undecodable, its header intact.
      bytes[f.offset + format::kFrameHeaderBytes + f.header.compressed_size / 2] ^= 0x5a;
    }
    ASSERT_GT(events_frames, 1u);
    if (std::string(name) == "cut.tl") bytes.resize(frames.back().offset);  // no trailer
    testing::write_file(dir / name, bytes);
  }
  SavedHistories saved(dir.path());
  saved.load();
  ASSERT_NE(saved.find("whole"), nullptr);
  EXPECT_EQ(saved.find("whole")->events, 100000u);
  ASSERT_NE(saved.find("cut"), nullptr);
  EXPECT_EQ(saved.find("cut")->events, 100000u);
}

TEST(SavedHistories, RemoveDeletesTheHistoryAndItsSnapshot) {
  testing::TempDir dir;
  write_history(dir / "c5.tl", "c5", 1);
  std::ofstream(dir / "c5.snapshot.tl") << "x";
  SavedHistories saved(dir.path());
  saved.load();
  ASSERT_NE(saved.find("c5"), nullptr);
  saved.remove("c5");
  EXPECT_EQ(saved.find("c5"), nullptr);
  EXPECT_FALSE(fs::exists(dir / "c5.tl"));
  EXPECT_FALSE(fs::exists(dir / "c5.snapshot.tl"));
}

TEST(SavedHistories, AFailedWriteIsForgotten) {
  testing::TempDir dir;
  SavedHistories saved(dir.path());
  Saved s;
  s.info.id = "c6";
  s.file = dir / "c6.tl";
  saved.add(s);
  saved.forget_file(dir / "other.tl");
  EXPECT_NE(saved.find("c6"), nullptr);
  saved.forget_file(dir / "c6.tl");
  EXPECT_EQ(saved.find("c6"), nullptr);
}

}  // namespace
}  // namespace traceloop::daemon
