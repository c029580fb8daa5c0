// Integration tests: signal deliveries and thread ends of real programs under
// traceloop-record run, as the trace holds them and as tl-show's strace format
// writes them, checked against the kernel's own account (the wait status run
// reports) and against strace -f on the same program.
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "recorder/run_command.h"
#include "tests/recorder/recorder_test_util.h"
#include "tools/lib/decoder/show.h"

namespace traceloop::recorder {
namespace {

using namespace traceloop::recorder::testing;
using format::TaskNotice;

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// tl-show --format strace of a trace.
std::string strace_text(const std::filesystem::path& trace) {
  tools::ShowOptions options;
  options.path = trace.string();
  options.render.format = tools::OutputFormat::strace;
  std::ostringstream out, err;
  EXPECT_EQ(tools::run_show(options, out, err), 0) << err.str();
  return out.str();
}

std::vector<const format::OwnedTaskNotice*> notices_of(const format::LoadedTrace& t, TaskNotice::Kind kind) {
  std::vector<const format::OwnedTaskNotice*> out;
  for (const auto& [at, n] : t.notices)
    if (n.fields.kind == kind) out.push_back(&n);
  return out;
}

// The kernel's core_pattern writes a file in the working directory: a core
// is dumped exactly when RLIMIT_CORE allows it.
bool cores_are_plain_files() {
  std::ifstream f("/proc/sys/kernel/core_pattern");
  std::string pattern;
  std::getline(f, pattern);
  return !pattern.empty() && pattern[0] != '|' && pattern.find('/') == std::string::npos;
}

// Runs the recorder from `dir` (where a core file would go).
// `env`: assignments for the recorder's environment.
Recording record_in(const TempDir& dir, const std::string& name, const std::vector<std::string>& command,
                    const std::string& env = {}) {
  std::string cmd = "cd " + shell_quote(dir.path().string()) + " && exec env " + env + " " +
                    shell_quote(recorder_binary().string()) + " run -o " + shell_quote((dir.path() / name).string()) +
                    " --";
  for (const auto& c : command) cmd += " " + shell_quote(c);
  Recording rec;
  rec.result = run_process({"/bin/sh", "-c", cmd});
  auto loaded = format::load_trace(dir.path() / name);
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.error().message) << rec.result.err;
  if (loaded.ok()) rec.trace = std::move(loaded).value();
  return rec;
}

void expect_segfault(bool core, const std::string& recorder_env = {}) {
  TempDir dir;
  auto rec = record_in(dir, "segv.tl", {helper_binary("tl_signals").string(), "segv", core ? "1073741824" : "0"},
                       recorder_env);
  EXPECT_EQ(rec.result.status, 128 + SIGSEGV) << rec.result.err;
  const auto signals = notices_of(rec.trace, TaskNotice::Kind::signal);
  ASSERT_EQ(signals.size(), 1u) << dump(rec.trace);
  const TaskNotice s = signals[0]->view();
  EXPECT_EQ(s.signo, SIGSEGV);
  ASSERT_GE(s.siginfo.size(), 24u);
  siginfo_t info{};
  std::memcpy(&info, s.siginfo.data(), std::min(sizeof(info), s.siginfo.size()));
  EXPECT_EQ(info.si_signo, SIGSEGV);
  EXPECT_EQ(info.si_code, SEGV_MAPERR);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(info.si_addr), 0x10u);
  const auto exits = notices_of(rec.trace, TaskNotice::Kind::exit);
  ASSERT_EQ(exits.size(), 1u) << dump(rec.trace);
  const TaskNotice e = exits[0]->view();
  EXPECT_EQ(e.tid, s.tid);
  EXPECT_TRUE(e.group_dead);
  EXPECT_TRUE(WIFSIGNALED(e.exit_status));
  EXPECT_EQ(WTERMSIG(e.exit_status), SIGSEGV);
  EXPECT_EQ(WCOREDUMP(e.exit_status) != 0, core);
  // the process table holds the kernel's status too
  bool found = false;
  for (const auto& p : rec.trace.processes)
    if (p.pid == e.pid) {
      found = true;
      EXPECT_EQ(p.exit_status, e.exit_status);
    }
  EXPECT_TRUE(found);

  const std::string text = strace_text(dir.path() / "segv.tl");
  const std::string tid = std::to_string(s.tid);
  // the program's last lines: its fault, then its end
  const std::string tail = tid + " --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10} ---\n" + tid +
                           (core ? " +++ killed by SIGSEGV (core dumped) +++\n" : " +++ killed by SIGSEGV +++\n");
  EXPECT_TRUE(text.ends_with(tail)) << text;
}

TEST(RecordSignals, SegfaultWithoutCore) {
  REQUIRE_BPF_OR_SKIP();
  if (!cores_are_plain_files()) GTEST_SKIP() << "core_pattern is not a plain file name";
  expect_segfault(false);
}

TEST(RecordSignals, SegfaultWithCore) {
  REQUIRE_BPF_OR_SKIP();
  if (!cores_are_plain_files()) GTEST_SKIP() << "core_pattern is not a plain file name";
  expect_segfault(true);
}

// The raw tracepoint programs (kernels without BTF) say the same.
TEST(RecordSignals, SegfaultThroughRawTracepoints) {
  REQUIRE_BPF_OR_SKIP();
  if (!cores_are_plain_files()) GTEST_SKIP() << "core_pattern is not a plain file name";
  expect_segfault(false, "TRACELOOP_FORCE_RAW_TRACEPOINT=1");
}

// kill -USR1 from a shell to a process sleeping in pause() with a handler.
TEST(RecordSignals, UserSignalToASleepingProcess) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  const std::string ready = (dir.path() / "ready").string();
  const std::string script = shell_quote(helper_binary("tl_signals").string()) + " wait-usr1 " + shell_quote(ready) +
                             " & while [ ! -e " + shell_quote(ready) + " ]; do sleep 0.01; done; kill -USR1 $!; wait $!";
  auto rec = record_in(dir, "usr1.tl", {"/bin/sh", "-c", script});
  EXPECT_EQ(rec.result.status, 0) << rec.result.err;
  // the shell's kill(2) is the sender
  uint32_t sender = 0, target = 0;
  for (const auto* e : events_named(rec.trace, "kill"))
    if (e->fields.args[1] == SIGUSR1) {
      sender = e->fields.pid;
      target = static_cast<uint32_t>(e->fields.args[0]);
    }
  ASSERT_NE(sender, 0u) << dump(rec.trace);
  const std::string text = strace_text(dir.path() / "usr1.tl");
  const std::string line = std::to_string(target) +
                           " --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=" + std::to_string(sender) +
                           ", si_uid=" + std::to_string(getuid()) + "} ---\n";
  EXPECT_NE(text.find(line), std::string::npos) << text;
  EXPECT_NE(text.find(std::to_string(target) + " +++ exited with 0 +++\n"), std::string::npos) << text;
}

TEST(RecordSignals, NormalExit) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record_in(dir, "exit.tl", {helper_binary("tl_signals").string(), "exit", "3"});
  EXPECT_EQ(rec.result.status, 3) << rec.result.err;
  const auto exits = notices_of(rec.trace, TaskNotice::Kind::exit);
  ASSERT_EQ(exits.size(), 1u) << dump(rec.trace);
  EXPECT_EQ(exits[0]->fields.exit_status, 3 << 8);
  EXPECT_TRUE(notices_of(rec.trace, TaskNotice::Kind::signal).empty());
  const std::string text = strace_text(dir.path() / "exit.tl");
  EXPECT_NE(text.find(std::to_string(exits[0]->fields.tid) + " +++ exited with 3 +++\n"), std::string::npos) << text;
}

// Every thread's end, as strace -f prints it: a thread's own exit(7), then
// exit_group(3) for the thread left and the leader.
TEST(RecordSignals, ThreadsEndOneByOne) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record_in(dir, "threads.tl", {helper_binary("tl_signals").string(), "thread-exit"});
  EXPECT_EQ(rec.result.status, 3) << rec.result.err;
  const auto exits = notices_of(rec.trace, TaskNotice::Kind::exit);
  ASSERT_EQ(exits.size(), 3u) << dump(rec.trace);
  EXPECT_EQ(exits[0]->fields.exit_status, 7 << 8);
  EXPECT_FALSE(exits[0]->fields.group_dead);
  std::map<uint32_t, int32_t> status_by_tid;
  int group_dead = 0;
  for (const auto* e : exits) {
    status_by_tid[e->fields.tid] = e->fields.exit_status;
    group_dead += e->fields.group_dead;
    EXPECT_EQ(e->fields.pid, exits[0]->fields.pid);
  }
  EXPECT_EQ(status_by_tid.size(), 3u);
  EXPECT_EQ(status_by_tid[exits[0]->fields.pid], 3 << 8);
  EXPECT_EQ(group_dead, 1);
  EXPECT_TRUE(exits.back()->fields.group_dead);
  // exit_group's SIGKILL to the sleeping thread is the kernel's: not a delivery
  EXPECT_TRUE(notices_of(rec.trace, TaskNotice::Kind::signal).empty()) << dump(rec.trace);
}

// "PID --- ..." and "PID +++ ..." lines with every pid masked, in order per
// line text (the interleaving of processes differs between runs).
std::multiset<std::string> notice_lines(const std::string& text) {
  static const std::regex kLine(R"(^(\d+)\s+((---|\+\+\+) .*)$)");  // strace pads short pids
  std::vector<std::pair<std::string, std::string>> lines;
  std::set<std::string> pids;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, kLine)) {
      lines.emplace_back(m[1], m[2]);
      pids.insert(m[1]);
    }
  }
  std::multiset<std::string> out;
  for (auto& [pid, rest] : lines) {
    std::string s = std::regex_replace(rest, std::regex(R"(si_pid=\d+)"), "si_pid=PID");
    s = std::regex_replace(s, std::regex(R"(si_utime=\d+, si_stime=\d+)"), "si_utime=T, si_stime=T");
    out.insert(s);
  }
  return out;
}

// The same notices, line for line, as strace -f gives for the same programs.
TEST(RecordSignals, AgreesWithStrace) {
  REQUIRE_BPF_OR_SKIP();
  if (std::system("command -v strace >/dev/null 2>&1") != 0) {
    if (std::getenv("TRACELOOP_REQUIRE_BPF") != nullptr) FAIL() << "strace is not installed";
    GTEST_SKIP() << "strace is not installed";
  }
  TempDir dir;
  const std::string helper = shell_quote(helper_binary("tl_signals").string());
  const std::string ready = shell_quote((dir.path() / "ready").string());
  const std::vector<std::string> scripts = {
      helper + " segv 0",
      helper + " exit 3",
      helper + " thread-exit",
      "rm -f " + ready + "; " + helper + " wait-usr1 " + ready + " & while [ ! -e " + ready +
          " ]; do sleep 0.01; done; kill -USR1 $!; wait $!",
  };
  for (const auto& script : scripts) {
    const auto strace_out = dir.path() / "strace.txt";
    run_process({"/bin/sh", "-c",
                 "cd " + shell_quote(dir.path().string()) + " && strace -f -q -o " +
                     shell_quote(strace_out.string()) + " -- /bin/sh -c " + shell_quote(script)});
    std::ifstream f(strace_out);
    std::stringstream theirs;
    theirs << f.rdbuf();
    std::filesystem::remove(dir.path() / "ready");
    auto rec = record_in(dir, "agree.tl", {"/bin/sh", "-c", script});
    const std::string ours = strace_text(dir.path() / "agree.tl");
    const auto a = notice_lines(theirs.str()), b = notice_lines(ours);
    EXPECT_FALSE(a.empty()) << script;
    EXPECT_EQ(a, b) << script << "\nstrace:\n" << theirs.str() << "\ntl-show:\n" << ours;
  }
}

}  // namespace
}  // namespace traceloop::recorder
