// tl-diff on pairs of synthetic traces written with the real writer.
#include "tools/lib/analyses/diff.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/tools/stats_test_traces.h"

namespace traceloop::tools {
namespace {

using namespace testing;

struct DiffRunResult {
  int status;
  std::string out;
  std::string err;
};

class DiffTraces : public ::testing::Test {
 protected:
  DiffRunResult diff(const TraceBuilder& a, const TraceBuilder& b, DiffFormat format = DiffFormat::text) {
    DiffOptions options;
    options.path_a = (dir_ / "a.tl").string();
    options.path_b = (dir_ / "b.tl").string();
    a.write(options.path_a);
    b.write(options.path_b);
    options.format = format;
    std::ostringstream out, err;
    const int status = run_diff(options, out, err);
    std::string text = out.str();
    replace_all(text, dir_.string(), "DIR");
    return {status, text, err.str()};
  }
  fs::path dir_ = temp_dir("diff");
  void TearDown() override { fs::remove_all(dir_); }
};

TEST_F(DiffTraces, TwoFailingRunsWithOtherRandomValuesAreEqual) {
  // Other $RANDOM values, other pids, other pointers, other fd numbers: the same behaviour.
  const auto r = diff(multiplication_demo(24581, 3240, 100, 0x55d0c8a1e000, 3),
                      multiplication_demo(117, 9, 7000, 0x5612aa000000, 4));
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  expect_golden("analysis/diff_demo_equal.txt", r.out);
}

TEST_F(DiffTraces, FileExistsVersusMissingShowsTheRealDivergence) {
  const auto r = diff(multiplication_demo(24581, 24581), multiplication_demo(117, 9, 7000, 0x5612aa000000, 4));
  EXPECT_EQ(r.status, 1);
  expect_golden("analysis/diff_demo_exists_vs_missing.txt", r.out);
  // Only cat diverges, at its openat (event 2 of cat); sh's exit status differs too.
  EXPECT_NE(r.out.find("sh>cat (pid 102 | pid 7002): diverged at event 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sh>bc (pid 101 | pid 7001): equal"), std::string::npos) << r.out;
}

TEST_F(DiffTraces, JsonGolden) {
  const auto r = diff(multiplication_demo(24581, 24581), multiplication_demo(1, 2), DiffFormat::json);
  EXPECT_EQ(r.status, 1);
  expect_golden("analysis/diff_demo.json", r.out);
}

TEST_F(DiffTraces, ProcessOnlyInOneTrace) {
  TraceBuilder a = multiplication_demo(5, 6);
  TraceBuilder b = multiplication_demo(5, 6);
  b.call(900, "extra", "getpid", {}, 900);
  const auto r = diff(a, b);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("extra (- | pid 900): only in B"), std::string::npos) << r.out;
  const auto back = diff(b, a);
  EXPECT_NE(back.out.find("extra (pid 900 | -): only in A"), std::string::npos) << back.out;
}

TEST_F(DiffTraces, EmptyTraces) {
  const auto r = diff(TraceBuilder(), TraceBuilder());
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("equal after normalisation: 0 processes"), std::string::npos) << r.out;
  const auto one = diff(TraceBuilder(), multiplication_demo(1, 1));
  EXPECT_EQ(one.status, 1);
}

TEST_F(DiffTraces, LossIsNoted) {
  TraceBuilder a = multiplication_demo(5, 6);
  a.loss(12, 0);
  const auto r = diff(a, multiplication_demo(5, 6));
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("note: A lost 12 events"), std::string::npos) << r.out;
}

TEST_F(DiffTraces, AcrossArchitectures) {
  // The same story recorded on aarch64 and x86_64: other syscall numbers, same names.
  const auto r = diff(multiplication_demo(5, 6, 100, 0x55d0c8a1e000, 3, format::Arch::aarch64), multiplication_demo(7, 8));
  EXPECT_EQ(r.status, 0) << r.out;
}

TEST_F(DiffTraces, FirstDivergenceComesFirst) {
  // bc diverges (it reads other input) before cat does (file exists vs missing).
  TraceBuilder a = multiplication_demo(5, 5);
  TraceBuilder b = multiplication_demo(5, 6);
  const auto r = diff(a, b);
  EXPECT_EQ(r.status, 1);
  const size_t sh = r.out.find("=== sh (");
  const size_t cat = r.out.find("=== sh>cat (");
  ASSERT_NE(cat, std::string::npos);
  ASSERT_NE(sh, std::string::npos);
  EXPECT_LT(cat, sh) << r.out;  // cat's openat happens before sh's exit_group
}

TEST_F(DiffTraces, MissingFileIsExit2) {
  DiffOptions options;
  options.path_a = (dir_ / "nope.tl").string();
  options.path_b = options.path_a;
  std::ostringstream out, err;
  EXPECT_EQ(run_diff(options, out, err), 2);
  EXPECT_EQ(err.str().rfind("tl-diff: ", 0), 0u);
}

}  // namespace
}  // namespace traceloop::tools

namespace traceloop::tools {
namespace {

using namespace testing;

TEST(DiffHostile, CommIsEscapedInTheSummary) {
  const fs::path dir = temp_dir("diff-hostile");
  TraceBuilder a;
  a.call(10, "evil\x1b]0;pwned\x07", "getpid", {}, 10);
  a.write(dir / "a.tl");
  TraceBuilder().write(dir / "b.tl");
  DiffOptions options;
  options.path_a = (dir / "a.tl").string();
  options.path_b = (dir / "b.tl").string();
  std::ostringstream out, err;
  EXPECT_EQ(run_diff(options, out, err), 1);
  EXPECT_EQ(out.str().find('\x1b'), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find('\x07'), std::string::npos) << out.str();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace traceloop::tools

namespace traceloop::tools {
namespace {

using namespace testing;

// The kernel's struct sigaction on x86_64: handler, flags, restorer, mask.
std::string sigaction_bytes(uint64_t handler, uint64_t restorer) {
  const uint64_t flags = 0x04000000 | 0x10000000;  // SA_RESTORER | SA_RESTART
  const uint64_t mask = 0;
  std::string s(32, '\0');
  std::memcpy(s.data(), &handler, 8);
  std::memcpy(s.data() + 8, &flags, 8);
  std::memcpy(s.data() + 16, &restorer, 8);
  std::memcpy(s.data() + 24, &mask, 8);
  return s;
}

// bash sets its signal actions at start: the handler and the restorer are
// addresses that move with ASLR, inside the structure rt_sigaction reads.
TraceBuilder bash_start(uint32_t pid, uint64_t handler, uint64_t restorer) {
  TraceBuilder t;
  t.call(pid, "bash", "rt_sigaction", {2, 0x7ffc0000 + (handler & 0xff0), 0, 8}, 0, 3,
         {{1, sigaction_bytes(handler, restorer), false}});
  t.call(pid, "bash", "rt_sigaction", {15, 0x7ffc0000 + (restorer & 0xff0), 0, 8}, 0, 3,
         {{1, sigaction_bytes(1, restorer), false}});  // SIG_IGN
  t.call(pid, "bash", "exit_group", {0}, 0, 0, {}, format::CallState::never_returned);
  return t;
}

TEST_F(DiffTraces, SignalActionsDifferingOnlyByAddressesAreEqual) {
  const auto r = diff(bash_start(100, 0x55d0c8a1e2b0, 0x7feb54a2d050), bash_start(7000, 0x5612aa0012b0, 0x7f01c2c4a050));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("equal after normalisation: 1 processes"), std::string::npos) << r.out;
  // A handler installed where the other run ignores the signal is a difference.
  const auto d = diff(bash_start(100, 0x55d0c8a1e2b0, 0x7feb54a2d050), bash_start(7000, 1, 0x7f01c2c4a050));
  EXPECT_EQ(d.status, 1) << d.out;
  EXPECT_NE(d.out.find("bash (pid 100 | pid 7000): diverged at event 1"), std::string::npos) << d.out;
}

}  // namespace
}  // namespace traceloop::tools

namespace traceloop::tools {
namespace {

using namespace testing;

TEST_F(DiffTraces, ATraceFromAPipeIsShownLikeFromAFile) {
  // The events shown are read again after the comparison: a pipe cannot be, so it is copied first.
  const auto from_files = diff(multiplication_demo(24581, 24581), multiplication_demo(117, 9, 7000, 0x5612aa000000, 4));
  ASSERT_EQ(from_files.status, 1);
  const fs::path fifo = dir_ / "b.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] {
    std::ifstream in(dir_ / "b.tl", std::ios::binary);
    std::ofstream out(fifo, std::ios::binary);
    out << in.rdbuf();
  });
  DiffOptions options;
  options.path_a = (dir_ / "a.tl").string();
  options.path_b = fifo.string();
  std::ostringstream out, err;
  const int status = run_diff(options, out, err);
  writer.join();
  std::string text = out.str();
  replace_all(text, fifo.string(), (dir_ / "b.tl").string());
  replace_all(text, dir_.string(), "DIR");
  EXPECT_EQ(status, 1) << err.str();
  EXPECT_EQ(text, from_files.out);
}

}  // namespace
}  // namespace traceloop::tools
