// tl-show's files and times: several files shown as one, merged by time;
// wall clock times read (--since, --until) in the zone -t/-tt print them in.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/tools/show_fixtures.h"
#include "tools/lib/decoder/show.h"

namespace traceloop::tools {
namespace {

namespace fs = std::filesystem;

struct Shown {
  int status;
  std::string out;
  std::string err;
};

Shown show(ShowOptions options) {
  std::ostringstream out, err;
  const int status = run_show(options, out, err);
  return {status, out.str(), err.str()};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// TZ for the test's duration (POSIX rules: no time zone database needed).
class ScopedTz {
 public:
  explicit ScopedTz(const char* tz) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
  ~ScopedTz() {
    if (old_)
      ::setenv("TZ", old_->c_str(), 1);
    else
      ::unsetenv("TZ");
    ::tzset();
  }

 private:
  std::optional<std::string> old_;
};

class ShowFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tl-show-files-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Ten close() calls 10 us apart (the first at 2026-11-22T03:00:05.000010Z).
  fs::path ten_calls() {
    const auto path = dir_ / "ten.tl";
    const auto metadata = testing::test_metadata();
    testing::EventBuilder b(metadata.catalogue);
    for (uint64_t i = 0; i < 10; ++i) b.call("close", {i}, 0);
    testing::write_trace(path, metadata, b);
    return path;
  }

  fs::path dir_;
};

// Paris in November is UTC+1: -tt prints 04:00:05.000030 for the third call,
// and --since 04:00:05.000030 must start there (it used to read the time as
// UTC, an hour after every call: nothing was shown).
TEST_F(ShowFilesTest, SinceReadsTheLocalTimeThatTtPrints) {
  const ScopedTz paris("CET-1CEST,M3.5.0,M10.5.0/3");
  ShowOptions o;
  o.path = ten_calls().string();
  o.render.format = OutputFormat::strace;
  o.render.timestamps = TimestampMode::wall_micros;
  o.render.local_time = true;
  const auto all = lines_of(show(o).out);
  ASSERT_EQ(all.size(), 10u);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(all[2], m, std::regex(R"(\d\d:\d\d:\d\d\.\d{6})"))) << all[2];
  const std::string printed = m.str();
  EXPECT_EQ(printed, "04:00:05.000030");
  for (const std::string& since :
       {printed, std::string("03:00:05.000030Z"), std::string("04:00:05.000030+01:00"),
        std::string("05:30:05.000030+0230"), std::string("2026-11-22T04:00:05.000030"),
        std::string("2026-11-22 03:00:05.000030Z")}) {
    ShowOptions from = o;
    from.filter.since = since;
    const auto r = show(from);
    EXPECT_EQ(r.status, 0) << r.err;
    const auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 8u) << since << "\n" << r.out;
    EXPECT_EQ(lines.front(), all[2]) << since;
  }
  ShowOptions until = o;
  until.filter.until = printed;
  EXPECT_EQ(lines_of(show(until).out).size(), 3u);
  for (const char* bad : {"04:00:00+1", "04:00:00+25:00", "04:00:00Zx"}) {
    ShowOptions b = o;
    b.filter.since = bad;
    const auto r = show(b);
    EXPECT_EQ(r.status, 2) << bad;
    EXPECT_NE(r.err.find("invalid time"), std::string::npos) << r.err;
  }
}

// Two files are shown as one, merged by time; the table names each line's
// container, which tells the files apart.
TEST_F(ShowFilesTest, SeveralFilesMergedByTime) {
  auto first = testing::test_metadata();
  first.containers[0].name = "web";
  auto second = testing::test_metadata();
  second.containers[0].name = "db";
  second.containers[0].id = "7d6e5f4a3b2c1d0e9f8a7b6c5d50f702a9e3f0cd2b8d6c1f6a1c4e0d7e2b9a8c";
  // web's calls at 10, 30 and 50 us, db's at 20 and 40 us (the builders
  // advance 10 us a call: the getpid calls only make room, and are left out).
  testing::EventBuilder b_timed(second.catalogue);
  b_timed.call("getpid", {}, 1);  // at 10 us, dropped below
  b_timed.call("dup", {2}, 5);    // 20 us
  b_timed.call("getpid", {}, 1);  // 30 us, dropped
  b_timed.call("dup", {4}, 6);    // 40 us
  testing::EventBuilder a_timed(first.catalogue);
  a_timed.call("close", {1}, 0);   // 10 us
  a_timed.call("getpid", {}, 1);   // 20 us, dropped
  a_timed.call("close", {3}, 0);   // 30 us
  a_timed.call("getpid", {}, 1);   // 40 us, dropped
  a_timed.call("close", {5}, 0);   // 50 us
  auto write_without_getpid = [&](const fs::path& path, const format::TraceMetadata& m,
                                  const testing::EventBuilder& builder) {
    auto writer = format::TraceWriter::create(path, m);
    ASSERT_TRUE(writer.ok());
    for (const auto& e : builder.events())
      if (e.fields.nr != m.catalogue.find("getpid")->nr) {
        ASSERT_TRUE(writer->append(e.view()).ok());
      }
    ASSERT_TRUE(writer->finish().ok());
  };
  write_without_getpid(dir_ / "web.tl", first, a_timed);
  write_without_getpid(dir_ / "db.tl", second, b_timed);

  ShowOptions o;
  o.path = (dir_ / "web.tl").string();
  o.more_paths = {(dir_ / "db.tl").string()};
  o.render.format = OutputFormat::table;
  const auto r = show(o);
  ASSERT_EQ(r.status, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 6u) << r.out;  // the header and five calls
  EXPECT_NE(lines[0].find("CONTAINER"), std::string::npos) << r.out;
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"web", "close"}, {"db", "dup"}, {"web", "close"}, {"db", "dup"}, {"web", "close"}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NE(lines[i + 1].find(expected[i].first), std::string::npos) << lines[i + 1];
    EXPECT_NE(lines[i + 1].find(expected[i].second), std::string::npos) << lines[i + 1];
  }
  // The temporary merged file is gone.
  for (const auto& entry : fs::directory_iterator(fs::temp_directory_path()))
    EXPECT_EQ(entry.path().filename().string().rfind("tl-show-merged-", 0), std::string::npos) << entry.path();

  ShowOptions missing = o;
  missing.more_paths = {(dir_ / "nope.tl").string()};
  const auto m = show(missing);
  EXPECT_EQ(m.status, 2);
  EXPECT_NE(m.err.find("nope.tl"), std::string::npos) << m.err;

  ShowOptions info = o;
  info.info = true;
  EXPECT_EQ(show(info).status, 2);
}

}  // namespace
}  // namespace traceloop::tools
