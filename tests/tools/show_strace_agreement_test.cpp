// strace agreement: for a set of commands, `tl-show --format strace` of a
// `traceloop-record run` trace against `strace -f` of the same command, after
// normalising what differs from run to run (pids, pointers, random bytes,
// strace's unfinished/resumed split). Lines, those of signals and process ends
// included, are compared as multisets (the interleaving of processes differs
// between runs); the test prints the rate per command and overall, and the
// first mismatches. Target: >= 99.5%. Nothing else is taken out: envp's
// `/* 37 vars */` and getdents' `/* 4 entries */` compare as printed (the
// environment of both runs is the test's own).
//
// Needs root, BPF, strace and the recorder (TRACELOOP_BINARY_DIR/recorder/
// traceloop-record; TRACELOOP_BINARY_DIR is set by ctest, else the build
// directory this test binary sits in). Skips when those are missing, except with
// TRACELOOP_REQUIRE_BPF=1, where a missing or unusable recorder fails.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "tests/support/child_cpu_times.h"
#include "tests/tools/show_fixtures.h"
#include "tools/lib/decoder/show.h"

namespace traceloop::tools {
namespace {

namespace fs = std::filesystem;

bool require_bpf() {
  const char* v = std::getenv("TRACELOOP_REQUIRE_BPF");
  return v && std::string(v) == "1";
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string join_quoted(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + shell_quote(a);
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) lines.push_back(line);
  return lines;
}

// "PID rest" lines -> normalised "rest" lines; strace's split calls joined.
std::vector<std::string> normalise(const std::string& text) {
  static const std::regex kPidPrefix(R"(^(\d+)\s+(.*)$)");
  static const std::regex kResumed(R"(^<\.\.\. [a-z0-9_]+ resumed>\s*(.*)$)");
  static const std::regex kHex(R"(0x[0-9a-f]+)");
  static const std::regex kRandom(R"("(\\x[0-9a-f]{2})+")");
  static const std::regex kAssign(R"(\)\s+= )");
  static const std::regex kPpid(R"(^getppid\(\) = \d+)");
  std::vector<std::pair<std::string, std::string>> calls;  // pid, text
  std::map<std::string, std::string> pending;              // unfinished text per pid
  std::set<std::string> pids;
  for (const auto& line : split_lines(text)) {
    std::smatch m;
    if (!std::regex_match(line, m, kPidPrefix)) continue;  // loss markers, blank lines
    const std::string pid = m[1], rest = m[2];
    pids.insert(pid);
    if (rest.starts_with("---") || rest.starts_with("+++")) {  // a signal or an end: one line, as strace's
      calls.emplace_back(pid, traceloop::testing::mask_child_cpu_times(rest));
      continue;
    }
    const std::string kUnfinished = " <unfinished ...>";
    if (rest.ends_with(kUnfinished)) {
      pending[pid] = rest.substr(0, rest.size() - kUnfinished.size());
      continue;
    }
    std::smatch r;
    if (std::regex_match(rest, r, kResumed)) {
      calls.emplace_back(pid, pending[pid] + r[1].str());
      pending.erase(pid);
      continue;
    }
    calls.emplace_back(pid, rest);
  }
  std::vector<std::string> out;
  for (auto& [pid, call] : calls) {
    std::string s = std::regex_replace(call, kHex, "0x?");
    s = std::regex_replace(s, kRandom, "\"RANDOM\"");
    s = std::regex_replace(s, kAssign, ") = ");
    s = std::regex_replace(s, kPpid, "getppid() = PPID");
    for (const auto& p : pids) s = std::regex_replace(s, std::regex("\\b" + p + "\\b"), "PID");
    out.push_back(s);
  }
  return out;
}

struct Agreement {
  size_t matched = 0;
  size_t total = 0;
  std::vector<std::string> only_strace, only_ours;
};

Agreement compare(const std::vector<std::string>& strace_lines, const std::vector<std::string>& ours) {
  std::multiset<std::string> a(strace_lines.begin(), strace_lines.end());
  Agreement r;
  std::multiset<std::string> unmatched_ours;
  for (const auto& l : ours) {
    auto it = a.find(l);
    if (it != a.end()) {
      a.erase(it);
      ++r.matched;
    } else {
      r.only_ours.push_back(l);
    }
  }
  r.only_strace.assign(a.begin(), a.end());
  r.total = std::max(strace_lines.size(), ours.size());
  return r;
}

TEST(StraceAgreementTest, NormaliseJoinsUnfinishedCallsAndMasksRunSpecificValues) {
  const auto lines = normalise(
      "12 read(3,  <unfinished ...>\n"
      "13 getpid()                          = 13\n"
      "12 <... read resumed>\"x\", 10)         = 1\n"
      "12 mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, 3, 0) = 0x7f0598682000\n"
      "13 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=12, si_uid=0, si_status=0, si_utime=1 /* 0.01 s */, "
      "si_stime=0} ---\n"
      "12 +++ exited with 0 +++\n");
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "getpid() = PID");
  EXPECT_EQ(lines[1], "read(3, \"x\", 10) = 1");
  EXPECT_EQ(lines[2], "mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, 3, 0) = 0x?");
  EXPECT_EQ(lines[3],
            "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=PID, si_uid=0, si_status=0, si_utime=T, "
            "si_stime=T} ---");
  EXPECT_EQ(lines[4], "+++ exited with 0 +++");
  const auto r = compare({"a", "b", "b"}, {"b", "a", "c"});
  EXPECT_EQ(r.matched, 2u);
  EXPECT_EQ(r.total, 3u);
}

TEST(StraceAgreementTest, TlShowStraceFormatMatchesStrace) {
  const fs::path recorder = testing::binary_dir() / "recorder" / "traceloop-record";
  auto unavailable = [&](const std::string& why) {
    if (require_bpf()) FAIL() << why << " (TRACELOOP_REQUIRE_BPF=1)";
    GTEST_SKIP() << why;
  };
  if (!fs::exists(recorder)) return unavailable("no recorder at " + recorder.string());
  if (std::system("command -v strace >/dev/null 2>&1") != 0) return unavailable("strace is not installed");
  if (geteuid() != 0) return unavailable("needs root for BPF");

  const fs::path dir = fs::temp_directory_path() / ("tl-strace-agreement-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::vector<std::vector<std::string>> commands = {
      {"/bin/true"},
      {"ls", "-l", "/etc/hostname", "/nonexistent"},
      {"sh", "-c", "echo hello; cat /etc/hostname /nope; exit 3"},
      {"busybox", "sh", "-c", "ls / ; cat /etc/passwd | grep root"},
      {"head", "-c", "64", "/etc/passwd"},
      {"stat", "/", "/tmp"},
      // More variables than the recorder keeps (counted all the same), a
      // directory of more entries than it keeps, a handler's sigreturn.
      {"env", "V01=1", "V02=2", "V03=3", "V04=4", "V05=5", "V06=6", "V07=7", "V08=8", "V09=9", "V10=10", "V11=11",
       "V12=12", "V13=13", "V14=14", "V15=15", "V16=16", "V17=17", "V18=18", "V19=19", "V20=20", "ls", "/usr/bin"},
      {"bash", "-c", "trap 'echo usr1' USR1; kill -USR1 $$; echo done"},
  };
  size_t matched = 0, total = 0;
  std::string report;
  for (const auto& argv : commands) {
    const auto strace_out = dir / "strace.txt";
    const auto trace = dir / "trace.tl";
    fs::remove(trace);
    const std::string cmd = join_quoted(argv);
    // -q, not -qq: -qq leaves out the "+++ exited with N +++" lines
    std::system(("strace -f -q -s 32 -o " + shell_quote(strace_out) + " -- " + cmd + " >/dev/null 2>&1").c_str());
    const int rec = std::system((shell_quote(recorder) + " run -o " + shell_quote(trace) + " -- " + cmd +
                                 " >/dev/null 2>" + shell_quote(dir / "recorder.err"))
                                    .c_str());
    if (!fs::exists(trace)) {
      fs::remove_all(dir);
      return unavailable("the recorder made no trace (status " + std::to_string(rec) + "): " +
                         testing::read_file(dir / "recorder.err"));
    }
    ShowOptions options;
    options.path = trace.string();
    options.render.format = OutputFormat::strace;
    std::ostringstream out, err;
    ASSERT_EQ(run_show(options, out, err), 0) << err.str();
    const auto r = compare(normalise(testing::read_file(strace_out)), normalise(out.str()));
    matched += r.matched;
    total += r.total;
    report += "  " + cmd + ": " + std::to_string(r.matched) + "/" + std::to_string(r.total) + " lines agree\n";
    for (size_t i = 0; i < std::min<size_t>(8, r.only_strace.size()); ++i) report += "    strace only: " + r.only_strace[i] + "\n";
    for (size_t i = 0; i < std::min<size_t>(8, r.only_ours.size()); ++i) report += "    tl-show only: " + r.only_ours[i] + "\n";
  }
  fs::remove_all(dir);
  const double rate = total ? static_cast<double>(matched) / static_cast<double>(total) : 0;
  std::cout << "strace agreement: " << matched << "/" << total << " lines = " << rate * 100 << "%\n" << report;
  EXPECT_GE(rate, 0.995) << report;
}

}  // namespace
}  // namespace traceloop::tools
