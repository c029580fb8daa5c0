// run -p: attaching to processes already running, their threads and the
// processes they fork afterwards; nothing of any other process; a clean
// detach on SIGINT that leaves the processes running, or the end of the
// recording when every traced process has exited.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "tests/recorder/recorder_test_util.h"
#include "tools/lib/decoder/show.h"
#include "tests/support/child_process.h"

namespace traceloop::recorder {
namespace {

using namespace traceloop::recorder::testing;
using namespace std::chrono_literals;
using traceloop::testing::ChildProcess;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Waits until `log` holds `text` (a helper says it is ready).
bool wait_for_text(const std::filesystem::path& log, const std::string& text) {
  for (int i = 0; i < 2000; ++i) {
    if (read_file(log).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

// The state letter of /proc/PID/stat: R, S, T (stopped), Z...
char process_state(pid_t pid) {
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() ? '?' : stat[paren + 2];
}

// Waits for `child` to exit by itself; its wait status, -1 after `limit`.
int wait_exit(ChildProcess& child, std::chrono::milliseconds limit) {
  for (auto waited = 0ms; waited < limit; waited += 10ms) {
    if (!child.running()) return child.exit_status();
    std::this_thread::sleep_for(10ms);
  }
  return -1;
}

ChildProcess start_loop(const TempDir& dir, const std::string& tag) {
  const auto log = dir.path() / (tag + ".log");
  auto child = ChildProcess::start({helper_binary("tl_attach_loop").string(), tag}, log);
  EXPECT_TRUE(child.ok()) << child.error().message;
  EXPECT_TRUE(wait_for_text(log, "ready")) << read_file(log);
  return std::move(child).value();
}

ChildProcess start_recorder(const TempDir& dir, const std::vector<std::string>& options) {
  std::vector<std::string> argv{recorder_binary().string(), "run"};
  argv.insert(argv.end(), options.begin(), options.end());
  auto rec = ChildProcess::start(argv, dir.path() / "recorder.log");
  EXPECT_TRUE(rec.ok()) << rec.error().message;
  return std::move(rec).value();
}

// Paths of the openat probes of one process id (tl_attach_loop's).
std::string probe_path(const format::Event& e) { return capture_string(e, 1); }

TEST(Attach, RecordsThreadsAndLaterChildrenUntilSigint) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  ChildProcess traced = start_loop(dir, "traced");
  ChildProcess other = start_loop(dir, "other");
  const auto out = dir.path() / "attach.tl";
  ChildProcess recorder = start_recorder(dir, {"-o", out.string(), "-p", std::to_string(traced.pid())});
  // as strace says it; the worker and the reader besides the main thread
  ASSERT_TRUE(wait_for_text(dir.path() / "recorder.log",
                            "traceloop-record: Process " + std::to_string(traced.pid()) + " attached with 3 threads"))
      << read_file(dir.path() / "recorder.log");
  std::this_thread::sleep_for(1000ms);
  // the read its third thread was blocked in before the attach returns now
  ASSERT_EQ(::kill(traced.pid(), SIGUSR1), 0);
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(::kill(recorder.pid(), SIGINT), 0);
  const int status = wait_exit(recorder, 20s);
  ASSERT_EQ(status, 0) << read_file(dir.path() / "recorder.log");
  EXPECT_NE(read_file(dir.path() / "recorder.log")
                .find("traceloop-record: Process " + std::to_string(traced.pid()) + " detached"),
            std::string::npos);

  // The process runs on, neither stopped nor killed.
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(traced.running());
  const char state = process_state(traced.pid());
  EXPECT_TRUE(state == 'S' || state == 'R') << state;

  auto loaded = format::load_trace(out);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  const auto& t = *loaded;
  EXPECT_EQ(t.metadata.capture.mode, "attach");
  ASSERT_EQ(t.metadata.command.size(), 1u);
  EXPECT_EQ(t.metadata.command[0], helper_binary("tl_attach_loop").string() + " traced");

  const uint32_t pid = static_cast<uint32_t>(traced.pid());
  // The fds it held at the attach are in the header (its pipe among them),
  // so -y names the pipe its resumed read reads, as strace -y -p does.
  const format::FdSnapshot* held = nullptr;
  for (const auto& snapshot : t.metadata.fd_snapshots)
    if (snapshot.pid == pid) held = &snapshot;
  ASSERT_NE(held, nullptr) << "no fd snapshot of the attached process";
  EXPECT_TRUE(std::any_of(held->fds.begin(), held->fds.end(),
                          [](const format::OpenFd& f) { return f.target.starts_with("pipe:["); }));
  tools::ShowOptions show;
  show.path = out.string();
  show.render.format = tools::OutputFormat::strace;
  show.fd_paths = tools::FdPaths::paths;
  std::ostringstream shown, show_err;
  EXPECT_EQ(tools::run_show(show, shown, show_err), 0) << show_err.str();
  EXPECT_TRUE(std::regex_search(shown.str(), std::regex(R"(read\(\d+<pipe:\[\d+\]>, "wake\\n")")))
      << shown.str().substr(0, 3000);

  int main_calls = 0, thread_calls = 0, child_calls = 0;
  std::set<uint32_t> children;
  int resumed_reads = 0;
  for (const auto& e : t.events) {
    auto v = e.view();
    if (name_of(t, e) == "read" && v.pid == pid && v.state == format::CallState::returned && v.ret == 5) {
      // entered before the attach: shown from the attach on, its data read at exit
      EXPECT_EQ(capture_string(v, 1), "wake\n");
      EXPECT_EQ(v.args[2], 64u);
      ++resumed_reads;
    }
    EXPECT_NE(v.pid, static_cast<uint32_t>(other.pid())) << "a process never attached to";
    EXPECT_NE(v.pid, static_cast<uint32_t>(::getpid())) << "the test itself";
    if (name_of(t, e) != "openat") continue;
    const std::string path = probe_path(v);
    EXPECT_EQ(path.find("-other"), std::string::npos) << path;
    if (path == "/proc/self/tl-attach-main-traced") {
      EXPECT_EQ(v.pid, pid);
      EXPECT_EQ(v.tid, pid);
      ++main_calls;
    } else if (path == "/proc/self/tl-attach-thread-traced") {
      EXPECT_EQ(v.pid, pid);
      EXPECT_NE(v.tid, pid);
      ++thread_calls;
    } else if (path == "/proc/self/tl-attach-child-traced") {
      EXPECT_NE(v.pid, pid);
      children.insert(v.pid);
      ++child_calls;
    }
  }
  // 1.5 s of 20 ms rounds, a child every fifth
  EXPECT_GT(main_calls, 20) << dump(t);
  EXPECT_GT(thread_calls, 20) << dump(t);
  EXPECT_GE(child_calls, 3) << dump(t);
  EXPECT_EQ(resumed_reads, 1) << dump(t);
  EXPECT_EQ(children.size(), static_cast<size_t>(child_calls));
  // the children are in the process table, as the traced process's
  for (const uint32_t c : children) {
    bool found = false;
    for (const auto& p : t.processes)
      if (p.pid == c) {
        found = true;
        EXPECT_EQ(p.ppid, pid);
      }
    EXPECT_TRUE(found) << c;
  }
}

TEST(Attach, EndsWhenEveryTracedProcessHasExited) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  const auto log = dir.path() / "sh.log";
  // busybox sh: its loop, then a child (sleep) forked after the attach.
  auto sh = ChildProcess::start(
      {"/bin/busybox", "sh", "-c", "echo ready; i=0; while [ $i -lt 40 ]; do i=$((i+1)); /bin/sleep 0.05; done; exit 3"},
      log);
  ASSERT_TRUE(sh.ok()) << sh.error().message;
  ASSERT_TRUE(wait_for_text(log, "ready"));
  const auto out = dir.path() / "sh.tl";
  ChildProcess recorder = start_recorder(dir, {"-o", out.string(), "--attach", std::to_string(sh->pid())});
  const int status = wait_exit(recorder, 20s);
  ASSERT_EQ(status, 0) << read_file(dir.path() / "recorder.log");
  auto loaded = format::load_trace(out);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  const auto& t = *loaded;
  const uint32_t pid = static_cast<uint32_t>(sh->pid());
  bool exit_seen = false, child_exec = false;
  for (const auto& e : t.events) {
    auto v = e.view();
    if (name_of(t, e) == "exit_group" && v.pid == pid) {
      EXPECT_EQ(v.args[0], 3u);
      exit_seen = true;
    }
    if (name_of(t, e) == "execve" && v.pid != pid) child_exec = true;
  }
  EXPECT_TRUE(exit_seen) << dump(t);
  EXPECT_TRUE(child_exec) << dump(t);
}

TEST(Attach, RefusesAMissingProcessOrACommandBesides) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto missing = run_process({recorder_binary().string(), "run", "-o", (dir.path() / "x.tl").string(), "-p",
                              "1,2147483646"});
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("no such process: 2147483646"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "x.tl"));

  auto both = run_process({recorder_binary().string(), "run", "-p", "1", "--", "/bin/true"});
  EXPECT_EQ(both.status, 2);
  EXPECT_NE(both.err.find("excludes"), std::string::npos) << both.err;

  auto neither = run_process({recorder_binary().string(), "run"});
  EXPECT_EQ(neither.status, 2);
  EXPECT_NE(neither.err.find("-p PID"), std::string::npos) << neither.err;
}

}  // namespace
}  // namespace traceloop::recorder
