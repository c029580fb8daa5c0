// The tl-grep, tl-stats and tl-diff executables: option parsing and exit
// statuses (0 ok/match, 1 no match/different, 2 error, usage errors too).
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <memory>

#include "tests/tools/stats_test_traces.h"

namespace traceloop::tools {
namespace {

using namespace testing;

struct Ran {
  int status;
  std::string out;
};

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    // BUILD/tests/tools/<this test> -> BUILD/tools (also when TRACELOOP_BINARY_DIR is not passed on).
    const char* bin = std::getenv("TRACELOOP_BINARY_DIR");
    const fs::path build = bin != nullptr ? fs::path(bin) : fs::read_symlink("/proc/self/exe").parent_path() / "../..";
    tools_ = build / "tools";
    for (const char* tool : {"tl-grep", "tl-stats", "tl-diff", "tl-show"})
      if (!fs::exists(tools_ / tool)) GTEST_SKIP() << "build " << tool << " first (" << (tools_ / tool) << ")";
    demo_ = multiplication_demo(24581, 3240).write(dir_ / "demo.tl").string();
    other_ = multiplication_demo(117, 9, 7000).write(dir_ / "other.tl").string();
    exists_ = multiplication_demo(5, 5).write(dir_ / "exists.tl").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // `errors`: the standard error too, after the output.
  Ran run(const std::string& tool, const std::string& args, bool errors = false) {
    const std::string command = "'" + (tools_ / tool).string() + "' " + args + (errors ? " 2>&1" : " 2>/dev/null");
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
    std::string out;
    std::array<char, 4096> buffer{};
    size_t n;
    while ((n = fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) out.append(buffer.data(), n);
    const int status = pclose(pipe.release());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  }

  fs::path dir_ = temp_dir("cli");
  fs::path tools_;
  std::string demo_, other_, exists_;
};

TEST_F(Cli, GrepExitStatuses) {
  EXPECT_EQ(run("tl-grep", "-q-bogus-option x " + demo_).status, 2);
  EXPECT_EQ(run("tl-grep", "ENOENT " + demo_).status, 0);
  EXPECT_EQ(run("tl-grep", "NOTHING-LIKE-THIS " + demo_).status, 1);
  EXPECT_EQ(run("tl-grep", "x " + (dir_ / "missing.tl").string()).status, 2);
}

TEST_F(Cli, GrepRepeatedPatternsAndFilterListsLeaveTheFiles) {
  // -e takes one value each time; the files stay files.
  const auto r = run("tl-grep", "-c -e ENOENT -e 42 " + demo_ + " " + other_);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, demo_ + ":2\n" + other_ + ":2\n");  // the failed openat and bc's write of 42
  const auto filtered = run("tl-grep", "-e trace=openat -c . " + demo_);
  EXPECT_EQ(filtered.out, "2\n");
  const auto context = run("tl-grep", "-C 1 --format strace ENOENT " + demo_);
  EXPECT_EQ(std::count(context.out.begin(), context.out.end(), '\n'), 3) << context.out;
}

size_t lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

// strace's filters, spelled as strace spells them, in each tool.
TEST_F(Cli, ShowTakesStraceFilters) {
  auto show = [&](const std::string& args) { return run("tl-show", "-f strace " + args + " " + demo_); };
  EXPECT_EQ(lines(show("-e trace=openat").out), 2u);
  EXPECT_EQ(lines(show("-e openat").out), 2u);
  EXPECT_EQ(lines(show("--trace=openat,close").out), 3u);
  EXPECT_EQ(lines(show("-e trace=%process").out), 10u);  // execve x3, clone x2, wait4 x2, exit_group x3
  EXPECT_EQ(lines(show("-e 'trace=!%process'").out), 8u);
  EXPECT_EQ(lines(show("-e 'trace=/^(open|close)'").out), 3u);
  const auto failed = show("-Z");
  EXPECT_EQ(lines(failed.out), 1u);
  EXPECT_NE(failed.out.find("ENOENT"), std::string::npos) << failed.out;
  EXPECT_EQ(show("--failed").out, failed.out);
  EXPECT_EQ(show("-e status=failed").out, failed.out);
  EXPECT_EQ(lines(show("-z").out), 14u);  // neither the failed openat nor the exit_groups (unfinished)
  EXPECT_EQ(lines(show("-e status=unfinished").out), 3u);
  EXPECT_EQ(lines(show("-e trace=%file -e status=successful").out), 4u);  // execve x3, bc's openat
  // The openat, and as strace -P the calls on an fd that names the file
  // (dup3 onto stdout, close, the write to stdout); the other path's open failed.
  EXPECT_EQ(lines(show("-P /tmp/file-24581").out), 4u);
  EXPECT_EQ(lines(show("-P /tmp/file-24581 -P /tmp/file-3240").out), 5u);
  EXPECT_EQ(lines(show("--duration=500us").out), 2u);  // the wait4s
  EXPECT_EQ(lines(show("--duration 0.2").out), 5u);    // and the execves: 0.2 ms and more
  EXPECT_EQ(lines(show("-e signal=SIGCHLD").out), 18u);
}

TEST_F(Cli, ShowHexStrings) {
  const auto xx = run("tl-show", "-f strace -e trace=write -xx " + demo_).out;
  EXPECT_NE(xx.find(R"("\x34\x32\x0a")"), std::string::npos) << xx;
  const auto x = run("tl-show", "-f strace -e trace=write -x " + demo_).out;
  EXPECT_NE(x.find(R"("42\n")"), std::string::npos) << x;  // printable ASCII and \n stay text
}

TEST_F(Cli, FilterErrorsNameTheBadTokenInEveryTool) {
  for (const char* tool : {"tl-show", "tl-stats"}) {
    const auto r = run(tool, "-e trace=openat,nosuch " + demo_, true);
    EXPECT_EQ(r.status, 2) << tool;
    EXPECT_NE(r.out.find("unknown syscall 'nosuch'"), std::string::npos) << tool << ": " << r.out;
    const auto cls = run(tool, "-e trace=%nosuch " + demo_, true);
    EXPECT_NE(cls.out.find("unknown syscall class '%nosuch'"), std::string::npos) << tool << ": " << cls.out;
  }
  const auto grep = run("tl-grep", "-e status=bogus . " + demo_, true);
  EXPECT_EQ(grep.status, 2);
  EXPECT_NE(grep.out.find("invalid status 'bogus'"), std::string::npos) << grep.out;
  const auto duration = run("tl-show", "--duration=soon " + demo_, true);
  EXPECT_EQ(duration.status, 2);
  EXPECT_NE(duration.out.find("invalid duration 'soon'"), std::string::npos) << duration.out;
}

TEST_F(Cli, GrepTellsFiltersFromPatterns) {
  // -e trace=... is a filter, any other -e a pattern.
  EXPECT_EQ(run("tl-grep", "-c -e trace=openat -e tmp " + demo_).out, "2\n");
  EXPECT_EQ(run("tl-grep", "-c -e trace=%process -e exit_group -e wait4 " + demo_).out, "5\n");
  EXPECT_EQ(run("tl-grep", "-c -Z . " + demo_).out, "1\n");
  EXPECT_EQ(run("tl-grep", "-c -P /tmp/file-3240 . " + demo_).out, "1\n");
  EXPECT_EQ(run("tl-grep", "-c --duration 500us . " + demo_).out, "2\n");
  EXPECT_EQ(run("tl-grep", "-c --trace=write . " + demo_).out, "2\n");
}

TEST_F(Cli, StatsCountsOnlyTheFilteredCalls) {
  const auto all = run("tl-stats", demo_).out;
  EXPECT_NE(all.find("openat"), std::string::npos) << all;
  const auto process = run("tl-stats", "-e trace=%process " + demo_);
  EXPECT_EQ(process.status, 0);
  EXPECT_EQ(process.out.find("openat"), std::string::npos) << process.out;
  EXPECT_NE(process.out.find("execve"), std::string::npos) << process.out;
  const auto failed = run("tl-stats", "-Z --format json " + demo_).out;
  EXPECT_NE(failed.find("\"openat\""), std::string::npos) << failed;
  EXPECT_EQ(failed.find("\"execve\""), std::string::npos) << failed;
}

TEST_F(Cli, FilterListsLeaveTheFilesToThePositionals) {
  const auto on_path = run("tl-show", "-f strace --pid 101 -P /tmp/file-24581 " + demo_).out;
  // The openat, and as strace -P the calls on an fd that names the file:
  // the dup3 onto stdout, the close, and the write to stdout.
  EXPECT_EQ(lines(on_path), 4u) << on_path;
  EXPECT_NE(on_path.find("write(1, \"42\\n\", 3)"), std::string::npos) << on_path;
  EXPECT_EQ(run("tl-stats", "--pid 101 --comm bc -P /tmp/x " + demo_).status, 0);
  EXPECT_EQ(run("tl-grep", "-c --comm bc . " + demo_).out, "3\n");  // bc's read, write, exit_group
}

TEST_F(Cli, OldSpellingsStillWorkAndSaySo) {
  const auto r = run("tl-show", "-f strace --syscall openat " + demo_, true);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("tl-show: --syscall is deprecated; use -e trace=NAMES"), std::string::npos) << r.out;
  EXPECT_EQ(lines(run("tl-show", "-f strace --syscall openat " + demo_).out), 2u);
}

TEST_F(Cli, StatsAndDiffExitStatuses) {
  EXPECT_EQ(run("tl-stats", "--sort bogus " + demo_).status, 2);
  const auto stats = run("tl-stats", "--histogram openat,write " + demo_);
  EXPECT_EQ(stats.status, 0);
  EXPECT_NE(stats.out.find("openat latency: 2 calls"), std::string::npos) << stats.out;
  EXPECT_EQ(run("tl-diff", demo_ + " " + other_).status, 0);
  EXPECT_EQ(run("tl-diff", demo_ + " " + exists_).status, 1);
  EXPECT_EQ(run("tl-diff", demo_).status, 2);
  EXPECT_EQ(run("tl-diff", "--format json " + demo_ + " " + exists_).out.substr(0, 6), "{\"a\":\"");
}

}  // namespace
}  // namespace traceloop::tools
