// The daemon end to end with the container engines users run: a real
// dockerd (Debian's docker.io) and a real containerd driven by ctr, each
// started by its test suite in a directory of its own
// (tests/support/container_engines.h), as root with BPF. Each test runs its
// own daemon in this process, pointed at the engine's directory
// (runtime_prefix), and reads the results back as a user would: through
// `traceloop-record list` and `show`, and from the saved trace.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "format/catalogue.h"
#include "format/trace_reader.h"
#include "recorder/daemon/daemon.h"
#include "tests/recorder/daemon/daemon_test_env.h"
#include "tests/recorder/daemon/trace_checks.h"
#include "tests/support/container_engines.h"
#include "tests/support/temp_dir.h"

namespace traceloop::daemon {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::CommandResult;
using testing::ContainerdEngine;
using testing::DockerEngine;
using testing::run_command;
using test_env::bpf_required;
using test_env::source_dir;
using test_env::capture_text;
using test_env::has_write;
using test_env::name_of;
using test_env::wait_for;

// The multiplication demo: bc's 42 goes to one file, cat opens another
// (each $RANDOM differs), so the container fails.
constexpr const char* kDemo = "RANDOM=output ; echo \"3*7*2\" | bc > /tmp/file-$RANDOM ; cat /tmp/file-$RANDOM";

bool has_label(const format::ContainerInfo& info, const std::string& key, const std::string& value) {
  for (const auto& [k, v] : info.labels)
    if (k == key && v == value) return true;
  return false;
}

// What the demo's history must hold: bc's write of 42, the file the shell
// created for it, cat's failing openat (ENOENT) and the exit_group that
// never returned.
void expect_multiplication_demo(const format::LoadedTrace& trace) {
  bool bc_wrote_42 = false, created_file = false, failed_open = false, exit_group_x = false;
  for (const auto& owned : trace.events) {
    format::Event e = owned.view();
    const std::string name = name_of(trace.metadata, e);
    if (name == "write" && e.comm == "bc" && capture_text(e, 1).rfind("42", 0) == 0) bc_wrote_42 = true;
    if (name == "openat" && capture_text(e, 1).rfind("/tmp/file-", 0) == 0) {
      if (e.ret >= 0 && (e.args[2] & 0100) != 0) created_file = true;  // O_CREAT: the shell's redirection
      if (e.comm == "cat" && e.ret == -2) failed_open = true;
    }
    if (name == "exit_group" && e.state == format::CallState::never_returned) exit_group_x = true;
  }
  EXPECT_TRUE(bc_wrote_42) << "bc's write of 42";
  EXPECT_TRUE(created_file) << "the shell's openat of /tmp/file-...";
  EXPECT_TRUE(failed_open) << "cat's openat failing with ENOENT";
  EXPECT_TRUE(exit_group_x) << "exit_group";
}

// `traceloop-record list` as printed: one column -> value map per row. The
// columns are aligned under the header, and a value may be empty, so values
// are cut at the header's word positions.
std::vector<std::map<std::string, std::string>> parse_list_table(const std::string& text) {
  std::istringstream in(text);
  std::string header;
  std::getline(in, header);
  std::vector<std::pair<size_t, std::string>> columns;
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] != ' ' && (i == 0 || header[i - 1] == ' '))
      columns.emplace_back(i, header.substr(i, header.find(' ', i) - i));
  auto trim = [](std::string s) {
    s.erase(0, s.find_first_not_of(' '));
    s.erase(s.find_last_not_of(' ') + 1);
    return s;
  };
  std::vector<std::map<std::string, std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::map<std::string, std::string> row;
    for (size_t c = 0; c < columns.size(); ++c) {
      const size_t from = columns[c].first;
      const size_t to = c + 1 < columns.size() ? columns[c + 1].first : std::string::npos;
      row[columns[c].second] = from < line.size() ? trim(line.substr(from, to == std::string::npos ? to : to - from)) : "";
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// One daemon per test, in this process, in its own directory, watching the
// runtime state of the engine under `runtime_prefix`.
class EngineDaemonTest : public ::testing::Test {
 protected:
  // Whether this process may run engines and the daemon; otherwise the
  // test skips (fails when CI requires BPF).
  static bool privileged() { return ::geteuid() == 0; }

  void start_daemon(const fs::path& runtime_prefix) {
    options_.dir = dir_ / "state";
    options_.runtime_prefix = runtime_prefix;
    options_.identify_timeout = 5s;
    auto d = Daemon::start(options_);
    if (!d.ok()) {
      refusal_ = d.error().message;
      return;
    }
    daemon_ = std::move(d.value());
    thread_ = std::thread([this] {
      auto ran = daemon_->run(false);
      if (!ran.ok()) run_error_ = ran.error().message;
    });
  }
  void TearDown() override {
    if (!daemon_) return;
    daemon_->request_stop();
    if (thread_.joinable()) thread_.join();
    EXPECT_EQ(run_error_, "") << "the daemon's run ended with an error";
  }
  fs::path socket() const { return options_.dir / "control.sock"; }
  fs::path file_of(const std::string& id) const { return options_.dir / (id + ".tl"); }
  // traceloop-record SUBCOMMAND --socket S ARGS...
  CommandResult cli(const std::string& subcommand, const std::vector<std::string>& args = {}) {
    std::vector<std::string> argv = {TL_DAEMON_CLI, subcommand, "--socket", socket().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, 30s);
  }
  std::optional<std::map<std::string, std::string>> listed(const std::string& id) {
    const auto list = cli("list");
    EXPECT_EQ(list.status, 0) << list.output;
    for (auto& row : parse_list_table(list.output))
      if (row["CONTAINERID"] == id) return row;
    ADD_FAILURE() << "no row for " << id << " in\n" << list.output;
    return std::nullopt;
  }
  std::string unique(const std::string& stem) const { return stem + "-" + std::to_string(::getpid()); }

  testing::TempDir dir_;
  DaemonOptions options_;
  std::unique_ptr<Daemon> daemon_;
  std::thread thread_;
  std::string run_error_;  // written by thread_, read after it is joined
  std::string refusal_;
};

// The daemon or the test ends here when the kernel refuses BPF (a failure
// when TRACELOOP_REQUIRE_BPF is set).
#define START_DAEMON(prefix)                                          \
  do {                                                                \
    start_daemon(prefix);                                             \
    if (!daemon_) {                                                   \
      if (bpf_required()) FAIL() << refusal_;                         \
      GTEST_SKIP() << "daemon could not start (BPF?): " << refusal_;  \
    }                                                                 \
  } while (0)

// An engine that cannot start is a failure, with its log: the engines are
// installed wherever these tests run (scripts/setup.sh).
#define REQUIRE_ENGINE(engine, error)                                                  \
  do {                                                                                 \
    if (!privileged()) {                                                               \
      if (bpf_required()) FAIL() << "root is required";                                \
      GTEST_SKIP() << "container engines need root";                                   \
    }                                                                                  \
    ASSERT_TRUE(engine) << error;                                                      \
  } while (0)

template <typename Engine>
void report_times(const char* what, const Engine& engine) {
  const auto& t = engine.times();
  std::cout << "[engine] " << what << ": answered after " << t.answered.count() << " ms, test image ready after "
            << t.image.count() << " ms more, stopped and cleaned in " << t.stopped.count() << " ms\n";
}

// One engine for a whole suite: started before its first test, stopped and
// checked for leftovers after its last.
template <typename Engine, const char* kName>
class EngineSuite : public EngineDaemonTest {
 protected:
  static void SetUpTestSuite() {
    if (!privileged()) return;
    auto started = Engine::start(source_dir());
    if (started.ok())
      engine_ = std::move(started.value());
    else
      error_ = std::string(kName) + " could not be used: " + started.error().message;
  }
  static void TearDownTestSuite() {
    if (!engine_) return;
    auto stopped = engine_->stop();
    report_times(kName, *engine_);
    engine_.reset();
    if (!stopped.ok()) ADD_FAILURE() << stopped.error().message;
  }
  void SetUp() override { REQUIRE_ENGINE(engine_, error_); }

  static inline std::unique_ptr<Engine> engine_;
  static inline std::string error_;
};

// ---- Docker ----

constexpr char kDockerd[] = "dockerd";
using DockerEngineTest = EngineSuite<DockerEngine, kDockerd>;

TEST_F(DockerEngineTest, MultiplicationDemoIsShownByTheShortIdAndListedByName) {
  START_DAEMON(engine_->root());
  auto run = engine_->run({"--name", "my-web-1", "--label", "app=demo", DockerEngine::kImage, "sh", "-c", kDemo});
  EXPECT_EQ(run.command.status, 1) << "cat fails: the file name changed between the two $RANDOM\n"
                                   << run.command.output;
  ASSERT_EQ(run.id.size(), 64u) << run.command.output;
  const std::string& id = run.id;
  ASSERT_TRUE(wait_for([&] { return fs::exists(file_of(id)); })) << "no " << file_of(id);

  // `show` with the 12 characters `docker ps` prints.
  const auto show = cli("show", {id.substr(0, 12)});
  EXPECT_EQ(show.status, 0) << show.output;
  EXPECT_NE(show.output.find("\"42"), std::string::npos) << "bc's write of 42";
  EXPECT_NE(show.output.find("ENOENT"), std::string::npos);
  EXPECT_NE(show.output.find("exit_group"), std::string::npos);
  bool cat_failed = false;
  std::istringstream lines(show.output);
  for (std::string line; std::getline(lines, line);)
    if (line.find("cat") != std::string::npos && line.find("openat") != std::string::npos &&
        line.find("/tmp/file-") != std::string::npos && line.find("ENOENT") != std::string::npos)
      cat_failed = true;
  EXPECT_TRUE(cat_failed) << "cat's openat of /tmp/file-... failing with ENOENT";
  if (HasFailure()) std::cerr << show.output;
  // tl-show's filters, strace's spellings: the failed file calls only.
  const auto failed = cli("show", {id.substr(0, 12), "-f", "strace", "-e", "trace=%file", "-Z"});
  EXPECT_EQ(failed.status, 0) << failed.output;
  std::istringstream failed_lines(failed.output);
  size_t failed_count = 0;
  for (std::string line; std::getline(failed_lines, line);) {
    if (line.find(" = ") == std::string::npos) continue;  // a marker line (runtime setup hidden)
    EXPECT_NE(line.find(" = -1 E"), std::string::npos) << line;
    ++failed_count;
  }
  EXPECT_GT(failed_count, 0u) << failed.output;
  EXPECT_NE(failed.output.find("/tmp/file-"), std::string::npos) << failed.output;

  auto trace = format::load_trace(file_of(id));
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  expect_multiplication_demo(*trace);
  ASSERT_EQ(trace->metadata.containers.size(), 1u);
  const auto& info = trace->metadata.containers[0];
  EXPECT_EQ(info.id, id);
  EXPECT_EQ(info.runtime, "docker");
  EXPECT_NE(info.cgroup_path.find(id), std::string::npos) << info.cgroup_path;
  // Docker's own record of the container (config.v2.json): its name, image, labels.
  EXPECT_EQ(info.name, "my-web-1");
  EXPECT_EQ(info.image, DockerEngine::kImage);
  EXPECT_TRUE(has_label(info, "app", "demo"));

  if (auto row = listed(id)) {
    EXPECT_EQ((*row)["STATE"], "exited");
    EXPECT_EQ((*row)["FILE"], file_of(id).string());
    EXPECT_EQ((*row)["CONTAINER"], "my-web-1");  // Docker's name, from config.v2.json
  }
}

TEST_F(DockerEngineTest, AContainerRemovedAtItsExitKeepsItsHistory) {
  START_DAEMON(engine_->root());
  const std::string marker = unique("removed-marker");
  auto run = engine_->run({"--rm", "--name", unique("tl-rm"), DockerEngine::kImage, "sh", "-c", "echo " + marker});
  ASSERT_EQ(run.command.status, 0) << run.command.output;
  ASSERT_EQ(run.id.size(), 64u) << run.command.output;
  // `docker run --rm` returns once the container is removed.
  const auto left = engine_->docker({"ps", "--all", "--quiet", "--no-trunc", "--filter", "id=" + run.id});
  EXPECT_EQ(left.output, "") << "the container was not removed";
  EXPECT_FALSE(fs::exists(engine_->root() / "run/docker/runtime-runc/moby" / run.id));

  ASSERT_TRUE(wait_for([&] { return fs::exists(file_of(run.id)); })) << "no " << file_of(run.id);
  auto trace = format::load_trace(file_of(run.id));
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  EXPECT_TRUE(has_write(*trace, marker));
  ASSERT_EQ(trace->metadata.containers.size(), 1u);
  EXPECT_EQ(trace->metadata.containers[0].runtime, "docker");
}

// The crash a user most wants recorded: an entrypoint that is missing. The
// container lives milliseconds (runc's state may be gone before the daemon
// reads it), yet a daemon that records only this name keeps its history,
// named from what Docker keeps of the stopped container.
TEST_F(DockerEngineTest, AContainerWhoseEntrypointIsMissingIsRecordedUnderItsName) {
  const std::string name = unique("tl-missing");
  options_.selection.containers = {name};
  START_DAEMON(engine_->root());
  auto run = engine_->run({"--name", name, DockerEngine::kImage, "/no-such-program"});
  EXPECT_NE(run.command.status, 0) << run.command.output;
  ASSERT_EQ(run.id.size(), 64u) << run.command.output;
  ASSERT_TRUE(wait_for([&] { return fs::exists(file_of(run.id)); })) << "no " << file_of(run.id);
  auto trace = format::load_trace(file_of(run.id));
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  EXPECT_FALSE(trace->events.empty());
  ASSERT_EQ(trace->metadata.containers.size(), 1u);
  const auto& info = trace->metadata.containers[0];
  EXPECT_EQ(info.runtime, "docker");
  EXPECT_EQ(info.name, name);
  EXPECT_EQ(info.image, DockerEngine::kImage);
  (void)engine_->docker({"rm", "--force", name});
}

// The original tool's `ig traceloop -c NAME` workflow, without a daemon:
// `watch -c test-traceloop` started first, then `docker run --rm --name
// test-traceloop ... ls`, then Ctrl-C prints the table of that container.
TEST_F(DockerEngineTest, WatchRecordsAContainerByItsDockerNameAndPrintsItOnInterrupt) {
  const fs::path log = dir_ / "watch.log";
  const std::string name = unique("test-traceloop");
  auto watch = testing::ChildProcess::start(
      {TL_DAEMON_CLI, "watch", "--host-root", engine_->root().string(), "-c", name}, log);
  ASSERT_TRUE(watch.ok()) << watch.error().message;
  auto text = [&] {
    std::ifstream in(log);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  if (!wait_for([&] { return text().find("Ctrl-C") != std::string::npos || !watch->running(); })) {
    FAIL() << "watch did not start: " << text();
  }
  if (!watch->running()) {
    if (!bpf_required()) GTEST_SKIP() << text();
    FAIL() << "watch ended: " << text();
  }
  // Another container at the same time is left out.
  auto other = engine_->run({"--rm", "--name", unique("not-watched"), DockerEngine::kImage, "sh", "-c",
                             "echo not-this-one"});
  EXPECT_EQ(other.command.status, 0) << other.command.output;
  auto run = engine_->run({"--rm", "--name", name, DockerEngine::kImage, "ls", "/bin"});
  ASSERT_EQ(run.command.status, 0) << run.command.output;
  ASSERT_EQ(run.id.size(), 64u);
  ::kill(watch->pid(), SIGINT);
  ASSERT_TRUE(wait_for([&] { return !watch->running(); })) << text();
  const int status = watch->exit_status();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << testing::describe_wait_status(status) << "\n" << text();
  const std::string out = text();
  EXPECT_NE(out.find("CPU"), std::string::npos) << "the table's header\n" << out.substr(0, 2000);
  EXPECT_NE(out.find("getdents64"), std::string::npos) << "ls read /bin";
  EXPECT_NE(out.find("busybox"), std::string::npos) << "ls printed /bin's entries";
  EXPECT_EQ(out.find("not-this-one"), std::string::npos) << "the other container was recorded";
}

// ---- containerd ----

constexpr char kContainerd[] = "containerd";

class ContainerdEngineTest : public EngineSuite<ContainerdEngine, kContainerd> {
 protected:
  // Runs the demo as container `id` of namespace `ns` (labelled
  // app=ctrdemo) and checks the history the daemon saved.
  void run_demo_and_check(const std::string& ns, const std::string& id) {
    auto run = engine_->run(ns, id, {{"app", "ctrdemo"}}, {"sh", "-c", kDemo});
    EXPECT_EQ(run.status, 1) << run.output;
    ASSERT_TRUE(wait_for([&] { return fs::exists(file_of(id)); })) << "no " << file_of(id);
    auto trace = format::load_trace(file_of(id));
    ASSERT_TRUE(trace.ok()) << trace.error().message;
    expect_multiplication_demo(*trace);
    ASSERT_EQ(trace->metadata.containers.size(), 1u);
    const auto& info = trace->metadata.containers[0];
    EXPECT_EQ(info.id, id);
    EXPECT_EQ(info.runtime, "containerd");
    EXPECT_EQ(info.cgroup_path, "/" + ns + "/" + id);
    // containerd's own record (its metadata store): namespace, image, labels.
    EXPECT_EQ(info.runtime_namespace, ns);
    EXPECT_EQ(info.image, ContainerdEngine::kImage);
    EXPECT_TRUE(has_label(info, "app", "ctrdemo"));
    if (auto row = listed(id)) {
      EXPECT_EQ((*row)["STATE"], "exited");
      EXPECT_EQ((*row)["NAMESPACE"], ns);
      EXPECT_EQ((*row)["CONTAINER"], id);  // ctr's id is the only name
    }
    const auto show = cli("show", {id});
    EXPECT_EQ(show.status, 0) << show.output;
    EXPECT_NE(show.output.find("\"42"), std::string::npos) << "bc's write of 42\n" << show.output;
    EXPECT_NE(show.output.find("ENOENT"), std::string::npos);
  }
};

TEST_F(ContainerdEngineTest, MultiplicationDemoInANamespaceInUseBeforeTheDaemonStarted) {
  const std::string ns = unique("tl-early");
  ASSERT_TRUE(engine_->import_image(ns).ok());
  // A first container makes the namespace's runc directory, as on a host
  // where the namespace was in use before the daemon came.
  auto first = engine_->run(ns, unique("first"), {}, {"true"});
  ASSERT_EQ(first.status, 0) << first.output;
  ASSERT_TRUE(fs::is_directory(engine_->runc_root(ns)));
  START_DAEMON(engine_->root());
  run_demo_and_check(ns, unique("ctr-demo"));
}

TEST_F(ContainerdEngineTest, MultiplicationDemoInANamespaceMadeAfterTheDaemonStarted) {
  START_DAEMON(engine_->root());
  const std::string ns = unique("tl-late");
  ASSERT_FALSE(fs::exists(engine_->runc_root(ns)));
  auto imported = engine_->import_image(ns);
  ASSERT_TRUE(imported.ok()) << imported.error().message;
  run_demo_and_check(ns, unique("ctr-late"));
}

}  // namespace
}  // namespace traceloop::daemon
