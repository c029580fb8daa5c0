// The analyses on a trace that holds task notices (testdata/real/signals.tl:
// a shell whose child is killed by SIGUSR1, then exits 3): tl-grep and tl-diff
// read past the notices and judge the calls alone; a tl-grep slice keeps the
// calls it selected and the notices of their processes; tl-stats counts the
// signals and the processes' ends.

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
  // The shell's wait4 calls are in the slice: so are the shell's notices
  // after its first selected call (its SIGCHLD and its end), but not the
  // end of the child, which has no call in the slice.
  ASSERT_EQ(t->notices.size(), 2u);
  const uint32_t shell = t->events.front().fields.pid;
  for (const auto& [at, n] : t->notices) EXPECT_EQ(n.fields.pid, shell);
  EXPECT_EQ(t->notices[0].second.fields.kind, format::TaskNotice::Kind::signal);
  EXPECT_EQ(t->notices[0].second.fields.signo, 17);  // SIGCHLD
  EXPECT_EQ(t->notices[1].second.fields.kind, format::TaskNotice::Kind::exit);
  EXPECT_EQ(t->notices[1].second.fields.exit_status, 3 << 8);
}

TEST(NoticeTools, StatsCountCalls) {
  StatsOptions options;
  options.paths = {signals_trace()};
  std::ostringstream out, err;
  EXPECT_EQ(run_stats(options, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("wait4"), std::string::npos) << out.str();
}

std::string stats_of(StatsOptions options, StatsFormat format = StatsFormat::text) {
  options.paths = {signals_trace()};
  options.format = format;
  std::ostringstream out, err;
  EXPECT_EQ(run_stats(options, out, err), 0) << err.str();
  return out.str();
}

TEST(NoticeTools, StatsCountSignalsAndProcessEnds) {
  const std::string text = stats_of({});
  EXPECT_NE(text.find("\nsignals delivered:\n        1 SIGCHLD\n"), std::string::npos) << text;
  // The child's thread and the shell's both ended, each the last of its group.
  EXPECT_NE(text.find("\nprocess ends:\n        1 killed by SIGUSR1\n        1 exited with 3\n"), std::string::npos)
      << text;
}

TEST(NoticeTools, StatsJsonTypesSignalsAndProcessEnds) {
  const std::string json = stats_of({}, StatsFormat::json);
  EXPECT_NE(json.find(R"("signals":[{"signal":"SIGCHLD","signo":17,"count":1}])"), std::string::npos) << json;
  EXPECT_NE(json.find(R"({"end":"killed by SIGUSR1","signal":"SIGUSR1","core_dumped":false,"count":1})"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"({"end":"exited with 3","exit_code":3,"count":1})"), std::string::npos) << json;
}

TEST(NoticeTools, StatsNoticesFollowTheProcessAndSignalFilters) {
  // The pid of the child the shell started (the one SIGUSR1 killed).
  auto t = format::load_trace(signals_trace());
  ASSERT_TRUE(t.ok()) << t.error().message;
  uint32_t killed = 0;
  for (const auto& [at, n] : t->notices)
    if (n.fields.kind == format::TaskNotice::Kind::exit && (n.fields.exit_status & 0x7f) != 0) killed = n.fields.pid;
  ASSERT_NE(killed, 0u);

  StatsOptions child;
  child.filter.pids = {killed};
  const std::string text = stats_of(child);
  EXPECT_EQ(text.find("signals delivered:"), std::string::npos) << text;  // SIGCHLD went to the shell
  EXPECT_NE(text.find("\nprocess ends:\n        1 killed by SIGUSR1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("exited with 3"), std::string::npos) << text;

  StatsOptions no_signals;
  no_signals.filter.qualifiers = {"signal=none"};
  const std::string quiet = stats_of(no_signals);
  EXPECT_EQ(quiet.find("signals delivered:"), std::string::npos) << quiet;
  EXPECT_NE(quiet.find("process ends:"), std::string::npos) << quiet;  // -e signal= chooses deliveries only
}

TEST(NoticeTools, DiffOfTheSameTraceIsEqual) {
  DiffOptions options;
  options.path_a = options.path_b = signals_trace();
  std::ostringstream out, err;
  EXPECT_EQ(run_diff(options, out, err), 0) << err.str() << out.str();
}

}  // namespace
}  // namespace traceloop::tools
