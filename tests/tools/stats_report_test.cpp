// tl-stats on synthetic traces written with the real writer: goldens of the
// text and JSON reports, plus checks of the figures that do not need one.
#include "tools/lib/analyses/stats.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/tools/stats_test_traces.h"

namespace traceloop::tools {
namespace {

using namespace testing;

struct ToolRun {
  int status;
  std::string out;
  std::string err;
};

ToolRun stats(const StatsOptions& options) {
  std::ostringstream out, err;
  const int status = run_stats(options, out, err);
  return {status, out.str(), err.str()};
}

class StatsReport : public ::testing::Test {
 protected:
  fs::path dir_ = temp_dir("stats");
  void TearDown() override { fs::remove_all(dir_); }
};

TEST_F(StatsReport, MultiplicationDemoGolden) {
  StatsOptions options;
  options.paths = {multiplication_demo(24581, 3240).write(dir_ / "demo.tl")};
  options.per_process = true;
  options.per_container = true;
  options.histograms = {"execve", "wait4"};
  const ToolRun r = stats(options);
  EXPECT_EQ(r.status, 0) << r.err;
  expect_golden("analysis/stats_demo.txt", r.out);
}

TEST_F(StatsReport, ContainersLossAndUnfinishedGolden) {
  StatsOptions options;
  options.paths = {two_containers().write(dir_ / "two.tl")};
  options.per_process = true;
  options.per_container = true;
  const ToolRun r = stats(options);
  EXPECT_EQ(r.status, 0) << r.err;
  expect_golden("analysis/stats_two_containers.txt", r.out);
}

TEST_F(StatsReport, JsonGolden) {
  StatsOptions options;
  options.paths = {two_containers().write(dir_ / "two.tl")};
  options.format = StatsFormat::json;
  options.histograms = {"read"};
  const ToolRun r = stats(options);
  EXPECT_EQ(r.status, 0) << r.err;
  expect_golden("analysis/stats_two_containers.json", r.out);
}

TEST_F(StatsReport, EmptyTrace) {
  StatsOptions options;
  options.paths = {TraceBuilder().write(dir_ / "empty.tl")};
  const ToolRun r = stats(options);
  EXPECT_EQ(r.status, 0) << r.err;
  expect_golden("analysis/stats_empty.txt", r.out);
}

TEST_F(StatsReport, Aarch64FileCountsByName) {
  StatsOptions options;
  options.paths = {multiplication_demo(1, 2, 100, 0x55d0c8a1e000, 3, format::Arch::aarch64).write(dir_ / "arm.tl"),
                   multiplication_demo(1, 2).write(dir_ / "x86.tl")};
  // Same story on two architectures (other syscall numbers): merged by name,
  // every syscall counts twice its single-file count (18 calls, 1 error).
  const ToolRun r = stats(options);
  EXPECT_EQ(r.status, 0) << r.err;
  expect_golden("analysis/stats_aarch64_and_x86_64.txt", r.out);
  EXPECT_NE(r.out.find("2 files"), std::string::npos);
  EXPECT_NE(r.out.find("       36         2 total"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("         6           execve"), std::string::npos) << r.out;
}

TEST_F(StatsReport, SortByEachColumn) {
  StatsAccumulator acc;
  auto reader = value_or_throw(format::TraceReader::open(multiplication_demo(1, 2).write(dir_ / "d.tl")));
  acc.begin_file(reader.metadata());
  while (const auto* batch = value_or_throw(reader.next_batch())) acc.add_batch(*batch);
  acc.end_file(reader.counters());
  auto first_row = [&](StatsSortKey key) {
    StatsOptions options;
    options.sort = key;
    std::ostringstream out;
    write_stats_text(out, acc, options);
    std::string text = out.str();
    const size_t table = text.find("----------------\n") + 17;
    const std::string line = text.substr(table, text.find('\n', table) - table);
    return line.substr(line.rfind(' ') + 1);
  };
  EXPECT_EQ(first_row(StatsSortKey::time), "wait4");        // 900 + 700 us
  EXPECT_EQ(first_row(StatsSortKey::calls), "execve");      // 3 calls (tie with others broken by name)
  EXPECT_EQ(first_row(StatsSortKey::errors), "openat");
  EXPECT_EQ(first_row(StatsSortKey::syscall), "brk");
  EXPECT_EQ(first_row(StatsSortKey::usecs_per_call), "wait4");
  EXPECT_EQ(acc.total().calls, 18u);
  EXPECT_EQ(acc.total().errors, 1u);
  ASSERT_EQ(acc.top_failed(5).size(), 1u);
  EXPECT_EQ(acc.top_failed(5)[0].path, "/tmp/file-2");
  ASSERT_EQ(acc.top_opened(5).size(), 1u);
  EXPECT_EQ(acc.top_opened(5)[0].path, "/tmp/file-1");
}

TEST(StatsHistogram, Log2BucketsLikeFunclatency) {
  LatencyHistogram h;
  h.add(0);          // 0 us
  h.add(1'500);      // 1 us
  h.add(2'000);      // 2 us -> 2..3
  h.add(3'999);      // 3 us
  h.add(1'000'000);  // 1000 us -> 512..1023
  EXPECT_EQ(h.buckets[0], 2u);
  EXPECT_EQ(h.buckets[1], 2u);
  EXPECT_EQ(h.buckets[9], 1u);
  EXPECT_EQ(h.count, 5u);
}

TEST_F(StatsReport, NotATraceIsExit2) {
  std::ofstream(dir_ / "junk.tl") << "hello";
  StatsOptions options;
  options.paths = {dir_ / "junk.tl"};
  const ToolRun r = stats(options);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("tl-stats: "), std::string::npos);
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1);  // one line
}

TEST_F(StatsReport, HostileNamesAreEscaped) {
  TraceBuilder t;
  t.container("id\x1b[2J", "name\x1b[31m");
  t.call(7, "x\x1b]0;t\x07", "openat", {kAtFdcwd, 0x1000, 0, 0}, -2, 5, {path(1, "/tmp/\x1b[5m")});
  StatsOptions options;
  options.paths = {t.write(dir_ / "hostile.tl")};
  options.per_process = options.per_container = true;
  const ToolRun r = stats(options);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
  options.format = StatsFormat::json;
  const ToolRun json = stats(options);
  EXPECT_EQ(json.out.find('\x1b'), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\\u001b"), std::string::npos) << json.out;
}

TEST_F(StatsReport, FileCutShortCountsItsCompleteFramesAndWarns) {
  // 3000 writes of 64 incompressible bytes in frames of 500 events: the
  // events, not the header, make most of the file, so a cut lands in them.
  TraceBuilder t;
  const fs::path file = dir_ / "cut.tl";
  {
    format::WriterOptions writer_options;
    writer_options.max_events_per_frame = 500;
    auto writer = value_or_throw(format::TraceWriter::create(file, t.metadata(), writer_options));
    format::OwnedEvent e;
    e.fields.nr = t.metadata().catalogue.find("write")->nr;
    e.fields.pid = e.fields.tid = 1;
    e.comm = "loop";
    uint64_t noise = 12345;
    for (int i = 0; i < 3000; ++i) {
      e.fields.enter_ns = 1'000'000 + static_cast<uint64_t>(i) * 1000;
      e.fields.exit_ns = e.fields.enter_ns + 500;
      e.fields.ret = 64;
      std::string bytes(64, '\0');
      for (char& c : bytes) c = static_cast<char>((noise = noise * 6364136223846793005ULL + 1) >> 56);
      e.captures = {{1, 64, bytes}};
      value_or_throw(writer.append(e.view()));
    }
    value_or_throw(writer.finish());
  }
  fs::resize_file(file, fs::file_size(file) * 6 / 10);
  StatsOptions options;
  options.paths = {file};
  const ToolRun r = stats(options);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("tl-stats: "), std::string::npos);
  // Whole frames of 500 events only.
  const auto events = std::stoull(r.out.substr(0, r.out.find(' ')));
  EXPECT_GT(events, 0u);
  EXPECT_LT(events, 3000u);
  EXPECT_EQ(events % 500, 0u);
}

TEST(StatsSortKey, Names) {
  EXPECT_EQ(stats_sort_key_from_name("usecs"), StatsSortKey::usecs_per_call);
  EXPECT_EQ(stats_sort_key_from_name("name"), StatsSortKey::syscall);
  EXPECT_FALSE(stats_sort_key_from_name("bogus"));
}

}  // namespace
}  // namespace traceloop::tools

namespace traceloop::tools {
namespace {

TEST(StatsPathCounter, CountsThroughGrowth) {
  PathCounter counter;
  // Enough distinct paths to grow the table several times, each seen i % 7 + 1 times.
  for (int round = 0; round < 7; ++round)
    for (int i = 0; i < 5000; ++i)
      if (round <= i % 7) counter.add("/p/" + std::to_string(i));
  ASSERT_EQ(counter.size(), 5000u);
  for (size_t k = 0; k < counter.size(); ++k) {
    const int i = std::stoi(std::string(counter.path(k).substr(3)));
    EXPECT_EQ(counter.count(k), static_cast<uint64_t>(i % 7 + 1)) << counter.path(k);
  }
  counter.add("");
  counter.add("");
  EXPECT_EQ(counter.count(counter.size() - 1), 2u);
}

}  // namespace
}  // namespace traceloop::tools
