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
    for (const char* tool : {"tl-grep", "tl-stats", "tl-diff"})
      if (!fs::exists(tools_ / tool)) GTEST_SKIP() << "build " << tool << " first (" << (tools_ / tool) << ")";
    demo_ = multiplication_demo(24581, 3240).write(dir_ / "demo.tl").string();
    other_ = multiplication_demo(117, 9, 7000).write(dir_ / "other.tl").string();
    exists_ = multiplication_demo(5, 5).write(dir_ / "exists.tl").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  Ran run(const std::string& tool, const std::string& args) {
    const std::string command = "'" + (tools_ / tool).string() + "' " + args + " 2>/dev/null";
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
  const auto filtered = run("tl-grep", "--syscall openat -c . " + demo_);
  EXPECT_EQ(filtered.out, "2\n");
  const auto context = run("tl-grep", "-C 1 --format strace ENOENT " + demo_);
  EXPECT_EQ(std::count(context.out.begin(), context.out.end(), '\n'), 3) << context.out;
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
