// The progress line of the tl-* tools: drawn on a terminal (a real pseudo-
// terminal here), never on a pipe, never with --no-progress, never for small
// files, and cleared at the end; the tools' own output is unchanged by it.

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <random>

#include "tests/tools/show_fixtures.h"
#include "format/unique_fd.h"
#include "tests/support/pseudo_terminal.h"
#include "tests/support/temp_dir.h"
#include "tools/progress/progress_meter.h"

namespace traceloop::progress {
namespace {

namespace fs = std::filesystem;

struct Terminal {
  UniqueFd master;
  UniqueFd slave;
};

Terminal open_terminal() {
  Terminal t;
  t.master.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!t.master || ::grantpt(t.master.get()) != 0 || ::unlockpt(t.master.get()) != 0)
    throw std::runtime_error("no pseudo-terminal");
  t.slave.reset(::open(::ptsname(t.master.get()), O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!t.slave) throw std::runtime_error("cannot open the pseudo-terminal's slave");
  return t;
}

// Everything written to the terminal until its slave side is closed everywhere.
std::string drain(int master) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(master, buf, sizeof(buf));
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return out;  // EIO: no slave left open
    }
  }
}

// Runs argv with standard output to a file and standard error on a terminal,
// or a pipe.
testing::TerminalRun run_tool(const std::vector<std::string>& argv, bool stderr_on_terminal) {
  testing::TerminalRun run = testing::run_on_terminal(argv, {.stderr_on_terminal = stderr_on_terminal});
  if (stderr_on_terminal) run.err = run.terminal;
  return run;
}

std::string tool(const char* name) { return std::string(TRACELOOP_TEST_BINARY_DIR) + "/tools/" + name; }

// A synthetic trace just above the size where progress starts.
class ProgressTool : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    const auto metadata = testing::test_metadata();
    // Just above the size where progress starts, in few events: writes of
    // random (incompressible) buffers, so the tools are quick about it.
    big_ = new fs::path(*dir_ / "big.tl");
    std::mt19937_64 random(11);
    std::string buffer(4000, '\0');
    testing::EventBuilder big(metadata.catalogue);
    const uint64_t events = (kMinBytes + (2u << 20)) / buffer.size();
    for (uint64_t i = 0; i < events; ++i) {
      for (char& c : buffer) c = static_cast<char>(random());
      big.as(100 + static_cast<uint32_t>(i % 7), "writer").call("write", {1, 0x7f0000001000, buffer.size()}, 4000);
      big.data(1, buffer);
    }
    testing::write_trace(*big_, metadata, big);
    ASSERT_GT(fs::file_size(*big_), kMinBytes);
    events_ = events;
    small_ = new fs::path(*dir_ / "small.tl");
    testing::EventBuilder small(metadata.catalogue);
    for (int i = 0; i < 1000; ++i) small.as(100, "sh").call("close", {3}, -9);
    testing::write_trace(*small_, metadata, small);
  }
  static void TearDownTestSuite() {
    delete big_;
    delete small_;
    delete dir_;
  }
  static std::vector<std::vector<std::string>> commands(const std::string& file) {
    return {{tool("tl-stats"), file},
            {tool("tl-grep"), "-c", "openat", file},
            {tool("tl-diff"), file, file},
            {tool("tl-show"), "-f", "perfetto", file},
            {tool("tl-show"), "-f", "html", file}};
  }
  static testing::TempDir* dir_;
  static fs::path* big_;
  static fs::path* small_;
  static uint64_t events_;
};
testing::TempDir* ProgressTool::dir_ = nullptr;
fs::path* ProgressTool::big_ = nullptr;
fs::path* ProgressTool::small_ = nullptr;
uint64_t ProgressTool::events_ = 0;

TEST(ProgressMeter, LineCountsEventsOfTheTotal) {
  EXPECT_EQ(ProgressMeter::line("tl-stats", 4'212'736, 10'000'000), "tl-stats: 4,212,736 of 10,000,000 events (42%)");
  EXPECT_EQ(ProgressMeter::line("tl-grep", 0, 999), "tl-grep: 0 of 999 events (0%)");
  EXPECT_EQ(ProgressMeter::line("x", 12, 10), "x: 10 of 10 events (100%)");  // never above the total
}

TEST(ProgressMeter, RedrawsInPlaceAtMostTenTimesASecondAndClearsAtTheEnd) {
  Terminal terminal = open_terminal();
  auto meter = std::make_unique<ProgressMeter>("tool", 1000, terminal.slave.get());
  meter->add(250);
  std::this_thread::sleep_for(std::chrono::milliseconds(550));
  meter->add(250);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  meter->finish();
  meter.reset();
  terminal.slave.reset();
  const std::string drawn = drain(terminal.master.get());
  EXPECT_NE(drawn.find("\r\x1b[Ktool: 0 of 1,000 events (0%)"), std::string::npos) << drawn;
  EXPECT_NE(drawn.find("tool: 250 of 1,000 events (25%)"), std::string::npos) << drawn;
  EXPECT_NE(drawn.find("tool: 500 of 1,000 events (50%)"), std::string::npos) << drawn;
  EXPECT_TRUE(drawn.ends_with("\r\x1b[K")) << drawn;
  EXPECT_EQ(drawn.find('\n'), std::string::npos) << "the line never scrolls";
  size_t draws = 0;
  for (size_t at = 0; (at = drawn.find("events (", at)) != std::string::npos; ++at) ++draws;
  EXPECT_LE(draws, 1u + 9u) << "0.8 s at most ten redraws a second, plus the first";
  EXPECT_GE(draws, 4u);
}

TEST(ProgressMeter, StartsOnlyForBigFilesOnATerminalWhenWanted) {
  testing::TempDir dir;
  Terminal terminal = open_terminal();
  const fs::path big = dir / "big";
  {
    UniqueFd fd(::open(big.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    ASSERT_EQ(::ftruncate(fd.get(), static_cast<off_t>(kMinBytes + 1)), 0);
  }
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  UniqueFd pipe_read(fds[0]), pipe_write(fds[1]);
  // Not a trace: nothing to count, so nothing shown.
  EXPECT_EQ(ProgressMeter::start("t", {big.string()}, true, terminal.slave.get()), nullptr);
  EXPECT_EQ(ProgressMeter::start("t", {big.string()}, true, pipe_write.get()), nullptr);
  EXPECT_EQ(ProgressMeter::start("t", {"-"}, true, terminal.slave.get()), nullptr);
}

TEST_F(ProgressTool, ShownOnATerminalAndCleared) {
  for (const auto& argv : commands(big_->string())) {
    SCOPED_TRACE(argv[0] + " " + argv[1]);
    const testing::TerminalRun run = run_tool(argv, true);
    EXPECT_LE(run.status, 1) << run.err;
    const std::string label = fs::path(argv[0]).filename().string();
    const uint64_t files = label == "tl-diff" ? 2 : 1;  // A and B
    EXPECT_NE(run.err.find("\r\x1b[K" + ProgressMeter::line(label, 0, files * events_)), std::string::npos)
        << run.err;
    EXPECT_TRUE(run.err.ends_with("\r\x1b[K")) << run.err;
    EXPECT_EQ(run.out.find("\x1b["), std::string::npos) << "nothing of it on standard output";
  }
}

TEST_F(ProgressTool, NotShownOnAPipeNorWithNoProgress) {
  for (auto argv : commands(big_->string())) {
    SCOPED_TRACE(argv[0] + " " + argv[1]);
    const testing::TerminalRun piped = run_tool(argv, false);
    EXPECT_EQ(piped.err, "");
    argv.insert(argv.begin() + 1, "--no-progress");
    const testing::TerminalRun off = run_tool(argv, true);
    EXPECT_EQ(off.err, "");
    EXPECT_EQ(off.out, piped.out) << "progress changes nothing else";
  }
}

TEST_F(ProgressTool, NotShownForSmallFiles) {
  for (const auto& argv : commands(small_->string())) {
    SCOPED_TRACE(argv[0] + " " + argv[1]);
    EXPECT_EQ(run_tool(argv, true).err, "");
  }
}

}  // namespace
}  // namespace traceloop::progress
