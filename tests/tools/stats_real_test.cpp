// tl-stats on a trace recorded on this machine (testdata/analysis/real, see record.sh).
#include <gtest/gtest.h>

#include <sstream>

#include "tests/tools/stats_test_traces.h"
#include "tools/lib/stats.h"

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
  expect_golden("real_stats_demo.txt", out.str());
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
  expect_golden("real_stats_cat.json", out.str());
  EXPECT_NE(out.str().find("\"files\":2"), std::string::npos);
}

}  // namespace
}  // namespace traceloop::tools
