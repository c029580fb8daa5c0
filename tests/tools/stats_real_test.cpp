// tl-stats on a trace recorded on this machine (testdata/analysis/real, see record.sh).
#include <gtest/gtest.h>

#include <sstream>

#include "tests/tools/stats_test_traces.h"
#include "tools/lib/analyses/stats.h"

namespace traceloop::tools {
namespace {

using namespace testing;

TEST(StatsReal, MultiplicationDemo) {
  StatsOptions options;
  options.paths = {(source_dir() / "testdata/analysis/real/demo-a.tl").string()};
  options.per_process = true;
  options.histograms = {"openat"};
  std::ostringstream out, err;
  EXPECT_EQ(run_stats(options, out, err), 0) << err.str();
  expect_golden("analysis/real_stats_demo.txt", out.str());
  // The failed open of the story is among the failed paths.
  EXPECT_NE(out.str().find("\"/tmp/file-3240\""), std::string::npos);
}

TEST(StatsReal, TwoRecordingsTogether) {
  StatsOptions options;
  options.paths = {(source_dir() / "testdata/analysis/real/cat-exists.tl").string(),
                   (source_dir() / "testdata/analysis/real/cat-missing.tl").string()};
  options.sort = StatsSortKey::calls;
  options.format = StatsFormat::json;
  std::ostringstream out, err;
  EXPECT_EQ(run_stats(options, out, err), 0) << err.str();
  expect_golden("analysis/real_stats_cat.json", out.str());
  EXPECT_NE(out.str().find("\"files\":2"), std::string::npos);
}

TEST(StatsReal, RealRecordingWithoutEvents) {
  StatsOptions options;
  options.paths = {(source_dir() / "testdata/analysis/real/empty.tl").string()};
  std::ostringstream out, err;
  EXPECT_EQ(run_stats(options, out, err), 0) << err.str();
  expect_golden("analysis/real_stats_empty.txt", out.str());
  EXPECT_EQ(out.str().rfind("0 events in 1 file", 0), 0u) << out.str();
}

TEST(StatsReal, RealRingOverflowCountsItsLosses) {
  // storm.tl: a one-page ring overflowed by a getppid storm (record.sh).
  StatsOptions options;
  options.paths = {(source_dir() / "testdata/analysis/real/storm.tl").string()};
  std::ostringstream out, err;
  EXPECT_EQ(run_stats(options, out, err), 0) << err.str();
  expect_golden("analysis/real_stats_storm.txt", out.str());
  EXPECT_EQ(out.str().find("lost: 0 events"), std::string::npos) << out.str();
}

TEST(StatsReal, TwoContainersRecordedByTheDaemon) {
  StatsOptions options;
  options.paths = {(source_dir() / "testdata/analysis/real/container-mult.tl").string(),
                   (source_dir() / "testdata/analysis/real/container-ls.tl").string()};
  options.per_container = true;
  std::ostringstream out, err;
  EXPECT_EQ(run_stats(options, out, err), 0) << err.str();
  expect_golden("analysis/real_stats_containers.txt", out.str());
  EXPECT_NE(out.str().find("mult-demo"), std::string::npos);
  EXPECT_NE(out.str().find("ls-demo"), std::string::npos);
}

}  // namespace
}  // namespace traceloop::tools
