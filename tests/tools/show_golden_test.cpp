// Golden tests of tl-show: scenario traces (the SPEC's user stories, a
// hostile trace) written with TraceWriter, rendered in every format through
// run_show and compared with testdata/golden/ (readable diff on mismatch;
// TRACELOOP_UPDATE_GOLDEN=1 regenerates). Real recorded traces under
// testdata/real/*.tl are checked the same way against
// testdata/golden/real/<name>.<format>.txt.

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "tests/tools/show_scenarios.h"
#include "tools/lib/decoder/show.h"

namespace traceloop::tools {
namespace {

namespace fs = std::filesystem;
using format::Arch;

struct Rendered {
  int status;
  std::string out;
  std::string err;
};

Rendered show(const fs::path& path, OutputFormat format, ShowOptions options = {}) {
  options.path = path.string();
  options.render.format = format;
  std::ostringstream out, err;
  const int status = run_show(options, out, err);
  return {status, out.str(), err.str()};
}

class GoldenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tl-show-golden-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  template <typename Scenario>
  fs::path make(const std::string& name, Arch arch, Scenario scenario) {
    auto metadata = testing::test_metadata(arch);
    testing::EventBuilder builder(metadata.catalogue);
    scenario(builder, arch);
    const auto path = dir_ / (name + ".tl");
    testing::write_trace(path, metadata, builder);
    return path;
  }

  void check_all_formats(const std::string& name, const fs::path& trace) {
    for (auto [format, suffix] : {std::pair{OutputFormat::table, "table"}, std::pair{OutputFormat::strace, "strace"},
                                  std::pair{OutputFormat::json, "json"}}) {
      const auto r = show(trace, format);
      EXPECT_EQ(r.status, 0) << r.err;
      EXPECT_EQ(r.err, "");
      testing::expect_golden("golden/" + name + "." + suffix + ".txt", r.out);
    }
  }

  fs::path dir_;
};

TEST_F(GoldenTest, MultiplicationDemoX86) {
  check_all_formats("multiplication-x86_64", make("mult", Arch::x86_64, testing::multiplication_demo));
}

TEST_F(GoldenTest, MultiplicationDemoAarch64) {
  check_all_formats("multiplication-aarch64", make("mult", Arch::aarch64, testing::multiplication_demo));
}

TEST_F(GoldenTest, ListingDemoX86) {
  check_all_formats("listing-x86_64", make("ls", Arch::x86_64, testing::listing_demo));
}

TEST_F(GoldenTest, ListingDemoAarch64) {
  check_all_formats("listing-aarch64", make("ls", Arch::aarch64, testing::listing_demo));
}

TEST_F(GoldenTest, HostileTraceRendersSafely) {
  const auto trace = make("hostile", Arch::x86_64, testing::hostile_trace);
  check_all_formats("hostile", trace);
  for (auto format : {OutputFormat::table, OutputFormat::strace, OutputFormat::json}) {
    const auto r = show(trace, format);
    for (char c : r.out) {
      const auto u = static_cast<unsigned char>(c);
      // Only printable ASCII, newlines, and the UTF-8 ellipsis of loss markers.
      const bool ok = (u >= 0x20 && u < 0x7f) || u == '\n' || u == 0xe2 || u == 0x80 || u == 0xa6;
      ASSERT_TRUE(ok) << "raw byte " << int(u) << " in format " << int(format);
    }
  }
}

TEST_F(GoldenTest, TimestampsDurationsAndFilters) {
  const auto trace = make("mult", Arch::x86_64, testing::multiplication_demo);
  ShowOptions o;
  o.render.timestamps = TimestampMode::wall_micros;
  o.render.durations = true;
  o.filter.syscalls = {"openat,write"};
  testing::expect_golden("golden/multiplication-tt-T-openat-write.strace.txt", show(trace, OutputFormat::strace, o).out);
  ShowOptions r;
  r.render.timestamps = TimestampMode::relative;
  r.filter.failed = true;
  testing::expect_golden("golden/multiplication-r-failed.table.txt", show(trace, OutputFormat::table, r).out);
  ShowOptions t;
  t.render.timestamps = TimestampMode::epoch_micros;
  t.filter.comms = {"bc"};
  t.render.header = false;
  testing::expect_golden("golden/multiplication-ttt-comm-bc.table.txt", show(trace, OutputFormat::table, t).out);
}

TEST_F(GoldenTest, RealTracesMatchTheirGoldens) {
  const auto real = testing::source_dir() / "testdata" / "real";
  size_t checked = 0;
  if (fs::exists(real)) {
    for (const auto& entry : fs::directory_iterator(real)) {
      if (entry.path().extension() != ".tl") continue;
      const auto name = entry.path().stem().string();
      for (auto [format, suffix] : {std::pair{OutputFormat::table, "table"},
                                    std::pair{OutputFormat::strace, "strace"}, std::pair{OutputFormat::json, "json"}}) {
        const auto r = show(entry.path(), format);
        EXPECT_EQ(r.status, 0) << name << ": " << r.err;
        testing::expect_golden("golden/real/" + name + "." + suffix + ".txt", r.out);
      }
      ++checked;
    }
  }
  if (checked == 0) GTEST_SKIP() << "no recorded traces in " << real << " (scripts/record_testdata.sh makes them)";
}

}  // namespace
}  // namespace traceloop::tools
