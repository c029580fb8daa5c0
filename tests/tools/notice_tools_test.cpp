// The analyses on a trace that holds task notices (testdata/real/signals.tl:
// a shell whose child is killed by SIGUSR1, then exits 3): tl-grep, tl-stats
// and tl-diff read past the notices and judge the calls alone; a tl-grep
// slice keeps the calls it selected.

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "format/trace_reader.h"
#include "tests/support/source_dir.h"
#include "tests/support/temp_dir.h"
#include "tools/lib/analyses/diff.h"
#include "tools/lib/analyses/grep.h"
#include "tools/lib/analyses/stats.h"

namespace traceloop::tools {
namespace {

std::string signals_trace() { return (traceloop::testing::source_dir() / "testdata/real/signals.tl").string(); }

TEST(NoticeTools, TheTraceHoldsNotices) {
  auto t = format::load_trace(signals_trace());
  ASSERT_TRUE(t.ok()) << t.error().message;
  size_t exits = 0, signals = 0;
  for (const auto& [at, n] : t->notices) (n.fields.kind == format::TaskNotice::Kind::exit ? exits : signals)++;
  EXPECT_EQ(exits, 2u);
  EXPECT_EQ(signals, 1u);  // the shell's SIGCHLD
}

TEST(NoticeTools, GrepMatchesCallsOnly) {
  GrepOptions options;
  options.paths = {signals_trace()};
  options.match.patterns = {"SIGUSR1"};
  std::ostringstream out, err;
  EXPECT_EQ(run_grep(options, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("kill"), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find("+++"), std::string::npos) << out.str();
}

TEST(NoticeTools, GrepSliceOfATraceWithNotices) {
  traceloop::testing::TempDir dir;
  GrepOptions options;
  options.paths = {signals_trace()};
  options.match.patterns = {"wait4"};
  options.output_path = (dir / "slice.tl").string();
  std::ostringstream out, err;
  EXPECT_EQ(run_grep(options, out, err), 0) << err.str();
  auto t = format::load_trace(dir / "slice.tl");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->events.size(), 3u);
}

TEST(NoticeTools, StatsCountCalls) {
  StatsOptions options;
  options.paths = {signals_trace()};
  std::ostringstream out, err;
  EXPECT_EQ(run_stats(options, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("wait4"), std::string::npos) << out.str();
}

TEST(NoticeTools, DiffOfTheSameTraceIsEqual) {
  DiffOptions options;
  options.path_a = options.path_b = signals_trace();
  std::ostringstream out, err;
  EXPECT_EQ(run_diff(options, out, err), 0) << err.str() << out.str();
}

}  // namespace
}  // namespace traceloop::tools
