// tl-grep on a trace recorded on this machine (testdata/analysis/real, see record.sh).
#include <gtest/gtest.h>

#include <sstream>

#include "tests/tools/stats_test_traces.h"
#include "tools/lib/analyses/grep.h"
#include "tools/lib/decoder/show.h"

namespace traceloop::tools {
namespace {

using namespace testing;

std::string real(const std::string& name) { return (source_dir() / "testdata/analysis/real" / name).string(); }

TEST(GrepReal, RecoverTheStory) {
  // SPEC story 1: the result 42, the file really written, the failing open, the exits.
  GrepOptions o;
  o.match.patterns = {"\"42\\\\n\"", "/tmp/file-", "exit_group"};
  o.paths = {real("demo-a.tl")};
  o.render.format = OutputFormat::strace;
  o.event_numbers = true;
  std::ostringstream out, err;
  EXPECT_EQ(run_grep(o, out, err), 0) << err.str();
  expect_golden("analysis/real_grep_demo.txt", out.str());
  EXPECT_NE(out.str().find("write(1, \"42\\n\", 3)"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("ENOENT"), std::string::npos);
}

TEST(GrepReal, SliceRoundTrip) {
  const fs::path dir = temp_dir("grep-real");
  GrepOptions o;
  o.match.patterns = {"openat|execve|write"};
  o.paths = {real("demo-a.tl")};
  std::ostringstream printed, err;
  ASSERT_EQ(run_grep(o, printed, err), 0) << err.str();
  o.output_path = (dir / "slice.tl").string();
  std::ostringstream none;
  ASSERT_EQ(run_grep(o, none, err), 0) << err.str();
  EXPECT_EQ(none.str(), "");
  ShowOptions show;
  show.path = o.output_path;
  std::ostringstream shown;
  ASSERT_EQ(run_show(show, shown, err), 0) << err.str();
  EXPECT_EQ(shown.str(), printed.str());
  // Smaller than the source, same story.
  EXPECT_LT(fs::file_size(o.output_path), fs::file_size(real("demo-a.tl")));
  fs::remove_all(dir);
}

TEST(GrepReal, FieldAndCountAcrossFiles) {
  GrepOptions o;
  o.match.patterns = {"^ENOENT$"};
  o.match.field = "errno";
  o.count = true;
  o.paths = {real("cat-exists.tl"), real("cat-missing.tl")};
  std::ostringstream out, err;
  EXPECT_EQ(run_grep(o, out, err), 0) << err.str();
  std::string text = out.str();
  replace_all(text, (source_dir() / "testdata/analysis/real/").string(), "");
  expect_golden("analysis/real_grep_enoent_count.txt", text);
}

TEST(GrepReal, AcrossContainersFindsTheLostResult) {
  // Two containers recorded by the daemon: only the multiplication one holds bc's 42.
  GrepOptions o;
  o.match.patterns = {"^bc$"};
  o.match.field = "comm";
  o.files_with_matches = true;
  o.paths = {real("container-mult.tl"), real("container-ls.tl")};
  std::ostringstream out, err;
  EXPECT_EQ(run_grep(o, out, err), 0) << err.str();
  EXPECT_EQ(out.str(), real("container-mult.tl") + "\n");

  GrepOptions w;
  w.match.patterns = {"write\\(1, \"42\\\\n\""};
  w.paths = {real("container-mult.tl")};
  w.render.format = OutputFormat::strace;
  std::ostringstream found;
  EXPECT_EQ(run_grep(w, found, err), 0) << err.str();
  EXPECT_NE(found.str().find("write(1, \"42\\n\", 3)"), std::string::npos) << found.str();
}

TEST(GrepReal, RealRecordingWithoutEventsMatchesNothing) {
  GrepOptions o;
  o.match.patterns = {"."};
  o.paths = {real("empty.tl")};
  std::ostringstream out, err;
  EXPECT_EQ(run_grep(o, out, err), 1) << err.str();
  EXPECT_EQ(out.str(), "");
}

TEST(GrepReal, LossMarkersOfARealOverflowAreShownInPlace) {
  ShowOptions show;
  show.path = real("storm.tl");
  std::ostringstream out, err;
  ASSERT_EQ(run_show(show, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("events lost on CPU"), std::string::npos);
}

}  // namespace
}  // namespace traceloop::tools
