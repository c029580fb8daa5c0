// run_show at the CLI level: exit statuses, one-line errors for every reader
// failure, warnings for a file cut short, EPIPE, filters.

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/wait.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <streambuf>

#include "format/trace_reader.h"
#include "format/trace_writer.h"
#include "tests/tools/show_scenarios.h"
#include "tools/lib/decoder/show.h"

namespace traceloop::tools {
namespace {

namespace fs = std::filesystem;

struct Run {
  int status;
  std::string out;
  std::string err;
};

Run run(const fs::path& path, ShowOptions options = {}) {
  options.path = path.string();
  std::ostringstream out, err;
  const int status = run_show(options, out, err);
  return {status, out.str(), err.str()};
}

size_t count_lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

class ShowCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tl-show-cli-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // 40 events in frames of 4, so cutting the file keeps complete frames.
  fs::path many_frames() {
    const auto path = dir_ / "frames.tl";
    auto metadata = testing::test_metadata();
    format::WriterOptions options;
    options.max_events_per_frame = 4;
    auto writer = format::TraceWriter::create(path, metadata, options);
    EXPECT_TRUE(writer.ok());
    testing::EventBuilder b(metadata.catalogue);
    for (int i = 0; i < 40; ++i) b.call("close", {static_cast<uint64_t>(i)}, i % 3 == 0 ? -9 : 0);
    for (const auto& e : b.events()) EXPECT_TRUE(writer->append(e.view()).ok());
    EXPECT_TRUE(writer->finish().ok());
    return path;
  }

  std::string bytes_of(const fs::path& p) { return testing::read_file(p); }
  fs::path write(const std::string& name, const std::string& bytes) {
    const auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

  fs::path dir_;
};

void expect_one_line_error(const Run& r, const std::string& fragment) {
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_EQ(r.err.rfind("tl-show: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << "'" << fragment << "' not in: " << r.err;
}

TEST_F(ShowCliTest, WholeFileRendersWithStatusZero) {
  const auto r = run(many_frames());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(count_lines(r.out), 41u);  // header + 40 events
}

TEST_F(ShowCliTest, MissingFile) { expect_one_line_error(run(dir_ / "nope.tl"), "nope.tl"); }

TEST_F(ShowCliTest, NotATrace) {
  expect_one_line_error(run(write("text.tl", "hello, this is not a trace at all\n")), "text.tl");
  expect_one_line_error(run(write("empty.tl", "")), "empty.tl");
}

TEST_F(ShowCliTest, NewerMajorVersion) {
  std::string b = bytes_of(many_frames());
  b[8] = 99;  // u16 major after the 8-byte magic
  b[9] = 0;
  expect_one_line_error(run(write("newer.tl", b)), "newer.tl");
}

TEST_F(ShowCliTest, CorruptFrame) {
  std::string b = bytes_of(many_frames());
  // Flip bytes in the middle of the file: inside some event frame's payload.
  for (size_t i = b.size() / 2; i < b.size() / 2 + 8; ++i) b[i] = static_cast<char>(b[i] ^ 0x5a);
  const auto r = run(write("corrupt.tl", b));
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("corrupt.tl"), std::string::npos) << r.err;
}

TEST_F(ShowCliTest, DecompressionBombIsRefused) {
  std::string b = bytes_of(many_frames());
  // The header frame's declared raw size (offset 16 + 8) far beyond the limit.
  b[24] = b[25] = b[26] = b[27] = '\xff';
  expect_one_line_error(run(write("bomb.tl", b)), "bomb.tl");
}

TEST_F(ShowCliTest, FileCutShortShowsCompleteFramesAndWarns) {
  const std::string b = bytes_of(many_frames());
  // Walk the frames (16-byte header: type, 3 zero bytes, u32 compressed size, ...)
  // and cut in the middle of the 6th frame: the header frame, then event frames.
  std::vector<size_t> starts;
  for (size_t at = 16; at + 16 <= b.size();) {
    starts.push_back(at);
    uint32_t compressed = 0;
    std::memcpy(&compressed, b.data() + at + 4, 4);
    at += 16 + compressed;
  }
  ASSERT_GT(starts.size(), 7u);
  const auto r = run(write("cut.tl", b.substr(0, starts[5] + 20)));
  EXPECT_EQ(r.status, 0) << r.err;
  const size_t shown = count_lines(r.out) - 1;
  EXPECT_GT(shown, 0u);
  EXPECT_LT(shown, 40u);
  EXPECT_EQ(shown % 4, 0u) << "only complete frames";
  EXPECT_NE(r.err.find("warning"), std::string::npos) << r.err;
}

TEST_F(ShowCliTest, FilterErrorsAreOneLine) {
  ShowOptions o;
  o.filter.syscalls = {"openat,frobnicate"};
  expect_one_line_error(run(many_frames(), o), "frobnicate");
  ShowOptions c;
  c.filter.containers = {"nosuchcontainer"};
  expect_one_line_error(run(many_frames(), c), "nosuchcontainer");
  for (const char* bad : {"yesterday", "99999999999999999999", "@1.2.3", "25:00:00", "+-1"}) {
    ShowOptions t;
    t.filter.since = bad;
    expect_one_line_error(run(many_frames(), t), bad);
  }
}

TEST_F(ShowCliTest, TimeBounds) {
  const auto metadata = testing::test_metadata();
  auto rel = parse_time_bound("1.5s", metadata);
  ASSERT_TRUE(rel.ok());
  EXPECT_TRUE(rel->relative);
  EXPECT_EQ(rel->ns, 1'500'000'000);
  EXPECT_EQ(parse_time_bound("250ms", metadata)->ns, 250'000'000);
  EXPECT_EQ(parse_time_bound("+2", metadata)->ns, 2'000'000'000);
  // Absolute times become boot-time ns through the file's clock offset.
  auto epoch = parse_time_bound("@1795316405.5", metadata);
  ASSERT_TRUE(epoch.ok());
  EXPECT_FALSE(epoch->relative);
  EXPECT_EQ(epoch->ns, 5'500'000'000);
  EXPECT_EQ(parse_time_bound("03:00:05.5", metadata)->ns, 5'500'000'000);
  EXPECT_EQ(parse_time_bound("2026-11-22T03:00:05", metadata)->ns, 5'000'000'000);
}

TEST_F(ShowCliTest, FiltersSelect) {
  const auto trace = many_frames();
  ShowOptions failed;
  failed.filter.failed = true;
  failed.render.header = false;
  EXPECT_EQ(count_lines(run(trace, failed).out), 14u);  // i % 3 == 0 for i < 40
  ShowOptions since;
  since.render.header = false;
  since.filter.since = "+100us";  // events are 10 us apart
  since.filter.until = "+195us";
  EXPECT_EQ(count_lines(run(trace, since).out), 10u);
  ShowOptions pid;
  pid.render.header = false;
  pid.filter.pids = {4242};
  EXPECT_EQ(count_lines(run(trace, pid).out), 0u);
  pid.filter.pids = {100};
  EXPECT_EQ(count_lines(run(trace, pid).out), 40u);
  ShowOptions container;
  container.render.header = false;
  container.filter.containers = {"50f702a9"};  // id prefix
  EXPECT_EQ(count_lines(run(trace, container).out), 40u);
}

TEST_F(ShowCliTest, FiltersNameSyscallsTheTraceDoesNotList) {
  // A compacted trace lists only the syscalls it recorded (close here).
  const auto path = dir_ / "compact.tl";
  auto metadata = testing::test_metadata();
  format::WriterOptions options;
  options.compact_max_raw_bytes = 1u << 20;
  auto writer = format::TraceWriter::create(path, metadata, options);
  ASSERT_TRUE(writer.ok());
  testing::EventBuilder b(metadata.catalogue);
  for (int i = 0; i < 5; ++i) b.call("close", {static_cast<uint64_t>(i)}, 0);
  for (const auto& e : b.events()) ASSERT_TRUE(writer->append(e.view()).ok());
  ASSERT_TRUE(writer->finish().ok());
  auto loaded = format::load_trace(path);
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->metadata.catalogue.syscalls().size(), 1u);

  ShowOptions o;
  o.render.header = false;
  o.filter.syscalls = {"openat"};  // known to the architecture, not to the file: matches nothing
  const auto none = run(path, o);
  EXPECT_EQ(none.status, 0) << none.err;
  EXPECT_EQ(count_lines(none.out), 0u);
  o.filter.syscalls = {"openat,close"};
  EXPECT_EQ(count_lines(run(path, o).out), 5u);
  o.filter.syscalls = {"frobnicate"};
  expect_one_line_error(run(path, o), "frobnicate");
}

// A stream whose reader went away after `room` bytes.
class ClosingBuf : public std::streambuf {
 public:
  ClosingBuf(size_t room, int error) : room_(room), error_(error) {}
  size_t written = 0;

 protected:
  std::streamsize xsputn(const char*, std::streamsize n) override {
    if (written + static_cast<size_t>(n) > room_) {
      errno = error_;
      return 0;
    }
    written += static_cast<size_t>(n);
    return n;
  }
  int_type overflow(int_type c) override {
    errno = error_;
    return traits_type::eof() + 0 * c;
  }

 private:
  size_t room_;
  int error_;
};

TEST_F(ShowCliTest, ClosedPipeStopsQuietly) {
  // Enough events to need several flushes.
  const auto path = dir_ / "big.tl";
  auto metadata = testing::test_metadata();
  auto writer = format::TraceWriter::create(path, metadata);
  ASSERT_TRUE(writer.ok());
  testing::EventBuilder b(metadata.catalogue);
  for (int i = 0; i < 20000; ++i) b.call("close", {3}, 0);
  for (const auto& e : b.events()) ASSERT_TRUE(writer->append(e.view()).ok());
  ASSERT_TRUE(writer->finish().ok());

  ClosingBuf pipe_buf(0, EPIPE);
  std::ostream out(&pipe_buf);
  std::ostringstream err;
  ShowOptions o;
  o.path = path.string();
  EXPECT_EQ(run_show(o, out, err), 0);
  EXPECT_EQ(err.str(), "");

  ClosingBuf full_buf(0, ENOSPC);
  std::ostream full(&full_buf);
  std::ostringstream err2;
  EXPECT_EQ(run_show(o, full, err2), 2);
  EXPECT_NE(err2.str().find("error writing"), std::string::npos) << err2.str();
}

// The real binary behind `tl-show big.tl | head -1`: SIGPIPE ignored, EPIPE a
// quiet stop with status 0 and nothing on stderr.
TEST_F(ShowCliTest, BinaryStopsQuietlyWhenPipedToHead) {
  const fs::path tl_show = testing::binary_dir() / "tools" / "tl-show";
  if (!fs::exists(tl_show)) GTEST_SKIP() << "no tl-show binary at " << tl_show;
  const auto path = dir_ / "big.tl";
  auto metadata = testing::test_metadata();
  auto writer = format::TraceWriter::create(path, metadata);
  ASSERT_TRUE(writer.ok());
  testing::EventBuilder b(metadata.catalogue);
  for (int i = 0; i < 200000; ++i) b.call("close", {3}, 0);
  for (const auto& e : b.events()) ASSERT_TRUE(writer->append(e.view()).ok());
  ASSERT_TRUE(writer->finish().ok());
  const auto status_file = dir_ / "status";
  const auto err_file = dir_ / "err";
  const std::string cmd = "(" + tl_show.string() + " " + path.string() + " 2>" + err_file.string() + "; echo $? >" +
                          status_file.string() + ") | head -1 >/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(testing::read_file(status_file), "0\n");
  EXPECT_EQ(testing::read_file(err_file), "");
  // And a reader error from the binary: one line, status 2.
  const std::string bad = tl_show.string() + " " + (dir_ / "missing.tl").string() + " 2>" + err_file.string();
  EXPECT_EQ(WEXITSTATUS(std::system(bad.c_str())), 2);
  EXPECT_EQ(count_lines(testing::read_file(err_file)), 1u);
  // Usage errors are errors too.
  for (const std::string& args : std::vector<std::string>{"", "--bogus " + path.string(), "--format yaml " + path.string()}) {
    const std::string usage = tl_show.string() + " " + args + " >/dev/null 2>&1";
    EXPECT_EQ(WEXITSTATUS(std::system(usage.c_str())), 2) << args;
  }
}

}  // namespace
}  // namespace traceloop::tools
