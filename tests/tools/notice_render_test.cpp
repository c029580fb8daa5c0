// Task notices (signals delivered, threads ended) through tl-show: strace's
// text for each kind of siginfo (the lines strace 6.1 prints for the same
// siginfo), rows of their own in the table and JSON (goldens), the
// timelines, and the thread and time filters, which apply to them while the
// call filters do not.

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <sstream>

#include "tests/support/golden.h"
#include "tests/tools/show_fixtures.h"
#include "tools/lib/decoder/notice_text.h"
#include "tools/lib/decoder/show.h"

namespace traceloop::tools {
namespace {

namespace fs = std::filesystem;

// A 64-bit siginfo_t (the same on x86_64 and aarch64), little endian.
class Siginfo {
 public:
  Siginfo(int32_t signo, int32_t code) {
    put(0, signo, 4);
    put(8, code, 4);
  }
  Siginfo& at(size_t offset, uint64_t value, size_t width) {
    put(offset, value, width);
    return *this;
  }
  Siginfo& errno_(int32_t e) { return at(4, static_cast<uint32_t>(e), 4); }
  Siginfo& sender(uint32_t pid, uint32_t uid) { return at(16, pid, 4).at(20, uid, 4); }
  Siginfo& child(int32_t status, int64_t utime, int64_t stime) {
    return at(24, static_cast<uint32_t>(status), 4).at(32, utime, 8).at(40, stime, 8);
  }
  Siginfo& addr(uint64_t a) { return at(16, a, 8); }
  Siginfo& value(uint64_t v) { return at(24, v, 8); }
  // The recorder keeps the kernel's 48 bytes; a file may hold up to 128.
  std::string bytes(size_t n = 48) const { return std::string(b_, n); }

 private:
  void put(size_t offset, uint64_t v, size_t width) {
    for (size_t i = 0; i < width; ++i) b_[offset + i] = static_cast<char>(v >> (8 * i));
  }
  char b_[128] = {};
};

std::string strace_line(const format::TaskNotice& n, format::Arch arch = format::Arch::x86_64) {
  std::string out;
  append_notice(out, n, format::builtin_catalogue(arch));
  return out;
}

format::TaskNotice signal_of(const std::string& siginfo) {
  format::TaskNotice n;
  n.kind = format::TaskNotice::Kind::signal;
  n.signo = static_cast<uint8_t>(siginfo[0]);
  n.siginfo = siginfo;
  return n;
}

// strace 6.1's text for the same siginfo (printsiginfo.c), field by field.
TEST(NoticeText, SiginfoAsStracePrintsIt) {
  const auto line = [](const Siginfo& s, size_t n = 48) {
    const std::string b = s.bytes(n);
    return strace_line(signal_of(b));
  };
  EXPECT_EQ(line(Siginfo(11, 1).addr(0x10)), "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10} ---");
  EXPECT_EQ(line(Siginfo(11, 0x80)), "--- SIGSEGV {si_signo=SIGSEGV, si_code=SI_KERNEL, si_addr=NULL} ---");
  EXPECT_EQ(line(Siginfo(7, 2).addr(0x7f0000001000)),
            "--- SIGBUS {si_signo=SIGBUS, si_code=BUS_ADRERR, si_addr=0x7f0000001000} ---");
  EXPECT_EQ(line(Siginfo(8, 1).addr(0x401000)), "--- SIGFPE {si_signo=SIGFPE, si_code=FPE_INTDIV, si_addr=0x401000} ---");
  EXPECT_EQ(line(Siginfo(4, 2).addr(0x401000)), "--- SIGILL {si_signo=SIGILL, si_code=ILL_ILLOPN, si_addr=0x401000} ---");
  EXPECT_EQ(line(Siginfo(10, 0).sender(1234, 0)), "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=1234, si_uid=0} ---");
  EXPECT_EQ(line(Siginfo(10, -6).sender(1234, 1000)),
            "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_TKILL, si_pid=1234, si_uid=1000} ---");
  // what strace printed here for sigqueue(getpid(), SIGUSR2, 42)
  EXPECT_EQ(line(Siginfo(12, -1).sender(19905, 0).value(0x7f480000002a)),
            "--- SIGUSR2 {si_signo=SIGUSR2, si_code=SI_QUEUE, si_pid=19905, si_uid=0, si_int=42, si_ptr=0x7f480000002a} ---");
  EXPECT_EQ(line(Siginfo(12, -1).sender(5, 0)), "--- SIGUSR2 {si_signo=SIGUSR2, si_code=SI_QUEUE, si_pid=5, si_uid=0} ---");
  EXPECT_EQ(line(Siginfo(14, -2).at(16, 3, 4).at(20, 1, 4).value(9)),
            "--- SIGALRM {si_signo=SIGALRM, si_code=SI_TIMER, si_timerid=0x3, si_overrun=1, si_int=9, si_ptr=0x9} ---");
  EXPECT_EQ(line(Siginfo(17, 3).sender(19586, 0).child(11, 0, 1)),
            "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_DUMPED, si_pid=19586, si_uid=0, si_status=SIGSEGV, si_utime=0, "
            "si_stime=1 /* 0.01 s */} ---");
  EXPECT_EQ(line(Siginfo(17, 1).sender(7, 0).child(3, 2, 0)),
            "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=7, si_uid=0, si_status=3, si_utime=2 /* 0.02 s */, "
            "si_stime=0} ---");
  EXPECT_EQ(line(Siginfo(29, 1).at(16, 1, 8).at(24, 5, 4)),
            "--- SIGIO {si_signo=SIGIO, si_code=POLL_IN, si_band=1, si_fd=5} ---");
  EXPECT_EQ(line(Siginfo(5, 1)), "--- SIGTRAP {si_signo=SIGTRAP, si_code=TRAP_BRKPT} ---");
  EXPECT_EQ(line(Siginfo(31, 1).addr(0x401234).at(24, 39, 4).at(28, 0xc000003e, 4)),
            "--- SIGSYS {si_signo=SIGSYS, si_code=SYS_SECCOMP, si_call_addr=0x401234, si_syscall=__NR_getpid, "
            "si_arch=AUDIT_ARCH_X86_64} ---");
  // si_arch chooses the table, whatever the trace's architecture; a number
  // no table names stays a number
  EXPECT_EQ(line(Siginfo(31, 1).addr(0x401234).at(24, 172, 4).at(28, 0xc00000b7, 4)),
            "--- SIGSYS {si_signo=SIGSYS, si_code=SYS_SECCOMP, si_call_addr=0x401234, si_syscall=__NR_getpid, "
            "si_arch=AUDIT_ARCH_AARCH64} ---");
  EXPECT_EQ(line(Siginfo(31, 1).addr(0x401234).at(24, 20, 4).at(28, 0x40000003, 4)),
            "--- SIGSYS {si_signo=SIGSYS, si_code=SYS_SECCOMP, si_call_addr=0x401234, si_syscall=20, "
            "si_arch=AUDIT_ARCH_I386} ---");
  EXPECT_EQ(line(Siginfo(31, 1).addr(0x401234).at(24, 999, 4).at(28, 0xc000003e, 4)),
            "--- SIGSYS {si_signo=SIGSYS, si_code=SYS_SECCOMP, si_call_addr=0x401234, si_syscall=999, "
            "si_arch=AUDIT_ARCH_X86_64} ---");
  // a kernel signal of no family: the sender only when there is one
  EXPECT_EQ(line(Siginfo(15, 0x80)), "--- SIGTERM {si_signo=SIGTERM, si_code=SI_KERNEL} ---");
  EXPECT_EQ(line(Siginfo(13, 0).errno_(32).sender(1, 0)),
            "--- SIGPIPE {si_signo=SIGPIPE, si_code=SI_USER, si_errno=EPIPE, si_pid=1, si_uid=0} ---");
  EXPECT_EQ(line(Siginfo(11, 77).addr(0x10)), "--- SIGSEGV {si_signo=SIGSEGV, si_code=77, si_addr=0x10} ---");
  // a whole siginfo_t reads the same as the kernel's part of it
  EXPECT_EQ(line(Siginfo(11, 2).addr(0x10), 128), "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_ACCERR, si_addr=0x10} ---");
}

TEST(NoticeText, ShortOrEmptySiginfoReadsAsZeros) {
  format::TaskNotice n;
  n.signo = 10;
  n.siginfo = "";
  EXPECT_EQ(strace_line(n), "--- SIGUSR1 {} ---");  // si_signo 0: strace's {}
  const std::string part("\x0a\0\0\0\0\0\0\0", 8);
  n.siginfo = part;
  EXPECT_EQ(strace_line(n), "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=0, si_uid=0} ---");
}

TEST(NoticeText, ExitOutcomes) {
  format::TaskNotice n;
  n.kind = format::TaskNotice::Kind::exit;
  const auto line = [&](int32_t status) {
    n.exit_status = status;
    return strace_line(n);
  };
  EXPECT_EQ(line(0), "+++ exited with 0 +++");
  EXPECT_EQ(line(3 << 8), "+++ exited with 3 +++");
  EXPECT_EQ(line(255 << 8), "+++ exited with 255 +++");
  EXPECT_EQ(line(9), "+++ killed by SIGKILL +++");
  EXPECT_EQ(line(11 | 0x80), "+++ killed by SIGSEGV (core dumped) +++");
  EXPECT_EQ(line(34), "+++ killed by SIGRT_2 +++");  // the decoder's name of signal 34
}

// The scenario: a shell whose child faults and dumps core, a thread that
// exits on its own, a user signal, and the shell's end.
fs::path write_scenario(const fs::path& dir) {
  auto metadata = testing::test_metadata(format::Arch::x86_64);
  testing::EventBuilder b(metadata.catalogue);
  b.as(100, "sh").call("wait4", {static_cast<uint64_t>(-1), 0, 0, 0}, 101);
  b.as(101, "seg").call("write", {1, 0x1000, 3}, 3).data(1, "hi\n");
  b.signal(11, Siginfo(11, 1).addr(0x10).bytes());
  b.thread_end(11 | 0x80);
  b.as(100, "sh").signal(17, Siginfo(17, 3).sender(101, 0).child(11, 0, 1).bytes());
  b.as(102, "worker", 103).call("getpid", {}, 102);
  b.thread_end(7 << 8, false);
  b.as(102, "worker").signal(10, Siginfo(10, 0).sender(100, 0).bytes());
  b.call("exit_group", {0}, 0);
  b.thread_end(0);
  b.as(100, "sh").call("exit_group", {3}, 0);
  b.thread_end(3 << 8);
  const auto path = dir / "notices.tl";
  testing::write_trace(path, metadata, b);
  return path;
}

struct Shown {
  int status;
  std::string out, err;
};

Shown show(const fs::path& path, OutputFormat format, ShowOptions options = {}) {
  options.path = path.string();
  options.render.format = format;
  std::ostringstream out, err;
  const int status = run_show(options, out, err);
  return {status, out.str(), err.str()};
}

class NoticeRender : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tl-notice-render-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    trace_ = write_scenario(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_, trace_;
};

TEST_F(NoticeRender, EveryFormatHasRowsOfTheirOwn) {
  for (auto [format, suffix] : {std::pair{OutputFormat::table, "table"}, std::pair{OutputFormat::strace, "strace"},
                                std::pair{OutputFormat::json, "json"}}) {
    const auto r = show(trace_, format);
    EXPECT_EQ(r.status, 0) << r.err;
    testing::expect_golden(std::string("golden/notices.") + suffix + ".txt", r.out);
  }
  const auto strace = show(trace_, OutputFormat::strace).out;
  EXPECT_NE(strace.find("101 --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10} ---\n"
                        "101 +++ killed by SIGSEGV (core dumped) +++\n"),
            std::string::npos)
      << strace;
  EXPECT_NE(strace.find("103 +++ exited with 7 +++\n"), std::string::npos) << strace;
  EXPECT_TRUE(strace.ends_with("100 exit_group(3)                       = ?\n100 +++ exited with 3 +++\n")) << strace;
}

TEST_F(NoticeRender, TimelinesMarkThem) {
  const auto perfetto = show(trace_, OutputFormat::perfetto);
  EXPECT_EQ(perfetto.status, 0) << perfetto.err;
  EXPECT_NE(perfetto.out.find(R"("cat":"signal","name":"SIGSEGV")"), std::string::npos) << perfetto.out;
  EXPECT_NE(perfetto.out.find(R"x("cat":"exit","name":"killed by SIGSEGV (core dumped)")x"), std::string::npos);
  const auto html = show(trace_, OutputFormat::html);
  EXPECT_EQ(html.status, 0) << html.err;
  EXPECT_NE(html.out.find("[pid 101] --- SIGSEGV"), std::string::npos);
  EXPECT_NE(html.out.find("[pid 100] +++ exited with 3 +++"), std::string::npos);
}

TEST_F(NoticeRender, ThreadFiltersApplyCallFiltersDoNot) {
  ShowOptions by_pid;
  by_pid.filter.pids = {101};
  auto r = show(trace_, OutputFormat::strace, by_pid);
  EXPECT_EQ(r.out,
            "101 write(1, \"hi\\n\", 3)                 = 3\n"
            "101 --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10} ---\n"
            "101 +++ killed by SIGSEGV (core dumped) +++\n");

  ShowOptions by_tid;
  by_tid.filter.tids = {103};
  r = show(trace_, OutputFormat::strace, by_tid);
  EXPECT_EQ(r.out, "103 getpid()                            = 102\n103 +++ exited with 7 +++\n");

  // strace -e trace=write still shows every signal and end
  ShowOptions by_call;
  by_call.filter.syscalls = {"write"};
  by_call.filter.failed = false;
  r = show(trace_, OutputFormat::strace, by_call);
  EXPECT_NE(r.out.find("101 write("), std::string::npos);
  EXPECT_EQ(r.out.find("wait4"), std::string::npos);
  size_t notices = 0;
  for (size_t at = r.out.find(" +++ "); at != std::string::npos; at = r.out.find(" +++ ", at + 1)) ++notices;
  EXPECT_EQ(notices, 4u) << r.out;

  ShowOptions by_comm;
  by_comm.filter.comms = {"worker"};
  r = show(trace_, OutputFormat::strace, by_comm);
  EXPECT_NE(r.out.find("102 --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=100, si_uid=0} ---"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("SIGSEGV"), std::string::npos) << r.out;

  // relative times count from the first call: the scenario's notices come
  // 10 us apart from 20 us on
  ShowOptions late;
  late.filter.since = "+100us";
  r = show(trace_, OutputFormat::strace, late);
  EXPECT_EQ(r.out.find("SIGSEGV"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("100 +++ exited with 3 +++"), std::string::npos) << r.out;
  ShowOptions early;
  early.filter.until = "+35us";
  r = show(trace_, OutputFormat::strace, early);
  EXPECT_NE(r.out.find("SIGSEGV"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("exited with 3"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace traceloop::tools
