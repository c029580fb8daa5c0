// The trace against strace -f: for the same command, the per-thread
// sequences of (syscall name, return value) must be equal.
//
// Matching threads across the two runs: pids differ from run to run, so the
// threads of each run are numbered in order of first appearance (strace's
// file order; the trace's first enter time) and compared by that number.
// Normalised: process/thread ids returned (ReturnKind pid: clone, wait4,
// set_tid_address) are "PID"; addresses returned by mmap/brk-like calls (ReturnKind hex) are
// "ADDR"; errors are -errno on both sides (strace prints "-1 ENOENT (...)");
// calls that never return (exit, exit_group) compare by name only;
// strace's signal and exit notices ("--- SIG", "+++") are not syscalls.
// Signal timing differs between two runs (ptrace slows the tracee: a SIGCHLD
// lands before a wait4 in one run and interrupts it in the other), so
// rt_sigreturn and calls interrupted for a restart (ERESTART*, -512..-516)
// are left out on both sides.
#include <string.h>

#include <fstream>
#include <map>
#include <sstream>

#include "tests/recorder/recorder_test_util.h"

namespace traceloop::recorder {
namespace {

using namespace traceloop::recorder::testing;

using Call = std::pair<std::string, std::string>;  // name, normalised return value
using Threads = std::vector<std::vector<Call>>;     // in order of first appearance

std::string errno_from_name(const std::string& name) {
  for (int e = 1; e < 4096; ++e) {
    const char* n = strerrorname_np(e);
    if (n != nullptr && name == n) return std::to_string(-e);
  }
  return "-?" + name;
}

std::string normalise_strace_ret(const std::string& text) {
  std::istringstream in(text);
  std::string first, second;
  in >> first >> second;
  if (first.rfind("0x", 0) == 0) return "ADDR";
  if (first == "-1" && !second.empty() && second[0] == 'E') return errno_from_name(second);
  return first;
}

Threads parse_strace(const std::string& path, const format::Catalogue& cat) {
  std::ifstream in(path);
  std::string line;
  std::vector<int> order;
  std::map<int, std::vector<Call>> calls;
  std::map<int, std::string> unfinished;  // pid -> name
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    int pid = 0;
    ls >> pid;
    std::string rest;
    std::getline(ls, rest);
    while (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
    if (rest.rfind("---", 0) == 0 || rest.rfind("+++", 0) == 0) continue;
    if (std::find(order.begin(), order.end(), pid) == order.end()) order.push_back(pid);
    std::string name;
    std::string ret_text;
    if (rest.rfind("<... ", 0) == 0) {
      auto end = rest.find(" resumed>");
      name = rest.substr(5, end - 5);
      unfinished.erase(pid);
    } else {
      name = rest.substr(0, rest.find('('));
      if (rest.find("<unfinished ...>") != std::string::npos) {
        unfinished[pid] = name;
        continue;
      }
    }
    // strace pads before " = " to align columns: the result follows the last
    // " = " that comes right after the closing parenthesis and blanks
    ret_text = "?";
    for (size_t eq = rest.rfind(" = "); eq != std::string::npos && eq > 0; eq = rest.rfind(" = ", eq - 1)) {
      size_t before = rest.find_last_not_of(' ', eq);
      if (before != std::string::npos && rest[before] == ')') {
        ret_text = rest.substr(eq + 3);
        break;
      }
    }
    const auto* spec = cat.find(name);
    if (name == "rt_sigreturn" || ret_text.find("ERESTART") != std::string::npos) continue;
    std::string ret = spec && spec->never_returns ? "?" : normalise_strace_ret(ret_text);
    if (spec && spec->returns == format::ReturnKind::pid && ret.size() && ret[0] != '-' && ret != "0") ret = "PID";
    calls[pid].push_back({name, ret});
  }
  // calls strace saw start but never end (exit_group) count too
  for (const auto& [pid, name] : unfinished) calls[pid].push_back({name, "?"});
  Threads out;
  for (int pid : order) out.push_back(calls[pid]);
  return out;
}

Threads from_trace(const format::LoadedTrace& t) {
  const auto& cat = t.metadata.catalogue;
  std::map<uint32_t, std::pair<uint64_t, std::vector<Call>>> by_tid;
  // the trace lists calls as they complete; a thread's calls are sequential
  for (const auto& owned : t.events) {
    auto e = owned.view();
    const auto* spec = cat.find(e.nr);
    if (cat.name_of(e.nr) == "rt_sigreturn") continue;
    if (e.state == format::CallState::returned && e.ret <= -512 && e.ret >= -516) continue;
    std::string ret;
    if (e.state != format::CallState::returned || (spec && spec->never_returns)) ret = "?";
    else if (spec && spec->returns == format::ReturnKind::hex && !e.failed()) ret = "ADDR";
    else if (spec && spec->returns == format::ReturnKind::pid && e.ret > 0) ret = "PID";
    else ret = std::to_string(e.ret);
    auto& entry = by_tid[e.tid];
    if (entry.second.empty() || e.enter_ns < entry.first) entry.first = e.enter_ns;
    entry.second.push_back({cat.name_of(e.nr), ret});
  }
  std::vector<std::pair<uint64_t, std::vector<Call>>> sorted;
  for (auto& [tid, v] : by_tid) sorted.push_back(std::move(v));
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  Threads out;
  for (auto& v : sorted) out.push_back(std::move(v.second));
  return out;
}

// A few calls around the first difference.
std::string show(const std::vector<Call>& calls, size_t from) {
  std::string s;
  size_t begin = from > 3 ? from - 3 : 0;
  for (size_t i = begin; i < calls.size() && i < from + 8; ++i) s += "  " + calls[i].first + " = " + calls[i].second + "\n";
  return s;
}

void compare_with_strace(const std::vector<std::string>& command) {
  TempDir dir;
  auto strace_out = dir.path() / "strace.txt";
  std::vector<std::string> argv{"strace", "-f", "-o", strace_out.string()};
  argv.insert(argv.end(), command.begin(), command.end());
  auto s = run_process(argv);
  ASSERT_TRUE(std::filesystem::exists(strace_out)) << "strace failed: " << s.err;

  auto rec = record(dir.path() / "cmp.tl", {}, command);
  EXPECT_EQ(rec.result.status, s.status);
  EXPECT_EQ(rec.result.out, s.out);
  Threads expected = parse_strace(strace_out.string(), rec.trace.metadata.catalogue);
  Threads actual = from_trace(rec.trace);
  ASSERT_EQ(actual.size(), expected.size()) << "threads differ";
  for (size_t i = 0; i < expected.size(); ++i) {
    size_t first = 0;
    while (first < actual[i].size() && first < expected[i].size() && actual[i][first] == expected[i][first]) ++first;
    EXPECT_TRUE(actual[i] == expected[i]) << "thread #" << i << " differs at call " << first << "\nstrace:\n"
                                          << show(expected[i], first) << "trace:\n"
                                          << show(actual[i], first);
  }
  EXPECT_GT(expected.at(0).size(), 10u);
}

TEST(StraceCompare, LsLongListing) {
  REQUIRE_BPF_OR_SKIP();
  compare_with_strace({"ls", "-l", "/bin"});
}

TEST(StraceCompare, ShellRedirectAndCat) {
  REQUIRE_BPF_OR_SKIP();
  compare_with_strace({"/bin/sh", "-c", "echo hi > /tmp/tl-strace-x; cat /tmp/tl-strace-x"});
}

TEST(StraceCompare, ForkingShell) {
  REQUIRE_BPF_OR_SKIP();
  compare_with_strace({"/bin/sh", "-c", "/bin/true; ls / > /dev/null; /bin/echo done"});
}

}  // namespace
}  // namespace traceloop::recorder
