// The runtime's setup of a container, hidden by tl-show (and the daemon's
// show and watch) until the container's init executes the entrypoint:
// synthetic traces shaped like runc's (runc:[1:CHILD], runc:[2:INIT], then
// the execve of the container's program) rendered through run_show in every
// format, against goldens in testdata/golden/setup-*.txt and against the
// same trace rendered with everything shown.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "tests/tools/show_scenarios.h"
#include "tools/lib/decoder/show.h"

namespace traceloop::tools {
namespace {

namespace fs = std::filesystem;
using testing::EventBuilder;
using testing::kAtFdcwd;

constexpr uint32_t kInit = 4242;
constexpr uint32_t kDbInit = 5252;
constexpr uint64_t kCloexec = 02000000;

struct Rendered {
  int status;
  std::string out;
  std::string err;
};

constexpr std::pair<OutputFormat, const char*> kFormats[] = {
    {OutputFormat::table, "table"}, {OutputFormat::strace, "strace"}, {OutputFormat::json, "json"}};

// What runc does in a container's cgroup before the entrypoint: the child
// joining namespaces, then the container's init setting things up and
// signalling the exec fifo. `calls` counts what it adds.
void runc_setup(EventBuilder& b, uint32_t init, size_t& calls) {
  const size_t before = b.events().size();
  b.as(init - 2, "runc:[1:CHILD]");
  b.call("setns", {5, 0x20000}, 0);
  b.call("exit_group", {0}, 0);
  b.as(init, "runc:[2:INIT]");
  b.call("openat", {kAtFdcwd, 0x1000, kCloexec, 0}, 3).str(1, "/proc/self/mountinfo");
  b.call("read", {3, 0x2000, 4096}, 24).data(1, "22 1 0:21 / / rw - ext4\n");
  b.call("close", {3}, 0);
  b.call("mount", {0x3000, 0x3100, 0x3200, 0xe, 0}, 0).str(0, "proc").str(1, "/proc").str(2, "proc");
  b.call("sethostname", {0x3300, 4}, 0).data(0, "demo");
  b.call("prctl", {38, 1, 0, 0, 0}, 0);
  b.call("openat", {kAtFdcwd, 0x3400, 01 | kCloexec, 0}, 4).str(1, "/proc/self/fd/5");
  b.call("write", {4, 0x3500, 1}, 1).data(1, "0");
  b.call("close", {4}, 0);
  calls += b.events().size() - before;
}

void entrypoint_execve(EventBuilder& b, uint32_t init, int64_t ret = 0) {
  b.as(init, "runc:[2:INIT]");
  b.call("execve", {0x4000, 0x4100, 0x4200}, ret)
      .str(0, "/bin/sh")
      .data(1, std::string("sh\0-c\0cat /etc/app.conf\0", 24));
}

// The container's own program: a cat that cannot find its configuration.
void program(EventBuilder& b, uint32_t init) {
  b.as(init, "sh");
  b.call("brk", {0}, 0x5576c8219000);
  b.call("openat", {kAtFdcwd, 0x5000, 0, 0}, -2).str(1, "/etc/app.conf");
  const std::string line = "cat: can't open '/etc/app.conf': No such file or directory\n";
  b.call("write", {2, 0x5100, line.size()}, static_cast<int64_t>(line.size())).data(1, line);
  b.call("exit_group", {1}, 0);
}

format::TraceMetadata one_container(uint32_t init_pid) {
  auto m = testing::test_metadata();
  m.capture.mode = "daemon";
  m.containers[0].init_pid = init_pid;
  return m;
}

format::TraceMetadata two_containers() {
  auto m = one_container(kInit);
  m.containers[0].name = "web";
  format::ContainerInfo db;
  db.id = "d0b5e1c7a9f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7";
  db.name = "db";
  db.runtime = "runc";
  db.init_pid = kDbInit;
  m.containers.push_back(db);
  return m;
}

class ShowSetupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tl-show-setup-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const format::TraceMetadata& metadata, const EventBuilder& b) {
    const auto path = dir_ / (name + ".tl");
    testing::write_trace(path, metadata, b);
    return path;
  }

  static Rendered show(const fs::path& path, OutputFormat format, ShowOptions options = {}) {
    options.path = path.string();
    options.render.format = format;
    std::ostringstream out, err;
    const int status = run_show(options, out, err);
    return {status, out.str(), err.str()};
  }
  static Rendered show_all(const fs::path& path, OutputFormat format, ShowOptions options = {}) {
    options.show_setup = true;
    return show(path, format, options);
  }

  void check_goldens(const std::string& name, const fs::path& trace, const ShowOptions& options = {}) {
    for (auto [format, suffix] : kFormats) {
      const auto r = show(trace, format, options);
      EXPECT_EQ(r.status, 0) << r.err;
      EXPECT_EQ(r.err, "");
      testing::expect_golden("golden/" + name + "." + suffix + ".txt", r.out);
    }
  }

  // The one-container trace: runc's setup, the entrypoint, its program.
  fs::path one_container_trace(uint32_t init_pid, size_t* setup_calls = nullptr) {
    auto m = one_container(init_pid);
    EventBuilder b(m.catalogue);
    size_t calls = 0;
    runc_setup(b, kInit, calls);
    entrypoint_execve(b, kInit);
    program(b, kInit);
    if (setup_calls) *setup_calls = calls;
    return write("one-" + std::to_string(init_pid), m, b);
  }

  // Two containers starting at once, their setups and programs interleaved:
  // web reaches its entrypoint, db's entrypoint cannot be executed.
  fs::path one_of_two_fails() {
    auto m = two_containers();
    EventBuilder b(m.catalogue);
    size_t web_calls = 0, db_calls = 0;
    b.in_container(0);
    runc_setup(b, kInit, web_calls);
    b.in_container(1);
    runc_setup(b, kDbInit, db_calls);
    b.in_container(0);
    entrypoint_execve(b, kInit);
    b.as(kInit, "sh").call("brk", {0}, 0x5576c8219000);
    b.in_container(1).as(kDbInit, "runc:[2:INIT]").call("openat", {kAtFdcwd, 0x1000, 0, 0}, 3).str(1, "/etc/passwd");
    b.in_container(0);
    program(b, kInit);
    b.in_container(1);
    entrypoint_execve(b, kDbInit, -2);
    b.call("exit_group", {1}, 0);
    return write("one-of-two-fails", m, b);
  }

  fs::path dir_;
};

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST_F(ShowSetupTest, SetupBeforeTheEntrypointIsHiddenBehindOneMarker) {
  size_t setup_calls = 0;
  const auto trace = one_container_trace(kInit, &setup_calls);
  check_goldens("setup-hidden", trace);

  const auto table = show(trace, OutputFormat::table).out;
  EXPECT_EQ(count(table, "runc:[1:CHILD]"), 0u) << table;
  EXPECT_EQ(count(table, "runc:[2:INIT]"), 1u) << "only the execve that hands over: " << table;
  const auto lines = lines_of(table);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[1], "\u2026 runtime setup hidden: " + std::to_string(setup_calls) +
                          " calls before the entrypoint's execve (--setup shows them) \u2026");
  EXPECT_NE(lines[2].find("execve"), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find("/bin/sh"), std::string::npos) << lines[2];

  const auto json = show(trace, OutputFormat::json).out;
  EXPECT_EQ(lines_of(json).front(),
            "{\"type\":\"setup\",\"action\":\"hidden\",\"at_ns\":5000010000,\"calls\":" + std::to_string(setup_calls) +
                ",\"init_pid\":4242,\"container\":\"" + testing::test_metadata().containers[0].id + "\"}");
}

TEST_F(ShowSetupTest, SetupOptionAndUnknownInitPidShowEverythingAsBefore) {
  // init_pid 0 (traces written before it was recorded) renders exactly as
  // --setup does on the same events, and --setup shows every call.
  const auto unknown = one_container_trace(0);
  const auto known = one_container_trace(kInit);
  for (auto [format, suffix] : kFormats) {
    const auto before = show(unknown, format);
    const auto all = show_all(known, format);
    EXPECT_EQ(before.out, all.out) << suffix;
    EXPECT_EQ(count(all.out, "runtime setup"), 0u) << all.out;
    EXPECT_EQ(count(all.out, "\"type\":\"setup\""), 0u) << all.out;
    EXPECT_EQ(show(unknown, format, ShowOptions{}).out, show_all(unknown, format).out);
  }
  EXPECT_EQ(count(show_all(known, OutputFormat::table).out, "runc:["), 12u);
}

TEST_F(ShowSetupTest, AnEntrypointThatCannotBeExecutedLeavesTheSetupShown) {
  // "exec: no such file": the init's execve fails, runc reports and exits.
  auto m = one_container(kInit);
  EventBuilder b(m.catalogue);
  size_t calls = 0;
  runc_setup(b, kInit, calls);
  entrypoint_execve(b, kInit, -2);
  const std::string message = "exec failed: exec: \"/bin/sh\": stat /bin/sh: no such file or directory\n";
  b.call("write", {2, 0x6000, message.size()}, static_cast<int64_t>(message.size())).data(1, message);
  b.call("exit_group", {1}, 0);
  const auto trace = write("exec-failed", m, b);
  check_goldens("setup-exec-failed", trace);

  for (auto [format, suffix] : kFormats) {
    const auto shown = show(trace, format).out;
    const auto all = show_all(trace, format).out;
    // Everything, with one note first saying why.
    auto lines = lines_of(shown);
    const auto header_lines = format == OutputFormat::table ? 1u : 0u;
    ASSERT_GT(lines.size(), header_lines) << suffix;
    const std::string note = lines[header_lines];
    EXPECT_TRUE(note.find("never executed the entrypoint") != std::string::npos ||
                note.find("\"reason\":\"no_exec\"") != std::string::npos)
        << note;
    lines.erase(lines.begin() + header_lines);
    EXPECT_EQ(lines, lines_of(all)) << suffix;
  }
}

TEST_F(ShowSetupTest, OnlyASuccessfulExecveOfTheInitHandsOver) {
  auto m = one_container(kInit);
  EventBuilder b(m.catalogue);
  size_t calls = 0;
  runc_setup(b, kInit, calls);
  // A hook (another pid) executing something, and the init's failed tries
  // along PATH, are still the runtime's.
  b.as(kInit + 7, "runc:[2:INIT]");
  b.call("execve", {0x7000, 0x7100, 0x7200}, 0).str(0, "/usr/bin/hook");
  b.as(kInit, "runc:[2:INIT]");
  b.call("execve", {0x7000, 0x7100, 0x7200}, -2).str(0, "/usr/local/bin/app");
  b.call("execve", {0x7000, 0x7100, 0x7200}, -13).str(0, "/usr/bin/app");
  calls += 3;
  // execveat, seen only by its entry (never_returned), hands over.
  b.call("execveat", {3, 0x7300, 0x7100, 0x7200, 0x1000}, 0).str(1, "").state(format::CallState::never_returned);
  program(b, kInit);
  const auto trace = write("execveat", m, b);
  const auto table = show(trace, OutputFormat::table).out;
  EXPECT_NE(table.find("runtime setup hidden: " + std::to_string(calls) + " calls"), std::string::npos) << table;
  EXPECT_EQ(count(table, "/usr/bin/hook"), 0u) << table;
  EXPECT_EQ(count(table, "execveat"), 1u) << table;
  EXPECT_EQ(count(table, "/etc/app.conf"), 2u) << table;
}

TEST_F(ShowSetupTest, EachContainerHidesItsOwnSetupInTraceOrder) {
  auto m = two_containers();
  EventBuilder b(m.catalogue);
  size_t web_calls = 0, db_calls = 0;
  // web's runc, then db's, interleaved call by call with web's.
  b.in_container(0);
  runc_setup(b, kInit, web_calls);
  b.in_container(1);
  runc_setup(b, kDbInit, db_calls);
  b.in_container(0);
  entrypoint_execve(b, kInit);
  b.as(kInit, "sh").call("brk", {0}, 0x5576c8219000);
  b.in_container(1).as(kDbInit, "runc:[2:INIT]").call("prctl", {38, 1, 0, 0, 0}, 0);
  ++db_calls;
  b.in_container(0).as(kInit, "sh").call("getpid", {}, 1);
  b.in_container(1);
  entrypoint_execve(b, kDbInit);
  program(b, kDbInit);
  b.in_container(0);
  program(b, kInit);
  const auto trace = write("two", m, b);
  check_goldens("setup-two-containers", trace);

  const auto table = show(trace, OutputFormat::table).out;
  EXPECT_EQ(count(table, "runc:[1:CHILD]"), 0u) << table;
  const auto web = table.find("runtime setup of web hidden: " + std::to_string(web_calls) + " calls");
  const auto db = table.find("runtime setup of db hidden: " + std::to_string(db_calls) + " calls");
  ASSERT_NE(web, std::string::npos) << table;
  ASSERT_NE(db, std::string::npos) << table;
  // Each marker stands where its container's setup began: web's first.
  EXPECT_LT(web, db);
  EXPECT_LT(db, table.find("/bin/sh"));
}

TEST_F(ShowSetupTest, ASetupNeverHandedOverIsShownInPlaceBesideAnotherContainer) {
  const auto trace = one_of_two_fails();
  check_goldens("setup-one-of-two-fails", trace);
  const auto table = show(trace, OutputFormat::table).out;
  const auto all = show_all(trace, OutputFormat::table).out;
  // db's setup is all there, in trace order with web's program: the output
  // is everything but web's setup, plus the two markers.
  std::vector<std::string> expected;
  for (const auto& line : lines_of(all))
    if (!(line.starts_with("web ") && line.find("runc:[") != std::string::npos && line.find("execve") == std::string::npos))
      expected.push_back(line);
  std::vector<std::string> actual;
  for (const auto& line : lines_of(table))
    if (line.find("runtime setup") == std::string::npos) actual.push_back(line);
  EXPECT_EQ(actual, expected) << table;
  EXPECT_EQ(count(table, "runtime setup of web hidden"), 1u) << table;
  EXPECT_EQ(count(table, "runtime setup of db shown: its init (pid 5252) never executed"), 1u) << table;
}

TEST_F(ShowSetupTest, FiltersApplyToWhatIsShownAndTheMarkerCountsWhatTheyLetThrough) {
  const auto trace = one_container_trace(kInit);
  ShowOptions openat;
  openat.filter.syscalls = {"openat"};
  // The execve is filtered out, yet it still ends the setup: 2 openat hidden.
  check_goldens("setup-hidden-openat", trace, openat);
  const auto table = show(trace, OutputFormat::table, openat).out;
  EXPECT_NE(table.find("runtime setup hidden: 2 calls"), std::string::npos) << table;
  EXPECT_EQ(count(table, "/etc/app.conf"), 1u) << table;
  EXPECT_EQ(count(table, "/proc/self"), 0u) << table;

  ShowOptions failed;
  failed.filter.failed = true;
  const auto only_failed = show(trace, OutputFormat::strace, failed).out;
  // No setup call failed: nothing hidden, no marker.
  EXPECT_EQ(lines_of(only_failed).size(), 1u) << only_failed;
  EXPECT_EQ(count(only_failed, "runtime setup"), 0u);

  ShowOptions child;
  child.filter.pids = {kInit - 2};
  const auto of_child = show(trace, OutputFormat::strace, child).out;
  EXPECT_EQ(of_child, "\u2026 runtime setup hidden: 2 calls before the entrypoint's execve (--setup shows them) \u2026\n");
  child.show_setup = true;
  EXPECT_EQ(count(show(trace, OutputFormat::strace, child).out, "\n"), 2u);

  // A container filtered out leaves no marker.
  auto m = two_containers();
  EventBuilder b(m.catalogue);
  size_t calls = 0;
  b.in_container(1);
  runc_setup(b, kDbInit, calls);
  entrypoint_execve(b, kDbInit);
  b.in_container(0);
  runc_setup(b, kInit, calls);
  entrypoint_execve(b, kInit);
  program(b, kInit);
  const auto two = write("filtered", m, b);
  ShowOptions web;
  web.filter.containers = {"web"};
  const auto web_only = show(two, OutputFormat::strace, web).out;
  EXPECT_EQ(count(web_only, "runtime setup"), 1u) << web_only;
  EXPECT_EQ(count(web_only, "5252"), 0u) << web_only;
}

TEST_F(ShowSetupTest, UntilBeforeTheHandoverStillWaitsForIt) {
  const auto trace = one_container_trace(kInit);
  ShowOptions early;
  early.filter.until = "+50us";  // inside the setup; the handover is 11 calls later
  const auto out = show(trace, OutputFormat::strace, early).out;
  EXPECT_EQ(out, "\u2026 runtime setup hidden: 6 calls before the entrypoint's execve (--setup shows them) \u2026\n");
}

TEST_F(ShowSetupTest, LossesInTheSetupStayVisible) {
  auto m = one_container(kInit);
  EventBuilder b(m.catalogue);
  size_t calls = 0;
  b.loss(0, 120);  // the oldest history overwritten
  runc_setup(b, kInit, calls);
  b.loss(3);
  entrypoint_execve(b, kInit);
  program(b, kInit);
  const auto trace = write("losses", m, b);
  check_goldens("setup-losses", trace);
  const auto lines = lines_of(show(trace, OutputFormat::strace).out);
  ASSERT_GE(lines.size(), 4u);
  EXPECT_EQ(lines[0], "\u2026 120 events overwritten \u2026");
  EXPECT_NE(lines[1].find("runtime setup hidden: 11 calls"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[2], "\u2026 3 events lost \u2026");
  EXPECT_NE(lines[3].find("execve("), std::string::npos) << lines[3];
}

TEST_F(ShowSetupTest, TooMuchSetupToHoldIsShownWithANote) {
  const auto trace = one_container_trace(kInit);
  ShowOptions small;
  small.setup_hold_bytes = 300;  // a few lines
  for (auto [format, suffix] : kFormats) {
    auto lines = lines_of(show(trace, format, small).out);
    const auto all = lines_of(show_all(trace, format).out);
    const size_t first = format == OutputFormat::table ? 1 : 0;
    ASSERT_GT(lines.size(), first);
    EXPECT_TRUE(lines[first].find("too long to hold back until its init (pid 4242)") != std::string::npos ||
                lines[first].find("\"reason\":\"too_long\"") != std::string::npos)
        << lines[first];
    lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(first));
    EXPECT_EQ(lines, all) << suffix;
  }
}

TEST_F(ShowSetupTest, NothingIsHiddenWhenExecveWasNotRecorded) {
  auto m = one_container(kInit);
  m.capture.syscall_filters = {"openat", "write"};
  EventBuilder b(m.catalogue);
  b.as(kInit, "runc:[2:INIT]");
  b.call("openat", {kAtFdcwd, 0x1000, 0, 0}, 3).str(1, "/proc/self/mountinfo");
  b.as(kInit, "sh");
  b.call("openat", {kAtFdcwd, 0x5000, 0, 0}, -2).str(1, "/etc/app.conf");
  const auto trace = write("filtered-capture", m, b);
  for (auto [format, suffix] : kFormats)
    EXPECT_EQ(show(trace, format).out, show_all(trace, format).out) << suffix;
}

TEST_F(ShowSetupTest, ManyFramesManySetups) {
  // Held text spans frames (batches) and the hot loop comes back once
  // every container is past its handover.
  auto m = one_container(kInit);
  format::WriterOptions options;
  options.max_events_per_frame = 3;
  const auto path = dir_ / "frames.tl";
  auto writer = format::TraceWriter::create(path, m, options);
  ASSERT_TRUE(writer.ok());
  EventBuilder b(m.catalogue);
  size_t calls = 0;
  runc_setup(b, kInit, calls);
  entrypoint_execve(b, kInit);
  for (int i = 0; i < 20; ++i) program(b, kInit);
  for (const auto& e : b.events()) ASSERT_TRUE(writer->append(e.view()).ok());
  ASSERT_TRUE(writer->finish().ok());
  const auto table = show(path, OutputFormat::table).out;
  EXPECT_EQ(lines_of(table).size(), 1 + 1 + 1 + 20 * 4u) << table;
  EXPECT_NE(table.find("hidden: 11 calls"), std::string::npos);
}

// The tl-show binary: --setup on the command line.
TEST_F(ShowSetupTest, BinaryTakesTheSetupOption) {
  const fs::path tl_show = testing::binary_dir() / "tools" / "tl-show";
  if (!fs::exists(tl_show)) GTEST_SKIP() << "no tl-show binary at " << tl_show;
  const auto trace = one_container_trace(kInit);
  for (const std::string option : {"", "--setup"}) {
    const auto out = dir_ / "out.txt";
    const std::string cmd = tl_show.string() + " -f strace " + option + " " + trace.string() + " >" + out.string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    const auto expected = option.empty() ? show(trace, OutputFormat::strace) : show_all(trace, OutputFormat::strace);
    EXPECT_EQ(testing::read_file(out), expected.out) << option;
  }
}

// Nothing to hide, nothing paid: without an init pid, or without execve in
// what was recorded, there is no hider and run_show takes its plain loop.
TEST(SetupHiderCreate, OnlyWhenAHandoverCanBeSeen) {
  auto m = one_container(0);
  const Decoder decoder(m);
  auto renderer = make_renderer(RenderOptions{}, decoder, m);
  std::string out;
  EXPECT_EQ(SetupHider::create(m, *renderer, out), nullptr);
  m.containers[0].init_pid = kInit;
  EXPECT_NE(SetupHider::create(m, *renderer, out), nullptr);
  m.capture.syscall_filters = {"openat"};
  EXPECT_EQ(SetupHider::create(m, *renderer, out), nullptr);
  m.capture.syscall_filters = {"openat", "execveat"};
  EXPECT_NE(SetupHider::create(m, *renderer, out), nullptr);
  m.containers.clear();
  EXPECT_EQ(SetupHider::create(m, *renderer, out), nullptr);
}

TEST(SetupMarkerText, EveryKindInEveryFormat) {
  auto m = testing::test_metadata();
  const Decoder decoder(m);
  std::string out;
  append_setup_line(out, SetupMarker{SetupMarker::Kind::hidden, 0, 7, 1, 0}, m, false);
  EXPECT_EQ(out, "\u2026 runtime setup hidden: 1 call before the entrypoint's execve (--setup shows them) \u2026\n");
  out.clear();
  append_setup_line(out, SetupMarker{SetupMarker::Kind::hidden, 0, 7, 2, 0}, m, true);
  EXPECT_EQ(out, "\x1b[33m\u2026 runtime setup hidden: 2 calls before the entrypoint's execve (--setup shows them) "
                 "\u2026\x1b[0m\n");
  auto two = two_containers();
  two.containers[1].name = "";
  out.clear();
  append_setup_line(out, SetupMarker{SetupMarker::Kind::shown_no_exec, 1, 5252, 9, 0}, two, false);
  EXPECT_EQ(out, "\u2026 runtime setup of d0b5e1c7a9f3 shown: its init (pid 5252) never executed the entrypoint in "
                 "this trace \u2026\n");
  RenderOptions json;
  json.format = OutputFormat::json;
  out.clear();
  make_renderer(json, decoder, m)->setup(out, SetupMarker{SetupMarker::Kind::shown_too_long, 0, 7, 3, 99});
  EXPECT_EQ(out,
            "{\"type\":\"setup\",\"action\":\"shown\",\"reason\":\"too_long\",\"at_ns\":99,\"calls\":3,\"init_pid\":7,"
            "\"container\":\"" + m.containers[0].id + "\"}\n");
}

}  // namespace
}  // namespace traceloop::tools
