// Integration tests: signal deliveries and thread ends of real programs under
// traceloop-record run, as the trace holds them and as tl-show's strace format
// writes them, checked against the kernel's own account (the wait status run
// reports) and against strace -f on the same program.
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>

#include "recorder/run_command.h"
#include "tests/recorder/recorder_test_util.h"
#include "tests/support/child_cpu_times.h"
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

// The signal notices of thread `tid` (the recorded shell's SIGCHLD are not).
std::vector<const format::OwnedTaskNotice*> signals_of(const format::LoadedTrace& t, uint32_t tid) {
  std::vector<const format::OwnedTaskNotice*> out;
  for (const auto* n : notices_of(t, TaskNotice::Kind::signal))
    if (n->fields.tid == tid) out.push_back(n);
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

// kill -USR1 from a shell to a process sleeping in sigsuspend() with a handler.
TEST(RecordSignals, UserSignalToASleepingProcess) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  const std::string ready = (dir.path() / "ready").string();
  const std::string script = shell_quote(helper_binary("tl_signals").string()) + " wait-usr1 " + shell_quote(ready) +
                             " & while [ ! -e " + shell_quote(ready) + " ]; do :; done; kill -USR1 $!; wait $!";
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
  EXPECT_EQ(signals_of(rec.trace, target).size(), 1u) << text;  // its delivery only
  // the handler's return restores the mask from before sigsuspend(), read at
  // the signal frame's offset from the stack pointer: USR1 and USR2, not the
  // [USR2] it waited with
  EXPECT_NE(text.find(std::to_string(target) + " rt_sigsuspend([USR2], 8)"), std::string::npos) << text;
  EXPECT_NE(text.find(std::to_string(target) + " rt_sigreturn({mask=[USR1 USR2]})"), std::string::npos) << text;
  EXPECT_NE(text.find(std::to_string(target) + " +++ exited with 0 +++\n"), std::string::npos) << text;
}

// `command &` started from the recorded shell, once its READY file exists
// sent `signal` by the shell's kill builtin, then waited for. The file is
// polled with builtins only: a `sleep` a round would start processes (each
// with its exit and SIGCHLD) in a number that depends on timing, and the
// comparison with strace counts them.
std::string signal_script(const TempDir& dir, const std::string& mode, const std::string& signal) {
  const std::string ready = shell_quote((dir.path() / "ready").string());
  return "rm -f " + ready + "; " + shell_quote(helper_binary("tl_signals").string()) + " " + mode + " " + ready +
         " & while [ ! -e " + ready + " ]; do :; done; kill -" + signal + " $!; wait $!";
}

// The kill(2) of the recorded shell: {sender, target}.
std::pair<uint32_t, uint32_t> kill_call(const format::LoadedTrace& trace, int signo) {
  for (const auto* e : events_named(trace, "kill"))
    if (e->fields.args[1] == static_cast<uint64_t>(signo))
      return {e->fields.pid, static_cast<uint32_t>(e->fields.args[0])};
  return {0, 0};
}

// The lines of `text` that belong to thread `tid`.
std::vector<std::string> lines_of(const std::string& text, uint32_t tid) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  const std::string prefix = std::to_string(tid) + " ";
  while (std::getline(in, line))
    if (line.starts_with(prefix)) out.push_back(line.substr(prefix.size()));
  return out;
}

// kill -TERM to a process that neither handles nor blocks it: the kernel
// never delivers it (its fatal short-cut), yet the trace shows it as strace
// does, as the thread's last lines before its end. Both attach kinds.
TEST(RecordSignals, UnhandledTermShownBeforeTheEnd) {
  REQUIRE_BPF_OR_SKIP();
  for (const std::string env : {"", "TRACELOOP_FORCE_RAW_TRACEPOINT=1"}) {
    TempDir dir;
    auto rec = record_in(dir, "term.tl", {"/bin/sh", "-c", signal_script(dir, "pause", "TERM")}, env);
    EXPECT_EQ(rec.result.status, 128 + SIGTERM) << rec.result.err;
    const auto [sender, target] = kill_call(rec.trace, SIGTERM);
    ASSERT_NE(sender, 0u) << dump(rec.trace);
    ASSERT_EQ(signals_of(rec.trace, target).size(), 1u) << env << dump(rec.trace);
    const auto lines = lines_of(strace_text(dir.path() / "term.tl"), target);
    ASSERT_GE(lines.size(), 2u);
    EXPECT_EQ(lines[lines.size() - 2], "--- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=" +
                                           std::to_string(sender) + ", si_uid=" + std::to_string(getuid()) +
                                           "} ---")
        << env;
    EXPECT_EQ(lines.back(), "+++ killed by SIGTERM +++") << env;
  }
}

// The process's main thread ended before the signal came: the thread left
// takes it (the kernel's choice, and strace's line).
TEST(RecordSignals, UnhandledTermAfterTheLeadersEnd) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record_in(dir, "leader.tl", {"/bin/sh", "-c", signal_script(dir, "leader-exits", "TERM")});
  EXPECT_EQ(rec.result.status, 128 + SIGTERM) << rec.result.err;
  const auto [sender, target] = kill_call(rec.trace, SIGTERM);
  ASSERT_NE(sender, 0u) << dump(rec.trace);
  const auto signals = notices_of(rec.trace, TaskNotice::Kind::signal);
  const TaskNotice* term = nullptr;
  for (const auto* n : signals)
    if (n->fields.signo == SIGTERM) term = &n->fields;
  ASSERT_NE(term, nullptr) << dump(rec.trace);
  EXPECT_EQ(term->pid, target);
  EXPECT_NE(term->tid, target);  // not the leader
  const auto lines = lines_of(strace_text(dir.path() / "leader.tl"), term->tid);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[lines.size() - 2], "--- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=" + std::to_string(sender) +
                                         ", si_uid=" + std::to_string(getuid()) + "} ---");
  EXPECT_EQ(lines.back(), "+++ killed by SIGTERM +++");
}

// A write to a pipe nobody reads: the kernel's SIGPIPE to the writer.
TEST(RecordSignals, BrokenPipe) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record_in(dir, "pipe.tl", {helper_binary("tl_signals").string(), "pipe"});
  EXPECT_EQ(rec.result.status, 128 + SIGPIPE) << rec.result.err;
  const auto signals = notices_of(rec.trace, TaskNotice::Kind::signal);
  ASSERT_EQ(signals.size(), 1u) << dump(rec.trace);
  const uint32_t tid = signals[0]->fields.tid;
  const auto lines = lines_of(strace_text(dir.path() / "pipe.tl"), tid);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_TRUE(lines[lines.size() - 3].starts_with("write(")) << lines[lines.size() - 3];
  EXPECT_TRUE(lines[lines.size() - 3].ends_with("= -1 EPIPE (Broken pipe)")) << lines[lines.size() - 3];
  EXPECT_EQ(lines[lines.size() - 2], "--- SIGPIPE {si_signo=SIGPIPE, si_code=SI_USER, si_pid=" + std::to_string(tid) +
                                         ", si_uid=" + std::to_string(getuid()) + "} ---");
  EXPECT_EQ(lines.back(), "+++ killed by SIGPIPE +++");
}

// SIGKILL, a handled signal, a blocked one and one that dumps core: no
// line from the fatal signals' sending (strace shows none for SIGKILL, and
// the others are delivered, or never are).
TEST(RecordSignals, NoNoticeBeyondTheDeliveries) {
  REQUIRE_BPF_OR_SKIP();
  struct Case {
    std::string mode, signal;
    int signo;
    int status;
    size_t notices;
  };
  for (const Case& c : {Case{"pause", "KILL", SIGKILL, 128 + SIGKILL, 0}, Case{"wait-usr1", "USR1", SIGUSR1, 0, 1},
                        Case{"block-term", "TERM", SIGTERM, 0, 0}, Case{"pause", "ABRT", SIGABRT, 128 + SIGABRT, 1}}) {
    TempDir dir;
    auto rec = record_in(dir, "none.tl", {"/bin/sh", "-c", "ulimit -c 0; " + signal_script(dir, c.mode, c.signal)});
    EXPECT_EQ(rec.result.status, c.status) << c.signal << rec.result.err;
    const auto [sender, target] = kill_call(rec.trace, c.signo);
    ASSERT_NE(sender, 0u) << dump(rec.trace);
    EXPECT_EQ(signals_of(rec.trace, target).size(), c.notices) << c.signal << dump(rec.trace);
    size_t shown = 0;
    for (const auto& line : lines_of(strace_text(dir.path() / "none.tl"), target)) shown += line.starts_with("--- ");
    EXPECT_EQ(shown, c.notices) << c.signal;
  }
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
    s = std::regex_replace(s, std::regex(R"(si_call_addr=0x[0-9a-f]+)"), "si_call_addr=ADDR");
    out.insert(traceloop::testing::mask_child_cpu_times(s));
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
          " ]; do :; done; kill -USR1 $!; wait $!",
      signal_script(dir, "pause", "TERM"),
      signal_script(dir, "pause", "KILL"),
      signal_script(dir, "block-term", "TERM"),
      helper + " pipe",
      helper + " seccomp-getpid",
  };
  for (const auto& script : scripts) {
    // Said before each: should one hang, the test's timeout shows which.
    std::cerr << "script: " << script << std::endl;
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
