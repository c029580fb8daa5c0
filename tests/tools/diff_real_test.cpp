// tl-diff on traces recorded on this machine (testdata/analysis/real, see record.sh).
#include <gtest/gtest.h>

#include <sstream>

#include "tests/tools/stats_test_traces.h"
#include "tools/lib/analyses/diff.h"

namespace traceloop::tools {
namespace {

using namespace testing;

struct Result {
  int status;
  std::string out;
};

Result diff_real(const std::string& a, const std::string& b, DiffFormat format = DiffFormat::text) {
  DiffOptions options;
  options.path_a = (source_dir() / "testdata/analysis/real" / a).string();
  options.path_b = (source_dir() / "testdata/analysis/real" / b).string();
  options.format = format;
  std::ostringstream out, err;
  const int status = run_diff(options, out, err);
  std::string text = out.str();
  replace_all(text, (source_dir() / "testdata/analysis/real/").string(), "");
  EXPECT_EQ(err.str(), "");
  return {status, text};
}

TEST(DiffReal, MultiplicationDemoTwiceIsEqualAfterNormalisation) {
  // Other $RANDOM file names, pids, addresses, getrandom bytes and signal timing.
  const auto r = diff_real("demo-a.tl", "demo-b.tl");
  EXPECT_EQ(r.status, 0) << r.out;
  expect_golden("analysis/real_diff_demo.txt", r.out);
}

TEST(DiffReal, FileExistsVersusMissing) {
  const auto r = diff_real("cat-exists.tl", "cat-missing.tl");
  EXPECT_EQ(r.status, 1);
  expect_golden("analysis/real_diff_cat.txt", r.out);
  // The first divergence first: cat's openat, before the shell's status line.
  const size_t cat = r.out.find("=== sh>exe>cat");
  const size_t sh = r.out.find("=== traceloop-recor>sh");
  ASSERT_NE(cat, std::string::npos) << r.out;
  ASSERT_NE(sh, std::string::npos) << r.out;
  EXPECT_LT(cat, sh);
  EXPECT_NE(r.out.find("-1 ENOENT"), std::string::npos);
}

TEST(DiffReal, JsonSaysWhichProcessDiverged) {
  const auto r = diff_real("cat-exists.tl", "cat-missing.tl", DiffFormat::json);
  EXPECT_EQ(r.status, 1);
  expect_golden("analysis/real_diff_cat.json", r.out);
  EXPECT_NE(r.out.find("\"equal\":false"), std::string::npos);
}

TEST(DiffReal, EmptyAgainstARealRunShowsOnlyTheRun) {
  const auto r = diff_real("empty.tl", "demo-a.tl");
  EXPECT_EQ(r.status, 1);
  expect_golden("analysis/real_diff_empty.txt", r.out);
  EXPECT_NE(r.out.find("only in B"), std::string::npos) << r.out;
  EXPECT_EQ(diff_real("empty.tl", "empty.tl").status, 0);
}

TEST(DiffReal, TwoContainersDivergeWhereTheirScriptsDo) {
  // The multiplication and the listing containers: runc's set-up is alike, the scripts are not.
  const auto r = diff_real("container-mult.tl", "container-ls.tl");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("==="), std::string::npos) << r.out;
}

TEST(DiffReal, BashTwiceIsEqualThoughItsSignalActionsMoveWithASLR) {
  // Every rt_sigaction of bash names sa_handler and sa_restorer addresses
  // inside the structure it passes: other addresses in each run.
  const auto r = diff_real("bash-a.tl", "bash-b.tl");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("equal after normalisation: 1 processes"), std::string::npos) << r.out;
}

TEST(DiffReal, ATraceEqualsItself) {
  EXPECT_EQ(diff_real("cat-missing.tl", "cat-missing.tl").status, 0);
}

}  // namespace
}  // namespace traceloop::tools
