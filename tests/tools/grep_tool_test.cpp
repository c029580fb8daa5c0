// tl-grep on synthetic traces written with the real writer: grep's options,
// exit statuses, goldens, and the -o slice round trip through tl-show.
#include "tools/lib/analyses/grep.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "tests/tools/stats_test_traces.h"
#include "format/synthetic_workload.h"
#include "tools/lib/decoder/show.h"

namespace traceloop::tools {
namespace {

using namespace testing;

struct GrepResult {
  int status;
  std::string out;
  std::string err;
};

class GrepTool : public ::testing::Test {
 protected:
  void SetUp() override {
    demo_ = multiplication_demo(24581, 3240).write(dir_ / "demo.tl").string();
    two_ = two_containers().write(dir_ / "two.tl").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  GrepOptions options(std::vector<std::string> patterns, std::vector<std::string> paths = {}) {
    GrepOptions o;
    o.match.patterns = std::move(patterns);
    o.paths = paths.empty() ? std::vector<std::string>{demo_} : std::move(paths);
    o.render.format = OutputFormat::strace;
    return o;
  }
  GrepResult grep(const GrepOptions& o) {
    std::ostringstream out, err;
    const int status = run_grep(o, out, err);
    std::string text = out.str();
    replace_all(text, dir_.string(), "DIR");
    return {status, text, err.str()};
  }

  fs::path dir_ = temp_dir("grep");
  std::string demo_;
  std::string two_;
};

TEST_F(GrepTool, RecoverTheMultiplicationStory) {
  // The SPEC's demo: the result, the file really written, the failing open, the exit.
  auto o = options({"42", "/tmp/file-", "exit_group"});
  o.event_numbers = true;
  const auto r = grep(o);
  EXPECT_EQ(r.status, 0) << r.err;
  expect_golden("analysis/grep_demo_story.txt", r.out);
}

TEST_F(GrepTool, TableFormatWithHeader) {
  auto o = options({"ENOENT"});
  o.render.format = OutputFormat::table;
  const auto r = grep(o);
  EXPECT_EQ(r.status, 0) << r.err;
  expect_golden("analysis/grep_enoent_table.txt", r.out);
}

TEST_F(GrepTool, NoMatchIsExit1AndSilent) {
  const auto r = grep(options({"no-such-thing"}));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
}

TEST_F(GrepTool, BadPatternOrFileIsExit2) {
  EXPECT_EQ(grep(options({"(unclosed"})).status, 2);
  const auto r = grep(options({"x"}, {(dir_ / "missing.tl").string()}));
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err.rfind("tl-grep: ", 0), 0u) << r.err;
}

TEST_F(GrepTool, CountInvertIgnoreCase) {
  auto o = options({"OPENAT"});
  o.count = true;
  EXPECT_EQ(grep(o).out, "0\n");
  o.match.ignore_case = true;
  EXPECT_EQ(grep(o).out, "2\n");
  o.invert = true;
  EXPECT_EQ(grep(o).out, "16\n");
}

TEST_F(GrepTool, SeveralFilesNameTheFile) {
  auto o = options({"openat"}, {demo_, two_});
  o.count = true;
  EXPECT_EQ(grep(o).out, "DIR/demo.tl:2\nDIR/two.tl:7\n");
  o.count = false;
  o.files_with_matches = true;
  o.match.patterns = {"nginx"};
  const auto r = grep(o);
  EXPECT_EQ(r.out, "DIR/two.tl\n");
  EXPECT_EQ(r.status, 0);
}

TEST_F(GrepTool, FieldMatchesOneFieldOnly) {
  auto o = options({"^(read|write)$"});
  o.match.field = "syscall";
  o.count = true;
  EXPECT_EQ(grep(o).out, "3\n");
  // "cat" is in a line of sh too (the execve of /bin/cat), but the comm is cat in 3 events.
  o.match.field = "comm";
  o.match.patterns = {"^cat$"};
  EXPECT_EQ(grep(o).out, "3\n");
  o.match.field = "errno";
  o.match.patterns = {"ENOENT"};
  EXPECT_EQ(grep(o).out, "1\n");
  o.match.field = "path";
  o.match.patterns = {"^/tmp/"};
  EXPECT_EQ(grep(o).out, "2\n");
}

TEST_F(GrepTool, ContextIsCountedInEventsOfTheSameThread) {
  // The two-container trace interleaves nginx (tid 200) and postgres (tids 301, 302):
  // the context of the match in tid 301 comes from tid 301 only.
  auto o = options({"missing"}, {two_});
  o.before = 2;
  o.after = 1;
  o.event_numbers = true;
  const auto r = grep(o);
  EXPECT_EQ(r.status, 0);
  expect_golden("analysis/grep_context.txt", r.out);
}

TEST_F(GrepTool, ContainerFilterAndJson) {
  auto o = options({"openat"}, {two_});
  o.filter.containers = {"db"};
  o.render.format = OutputFormat::json;
  o.count = true;
  EXPECT_EQ(grep(o).out, "4\n");
  o.count = false;
  o.match.patterns = {"\"errno\"|EACCES"};
  const auto r = grep(o);
  EXPECT_EQ(r.status, 0);
  expect_golden("analysis/grep_db_json.txt", r.out);
}

TEST_F(GrepTool, PrefilterSkipsEventsWithoutTheLiteralAndChangesNothing) {
  auto matcher = value_or_throw(GrepMatcher::create({{"/tmp/file-"}, std::nullopt, false}));
  EXPECT_EQ(matcher.prefilter_literals(), std::vector<std::string>{"/tmp/file-"});
  // Not for regexes, not for literals an errno message holds.
  EXPECT_TRUE(value_or_throw(GrepMatcher::create({{"/tmp/.*"}, std::nullopt, false})).prefilter_literals().empty());
  EXPECT_TRUE(value_or_throw(GrepMatcher::create({{"t/o"}, std::nullopt, false})).prefilter_literals().empty());
  // Same output as a pattern that defeats the pre-filter but means the same.
  auto literal = options({"/tmp/file-"});
  auto regex = options({"/tmp/file[-]"});
  EXPECT_EQ(grep(literal).out, grep(regex).out);
  literal.match.ignore_case = regex.match.ignore_case = true;
  literal.match.patterns = {"/TMP/FILE-"};
  regex.match.patterns = {"/TMP/FILE[-]"};
  EXPECT_EQ(grep(literal).out, grep(regex).out);
  EXPECT_NE(grep(literal).out, "");
}


TEST_F(GrepTool, SliceRoundTrip) {
  for (const auto format : {OutputFormat::table, OutputFormat::strace, OutputFormat::json}) {
    for (const std::string pattern : {"openat|write", "/tmp/file-", "nomatch"}) {
      for (const std::string& file : {demo_, two_}) {
        auto o = options({pattern}, {file});
        o.render.format = format;
        const auto printed = grep(o);
        o.output_path = (dir_ / "slice.tl").string();
        const auto sliced = grep(o);
        ASSERT_EQ(sliced.status, printed.status) << sliced.err;
        EXPECT_EQ(sliced.out, "");
        ShowOptions show;
        show.path = o.output_path;
        show.render.format = format;
        std::ostringstream out, err;
        ASSERT_EQ(run_show(show, out, err), 0) << err.str();
        if (printed.status == 1) {
          // No event: tl-show prints at most its table header.
          const std::string shown = out.str();
          EXPECT_LE(std::count(shown.begin(), shown.end(), '\n'), 1) << shown;
        } else {
          EXPECT_EQ(out.str(), printed.out) << pattern << " on " << file;
        }
        auto slice = value_or_throw(format::load_trace(o.output_path));
        EXPECT_EQ(slice.metadata.capture.mode, "slice");
        EXPECT_EQ(slice.metadata.catalogue, value_or_throw(format::load_trace(file)).metadata.catalogue);
      }
    }
  }
}

TEST_F(GrepTool, SliceWithoutDataKeepsPathsOnly) {
  auto o = options({"."});
  o.output_path = (dir_ / "nodata.tl").string();
  o.strip_data = true;
  ASSERT_EQ(grep(o).status, 0);
  auto slice = value_or_throw(format::load_trace(o.output_path));
  EXPECT_FALSE(slice.metadata.capture.capture_data);
  ASSERT_EQ(slice.events.size(), 18u);
  size_t paths = 0;
  for (const auto& e : slice.events) {
    const auto* spec = slice.metadata.catalogue.find(e.fields.nr);
    for (const auto& c : e.captures) {
      EXPECT_EQ(spec->params[c.arg].kind, format::ArgKind::path) << spec->name;
      ++paths;
    }
  }
  EXPECT_EQ(paths, 5u);  // 3 execve filenames, 2 openat filenames; argv and buffers gone
  ASSERT_EQ(slice.processes.size(), 3u);
  for (const auto& p : slice.processes) EXPECT_LE(p.argv.size(), 1u) << p.comm;  // the script text is gone
}

TEST_F(GrepTool, SliceNeedsOneFile) {
  auto o = options({"x"}, {demo_, two_});
  o.output_path = (dir_ / "s.tl").string();
  EXPECT_EQ(grep(o).status, 2);
}

// A realistic trace of many small frames, so the two workers both get work.
std::string many_frames(const fs::path& path) {
  format::TraceMetadata metadata;
  metadata.catalogue = format::builtin_catalogue(format::Arch::x86_64);
  metadata.boot_to_wall_ns = 1'700'000'000'000'000'000;
  format::WriterOptions options;
  options.max_events_per_frame = 700;
  auto writer = value_or_throw(format::TraceWriter::create(path, metadata, options));
  format::SyntheticWorkload workload(metadata.catalogue, 7);
  for (int i = 0; i < 20'000; ++i) value_or_throw(writer.append(workload.next()));
  value_or_throw(writer.finish());
  return path.string();
}

TEST_F(GrepTool, TwoWorkersPrintExactlyWhatOneDoes) {
  const std::string big = many_frames(dir_ / "big.tl");
  struct Case {
    std::vector<std::string> patterns;
    std::optional<std::string> field;
    bool invert, count, numbers, color;
    OutputFormat format;
  };
  const std::vector<Case> cases = {
      {{"/etc/"}, std::nullopt, false, false, true, false, OutputFormat::table},
      {{"ENOENT", "= 0$"}, std::nullopt, false, false, true, true, OutputFormat::strace},
      {{"openat"}, std::string("syscall"), true, false, false, false, OutputFormat::json},
      {{"read"}, std::nullopt, false, true, false, false, OutputFormat::strace},
  };
  for (const auto& c : cases) {
    auto o = options(c.patterns, {big, demo_});
    o.match.field = c.field;
    o.invert = c.invert;
    o.count = c.count;
    o.event_numbers = c.numbers;
    o.render.color = c.color;
    o.render.format = c.format;
    o.threads = 1;
    const auto one = grep(o);
    o.threads = 2;
    const auto two = grep(o);
    o.threads = 3;
    const auto three = grep(o);
    EXPECT_EQ(one.status, 0);
    EXPECT_GT(one.out.size(), c.count ? 20u : 10'000u);
    EXPECT_EQ(one.out, two.out) << c.patterns[0];
    EXPECT_EQ(one.out, three.out) << c.patterns[0];
    EXPECT_EQ(one.status, two.status);
  }
}

TEST_F(GrepTool, Aarch64Trace) {
  const auto arm = multiplication_demo(24581, 3240, 100, 0x55d0c8a1e000, 3, format::Arch::aarch64).write(dir_ / "arm.tl");
  auto x86 = options({"openat|exit_group|42"});
  auto a64 = options({"openat|exit_group|42"}, {arm.string()});
  EXPECT_EQ(grep(a64).out, grep(x86).out);
}

}  // namespace
}  // namespace traceloop::tools
