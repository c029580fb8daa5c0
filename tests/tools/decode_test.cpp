// Unit tests of the decoder: every flag set the catalogue names, every
// structure type, escaping, return values, per-arch layouts.

#include "tools/lib/decoder/decode.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <sys/prctl.h>

#include <set>

#include "bpf/traceloop_events.h"
#include "tests/tools/show_fixtures.h"
#include "tools/lib/decoder/flag_sets.h"
#include "tools/lib/decoder/struct_decode.h"
#include "tools/lib/decoder/value_json.h"

namespace traceloop::tools {
namespace {

using format::Arch;
using testing::EventBuilder;
using testing::StructBytes;

class DecodeTest : public ::testing::Test {
 protected:
  explicit DecodeTest(Arch arch = Arch::x86_64)
      : metadata_(testing::test_metadata(arch)), decoder_(metadata_), builder_(metadata_.catalogue) {}

  std::string args(ArgStyle style = ArgStyle::strace) {
    std::string out;
    decoder_.append_args(out, builder_.last(), style);
    return out;
  }
  std::string ret() {
    std::string out;
    decoder_.append_return(out, builder_.last());
    return out;
  }

  format::TraceMetadata metadata_;
  Decoder decoder_;
  EventBuilder builder_;
};

constexpr uint64_t kAtFdcwd = static_cast<uint64_t>(-100);

TEST_F(DecodeTest, OpenatStraceAndTableStyles) {
  builder_.call("openat", {kAtFdcwd, 0x1000, 02000000, 0}, 3).str(1, "/etc/passwd");
  EXPECT_EQ(args(), R"(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC)");
  EXPECT_EQ(args(ArgStyle::table), R"(dfd=AT_FDCWD, filename="/etc/passwd", flags=O_RDONLY|O_CLOEXEC, mode=0)");
  EXPECT_EQ(ret(), "3");
}

TEST_F(DecodeTest, OpenatWithCreateShowsMode) {
  builder_.call("openat", {kAtFdcwd, 0x1000, 0101 | 01000, 0666}, 3).str(1, "/tmp/file-24581");
  EXPECT_EQ(args(), R"(AT_FDCWD, "/tmp/file-24581", O_WRONLY|O_CREAT|O_TRUNC, 0666)");
}

TEST_F(DecodeTest, ErrnoNameAndMessage) {
  builder_.call("openat", {kAtFdcwd, 0x1000, 0, 0}, -2).str(1, "/tmp/file-3240");
  EXPECT_EQ(ret(), "-1 ENOENT (No such file or directory)");
  builder_.call("close", {9}, -9);
  EXPECT_EQ(ret(), "-1 EBADF (Bad file descriptor)");
  builder_.call("close", {9}, -4095);
  EXPECT_EQ(ret(), "-1 ERRNO_4095 (Unknown error 4095)");
  builder_.call("close", {9}, -512);
  EXPECT_EQ(ret(), "-1 ERESTARTSYS (To be restarted if SA_RESTART is set)");
  EXPECT_EQ(errno_name(13), "EACCES");
  EXPECT_EQ(errno_message(1), "Operation not permitted");
  EXPECT_EQ(errno_from_name("ENOENT"), 2);
  EXPECT_EQ(errno_name(0), "");
  EXPECT_EQ(errno_name(-1), "");
}

TEST_F(DecodeTest, EveryErrnoUpTo133HasANameExceptUnusedOnes) {
  for (int e = 1; e <= 133; ++e) {
    if (e == 41 || e == 58) continue;  // unused numbers on Linux
    EXPECT_FALSE(errno_name(e).empty()) << e;
    EXPECT_FALSE(errno_message(e).empty()) << e;
  }
}

TEST_F(DecodeTest, NeverReturnsAndUnfinished) {
  builder_.call("exit_group", {1}, 0);
  EXPECT_EQ(ret(), "X");
  EXPECT_EQ(args(ArgStyle::table), "error_code=1");
  builder_.call("read", {0, 0x1000, 4096}, 0).state(format::CallState::unfinished);
  EXPECT_EQ(ret(), "unfinished");
  EXPECT_EQ(args(), "0, 0x1000, 4096");  // no data at exit yet: the pointer
}

TEST_F(DecodeTest, MmapAndBrkInHex) {
  builder_.call("mmap", {0, 8192, 3, 0x22, static_cast<uint64_t>(-1), 0}, 0x7fa8f517e000);
  EXPECT_EQ(args(), "NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0");
  EXPECT_EQ(ret(), "0x7fa8f517e000");
  builder_.call("mmap", {0x7fa8f4fb7000, 1400832, 5, 0x812, 3, 0x26000}, 0x7fa8f4fb7000);
  EXPECT_EQ(args(), "0x7fa8f4fb7000, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x26000");
  builder_.call("mprotect", {0x7fa8f5160000, 16384, 0}, 0);
  EXPECT_EQ(args(), "0x7fa8f5160000, 16384, PROT_NONE");
  builder_.call("brk", {0}, 0x562f09156000);
  EXPECT_EQ(args(), "NULL");
  EXPECT_EQ(ret(), "0x562f09156000");
  builder_.call("mmap", {0, 8192, 3, 0x22, static_cast<uint64_t>(-1), 0}, -12);
  EXPECT_EQ(ret(), "-1 ENOMEM (Cannot allocate memory)");
}

TEST_F(DecodeTest, WriteBufferEscapedAndTruncated) {
  const std::string msg = "cat: can't open '/tmp/file-3240': No such file or directory\n";
  builder_.call("write", {2, 0x1000, msg.size()}, static_cast<int64_t>(msg.size())).data(1, msg);
  EXPECT_EQ(args(), R"(2, "cat: can't open '/tmp/file-3240'"..., 60)");
  DecodeOptions wide;
  wide.string_limit = 0;
  const Decoder all(metadata_, wide);
  std::string out;
  all.append_args(out, builder_.last(), ArgStyle::strace);
  EXPECT_EQ(out, R"(2, "cat: can't open '/tmp/file-3240': No such file or directory\n", 60)");
}

TEST_F(DecodeTest, CaptureShorterThanDataIsMarkedTruncated) {
  builder_.call("write", {1, 0x1000, 1000}, 1000).data(1, "abc", 1000);
  EXPECT_EQ(args(), R"(1, "abc"..., 1000)");
}

TEST_F(DecodeTest, EscapeSequencesNeverReachTheTerminal) {
  static constexpr char kHostile[] = "\x1b[2J\x1b]0;pwned\x07\r\x9b" "31m\xff\x00" "7";
  const std::string hostile(kHostile, sizeof kHostile - 1);
  builder_.call("write", {1, 0x1000, hostile.size()}, static_cast<int64_t>(hostile.size())).data(1, hostile);
  const std::string out = args();
  EXPECT_EQ(out, R"(1, "\33[2J\33]0;pwned\7\r\23331m\377\0007", 22)");
  for (char c : out) {
    const auto u = static_cast<unsigned char>(c);
    EXPECT_TRUE(u >= 0x20 && u < 0x7f) << "raw byte " << int(u) << " in " << out;
  }
}

TEST_F(DecodeTest, QuotingHelpers) {
  std::string out;
  append_quoted(out, "a\"b\\c\td\n", 0, false);
  EXPECT_EQ(out, R"("a\"b\\c\td\n")");
  out.clear();
  append_quoted(out, "abcdef", 3, false);
  EXPECT_EQ(out, R"("abc"...)");
  out.clear();
  append_quoted_hex(out, "\x03\x87", 0, false);
  EXPECT_EQ(out, R"("\x03\x87")");
  out.clear();
  append_escaped(out, std::string("\x01" "2", 2));
  EXPECT_EQ(out, R"(\0012)");
}

TEST_F(DecodeTest, GetrandomInHex) {
  builder_.call("getrandom", {0x1000, 8, 1}, 8).data(0, "\x03\x87\x2d\xd3\xdb\x8d\x11\x37");
  EXPECT_EQ(args(), R"("\x03\x87\x2d\xd3\xdb\x8d\x11\x37", 8, GRND_NONBLOCK)");
}

TEST_F(DecodeTest, ExecveArgv) {
  builder_.call("execve", {0x1000, 0x2000, 0x7ffdf3a6b3f8}, 0)
      .str(0, "/bin/ls")
      .data(1, std::string("ls\0-l\0/bin\0", 11));
  EXPECT_EQ(args(), R"("/bin/ls", ["ls", "-l", "/bin"], 0x7ffdf3a6b3f8)");
  // Elements dropped by the capture limit: size says more existed.
  builder_.call("execve", {0x1000, 0x2000, 0x3000}, 0).str(0, "/bin/sh").data(1, std::string("sh\0-c\0", 6), 40);
  EXPECT_EQ(args(), R"("/bin/sh", ["sh", "-c", ...], 0x3000)");
  // Last element cut in the middle.
  builder_.call("execve", {0x1000, 0x2000, 0x3000}, 0).str(0, "/bin/sh").data(1, std::string("sh\0-c\0ls -l /b", 14), 20);
  EXPECT_EQ(args(), R"("/bin/sh", ["sh", "-c", "ls -l /b"...], 0x3000)");
}

TEST_F(DecodeTest, StatStructAbbreviated) {
  builder_.call("newfstatat", {3, 0x1000, 0x2000, 0x1000}, 0)
      .str(1, "")
      .data(2, testing::stat_bytes(Arch::x86_64, 0100644, 42995));
  EXPECT_EQ(args(), R"(3, "", {st_mode=S_IFREG|0644, st_size=42995, ...}, AT_EMPTY_PATH)");
  builder_.call("newfstatat", {kAtFdcwd, 0x1000, 0x2000, 0}, 0)
      .str(1, "/tmp")
      .data(2, testing::stat_bytes(Arch::x86_64, 041777, 4096));
  EXPECT_EQ(args(), R"(AT_FDCWD, "/tmp", {st_mode=S_IFDIR|S_ISVTX|0777, st_size=4096, ...}, 0)");
  // Failed: the pointer, like strace.
  builder_.call("newfstatat", {kAtFdcwd, 0x1000, 0x7ffe02447760, 0}, -2).str(1, "/nope");
  EXPECT_EQ(args(), R"(AT_FDCWD, "/nope", 0x7ffe02447760, 0)");
  // Too short a capture (hostile): the pointer, no over-read.
  builder_.call("fstat", {3, 0x2000}, 0).data(1, "short");
  EXPECT_EQ(args(), "3, 0x2000");
}

TEST_F(DecodeTest, StatxStructAndFlags) {
  StructBytes sx(256);
  sx.set<uint32_t>(0, 0x17ff).set<uint16_t>(28, 0120777).set<uint64_t>(40, 7);
  builder_.call("statx", {kAtFdcwd, 0x1000, 0x900, 0x25e, 0x2000}, 0).str(1, "/bin").data(4, sx.str());
  EXPECT_EQ(args(),
            R"(AT_FDCWD, "/bin", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW|AT_NO_AUTOMOUNT, )"
            R"(STATX_MODE|STATX_NLINK|STATX_UID|STATX_GID|STATX_MTIME|STATX_SIZE, )"
            R"({stx_mask=STATX_BASIC_STATS|STATX_MNT_ID, stx_attributes=0, stx_mode=S_IFLNK|0777, stx_size=7, ...})");
}

TEST_F(DecodeTest, Dirents) {
  const std::string buf = testing::dirent64(1, ".", 4) + testing::dirent64(2, "..", 4) + testing::dirent64(77, "mv", 8);
  // strace's text without -v: the address and how many entries.
  builder_.call("getdents64", {3, 0x1000, 32768}, static_cast<int64_t>(buf.size())).data(1, buf);
  EXPECT_EQ(args(), "3, 0x1000 /* 3 entries */, 32768");
  DecodeOptions verbose_options;
  verbose_options.verbose = true;
  const Decoder verbose(metadata_, verbose_options);
  auto verbose_args = [&] {
    std::string out;
    verbose.append_args(out, builder_.last(), ArgStyle::strace);
    return out;
  };
  EXPECT_EQ(verbose_args(),
            R"(3, [{d_ino=1, d_off=10, d_reclen=24, d_type=DT_DIR, d_name="."}, )"
            R"({d_ino=2, d_off=20, d_reclen=24, d_type=DT_DIR, d_name=".."}, )"
            R"({d_ino=77, d_off=770, d_reclen=24, d_type=DT_REG, d_name="mv"}], 32768)");
  // Cut by the capture limit: the recorder counted the 2 records it left out
  // (size = bytes kept + 2); -v shows the complete records and "...".
  builder_.call("getdents64", {3, 0x1000, 32768}, static_cast<int64_t>(buf.size())).data(1, buf.substr(0, 30), 32);
  EXPECT_EQ(args(), "3, 0x1000 /* 3 entries */, 32768");
  EXPECT_EQ(verbose_args(), R"(3, [{d_ino=1, d_off=10, d_reclen=24, d_type=DT_DIR, d_name="."}, ...], 32768)");
  // The end of the directory.
  builder_.call("getdents64", {3, 0x1000, 32768}, 0);
  EXPECT_EQ(args(), "3, 0x1000 /* 0 entries */, 32768");
  EXPECT_EQ(verbose_args(), "3, [], 32768");
  // A hostile reclen of 0 must not loop forever.
  builder_.call("getdents64", {3, 0x1000, 32768}, 24).data(1, StructBytes(24).str());
  EXPECT_EQ(verbose_args(), "3, [...], 32768");
  EXPECT_EQ(args(), "3, 0x1000 /* 0 entries */, 32768");
}

// JSON keeps every entry it has, and a cut run says how many there were.
TEST_F(DecodeTest, CountedArraysInJsonKeepTheirElements) {
  const std::string buf = testing::dirent64(1, ".", 4) + testing::dirent64(2, "..", 4) + testing::dirent64(77, "mv", 8);
  builder_.call("getdents64", {3, 0x1000, 32768}, static_cast<int64_t>(buf.size())).data(1, buf.substr(0, 30), 32);
  std::string json;
  JsonValueWriter writer(json);
  decoder_.describe_arg(writer, builder_.last(), 1);
  EXPECT_NE(json.find(R"("d_name":".")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("truncated":true,"count":3})"), std::string::npos) << json;
}

// Before format 4.3 the size of cut directory records was their byte length:
// their count is unknown, so they are shown, never counted by a guess.
TEST_F(DecodeTest, OlderFilesShowCutDirentsInFull) {
  auto older = metadata_;
  older.format_minor = 2;
  const Decoder decoder(older);
  const std::string buf = testing::dirent64(1, ".", 4) + testing::dirent64(2, "..", 4) + testing::dirent64(77, "mv", 8);
  builder_.call("getdents64", {3, 0x1000, 32768}, static_cast<int64_t>(buf.size())).data(1, buf.substr(0, 30), buf.size());
  std::string out;
  decoder.append_args(out, builder_.last(), ArgStyle::strace);
  EXPECT_EQ(out, R"(3, [{d_ino=1, d_off=10, d_reclen=24, d_type=DT_DIR, d_name="."}, ...], 32768)");
  builder_.call("getdents64", {3, 0x1000, 32768}, static_cast<int64_t>(buf.size())).data(1, buf);
  out.clear();
  decoder.append_args(out, builder_.last(), ArgStyle::strace);
  EXPECT_EQ(out, "3, 0x1000 /* 3 entries */, 32768");
}

// envp: strace counts the variables (argv stays in full); -v shows those kept.
TEST_F(DecodeTest, ExecveEnvpCounted) {
  builder_.call("execve", {0x1000, 0x2000, 0x7ffdf3a6b3f8}, 0)
      .str(0, "/bin/ls")
      .data(1, std::string("ls\0", 3))
      .data(2, std::string("A=1\0B=2\0", 8), 8 + 35);  // 35 more the recorder left out
  EXPECT_EQ(args(), R"("/bin/ls", ["ls"], 0x7ffdf3a6b3f8 /* 37 vars */)");
  DecodeOptions verbose_options;
  verbose_options.verbose = true;
  const Decoder verbose(metadata_, verbose_options);
  std::string out;
  verbose.append_args(out, builder_.last(), ArgStyle::strace);
  EXPECT_EQ(out, R"("/bin/ls", ["ls"], ["A=1", "B=2", ...])");
  builder_.call("execve", {0x1000, 0x2000, 0x3000}, 0).str(0, "/bin/ls").data(1, std::string("ls\0", 3))
      .data(2, std::string("A=1\0", 4));
  EXPECT_EQ(args(), R"("/bin/ls", ["ls"], 0x3000 /* 1 var */)");
  builder_.call("execve", {0x1000, 0x2000, 0}, 0).str(0, "/bin/ls").data(1, std::string("ls\0", 3));
  EXPECT_EQ(args(), R"("/bin/ls", ["ls"], NULL)");
  // A failed exec keeps what it was given.
  builder_.call("execve", {0x1000, 0x2000, 0x3000}, -2).str(0, "/nope").data(1, std::string("x\0", 2))
      .data(2, std::string("A=1\0B=2\0", 8));
  EXPECT_EQ(args(), R"("/nope", ["x"], 0x3000 /* 2 vars */)");
}

// prctl: the arguments strace shows for the option, and PR_GET_NAME's name.
TEST_F(DecodeTest, PrctlShowsTheArgumentsItsOptionUses) {
  builder_.call("prctl", {PR_SET_NAME, 0x1000, 0, 0, 0}, 0).str(1, "ls");
  EXPECT_EQ(args(), R"(PR_SET_NAME, "ls")");
  builder_.as(7, "busybox").call("prctl", {PR_GET_NAME, 0x1000, 0, 0, 0}, 0);
  EXPECT_EQ(args(), R"(PR_GET_NAME, "busybox")");
  EXPECT_EQ(args(ArgStyle::table), R"(option=PR_GET_NAME, arg2="busybox", arg3=0, arg4=0, arg5=0)");
  builder_.call("prctl", {PR_GET_NAME, 0x1000, 0, 0, 0}, -14);
  EXPECT_EQ(args(), "PR_GET_NAME, 0x1000");
  builder_.call("prctl", {PR_GET_DUMPABLE, 0, 0, 0, 0}, 1);
  EXPECT_EQ(args(), "PR_GET_DUMPABLE");
  builder_.call("prctl", {PR_SET_PDEATHSIG, 9, 0, 0, 0}, 0);
  EXPECT_EQ(args(), "PR_SET_PDEATHSIG, SIGKILL");
  builder_.call("prctl", {PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0}, 0);
  EXPECT_EQ(args(), "PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0");
  builder_.call("prctl", {PR_SET_TIMERSLACK, 50000, 0, 0, 0}, 0);
  EXPECT_EQ(args(), "PR_SET_TIMERSLACK, 50000");
}

// The dumpable state by name, as strace 6.1 shows it (its own output for
// these calls): the argument of PR_SET_DUMPABLE, the result of
// PR_GET_DUMPABLE; a value without a name as the number.
TEST_F(DecodeTest, PrctlNamesTheDumpableState) {
  builder_.call("prctl", {PR_SET_DUMPABLE, 0, 0, 0, 0}, 0);
  EXPECT_EQ(args(), "PR_SET_DUMPABLE, SUID_DUMP_DISABLE");
  EXPECT_EQ(ret(), "0");
  builder_.call("prctl", {PR_SET_DUMPABLE, 2, 0, 0, 0}, -22);
  EXPECT_EQ(args(), "PR_SET_DUMPABLE, SUID_DUMP_ROOT");
  builder_.call("prctl", {PR_SET_DUMPABLE, 7, 0, 0, 0}, -22);
  EXPECT_EQ(args(), "PR_SET_DUMPABLE, 0x7");
  builder_.call("prctl", {PR_GET_DUMPABLE, 0, 0, 0, 0}, 0);
  EXPECT_EQ(ret(), "0 (SUID_DUMP_DISABLE)");
  builder_.call("prctl", {PR_GET_DUMPABLE, 0, 0, 0, 0}, 1);
  EXPECT_EQ(ret(), "1 (SUID_DUMP_USER)");
  builder_.call("prctl", {PR_GET_DUMPABLE, 0, 0, 0, 0}, 5);
  EXPECT_EQ(ret(), "5");
}

// rt_sigreturn: the mask it restores, and the value it returns (the
// interrupted code's).
TEST_F(DecodeTest, RtSigreturnShowsTheMaskItRestores) {
  builder_.call("rt_sigreturn", {0x7ffe1000}, 20493).data(0, StructBytes(8).set<uint64_t>(0, 1u << 11).str());
  EXPECT_EQ(args(), "{mask=[USR2]}");
  EXPECT_EQ(ret(), "20493");
  builder_.call("rt_sigreturn", {0x7ffe1000}, 0).data(0, StructBytes(8).str());
  EXPECT_EQ(args(), "{mask=[]}");
  EXPECT_EQ(ret(), "0");
}

TEST_F(DecodeTest, PipeAndWaitStatus) {
  builder_.call("pipe2", {0x1000, 0}, 0).data(0, StructBytes(8).set<int32_t>(0, 3).set<int32_t>(4, 4).str());
  EXPECT_EQ(args(), "[3, 4], 0");
  builder_.call("pipe2", {0x1000, 02000000}, 0).data(0, StructBytes(8).set<int32_t>(0, 5).set<int32_t>(4, 6).str());
  EXPECT_EQ(args(), "[5, 6], O_CLOEXEC");
  builder_.call("wait4", {static_cast<uint64_t>(-1), 0x1000, 0, 0}, 103).data(1, StructBytes(4).set<int32_t>(0, 0x100).str());
  EXPECT_EQ(args(), "-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 1}], 0, NULL");
  EXPECT_EQ(ret(), "103");
  std::string out;
  append_wait_status(out, 9);
  EXPECT_EQ(out, "{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}");
  out.clear();
  append_wait_status(out, 0x8b);
  EXPECT_EQ(out, "{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}");
  out.clear();
  append_wait_status(out, 0x137f);
  EXPECT_EQ(out, "{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}");
}

TEST_F(DecodeTest, SigactionAndSigset) {
  StructBytes act(32);
  act.set<uint64_t>(0, 0x562ed4683dc0).set<uint64_t>(8, 0x04000000).set<uint64_t>(16, 0x7fa8f4fcd050);
  act.set<uint64_t>(24, ~uint64_t{0} & ~(uint64_t{3} << 31));  // glibc: all but 32 and 33
  builder_.call("rt_sigaction", {17, 0x1000, 0, 8}, 0).data(1, act.str());
  EXPECT_EQ(args(),
            "SIGCHLD, {sa_handler=0x562ed4683dc0, sa_mask=~[RTMIN RT_1], sa_flags=SA_RESTORER, "
            "sa_restorer=0x7fa8f4fcd050}, NULL, 8");
  builder_.call("rt_sigaction", {2, 0, 0x1000, 8}, 0).data(2, StructBytes(32).str());
  EXPECT_EQ(args(), "SIGINT, NULL, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8");
  builder_.call("rt_sigprocmask", {2, 0x1000, 0, 8}, 0).data(1, StructBytes(8).set<uint64_t>(0, (1u << 1) | (1u << 16)).str());
  EXPECT_EQ(args(), "SIG_SETMASK, [INT CHLD], NULL, 8");
  builder_.call("kill", {123, 9}, 0);
  EXPECT_EQ(args(), "123, SIGKILL");
  builder_.call("kill", {123, 40}, 0);
  EXPECT_EQ(args(), "123, SIGRT_8");
}

TEST_F(DecodeTest, TimespecRlimitUtsnameSysinfo) {
  builder_.call("clock_gettime", {1, 0x1000}, 0).data(1, StructBytes(16).set<int64_t>(0, 12).set<int64_t>(8, 345).str());
  EXPECT_EQ(args(), "CLOCK_MONOTONIC, {tv_sec=12, tv_nsec=345}");
  builder_.call("prlimit64", {0, 3, 0, 0x1000}, 0)
      .data(3, StructBytes(16).set<uint64_t>(0, 8192 * 1024).set<uint64_t>(8, ~uint64_t{0}).str());
  EXPECT_EQ(args(), "0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}");
  builder_.call("uname", {0x1000}, 0).data(0, StructBytes(390).text(0, "Linux").text(65, "deb").str());
  EXPECT_EQ(args(), R"({sysname="Linux", nodename="deb", ...})");
  builder_.call("nanosleep", {0x1000, 0}, 0).data(0, StructBytes(16).set<int64_t>(0, 1).str());
  EXPECT_EQ(args(), "{tv_sec=1, tv_nsec=0}, NULL");
}

TEST_F(DecodeTest, PollAndEpoll) {
  StructBytes fds(16);
  fds.set<int32_t>(0, 3).set<int16_t>(4, 1).set<int16_t>(6, 1).set<int32_t>(8, 4).set<int16_t>(12, 4);
  builder_.call("poll", {0x1000, 2, 100}, 1).data(0, fds.str());
  EXPECT_EQ(args(), "[{fd=3, events=POLLIN, revents=POLLIN}, {fd=4, events=POLLOUT}], 2, 100");
  // x86_64 packs epoll_event: data at offset 4.
  builder_.call("epoll_ctl", {5, 1, 3, 0x1000}, 0).data(3, StructBytes(12).set<uint32_t>(0, 0x80000001).set<uint64_t>(4, 3).str());
  EXPECT_EQ(args(), "5, EPOLL_CTL_ADD, 3, {events=EPOLLIN|EPOLLET, data={u32=3, u64=3}}");
}

TEST_F(DecodeTest, Sockets) {
  builder_.call("socket", {2, 2 | 02000000 | 04000, 0}, 3);
  EXPECT_EQ(args(), "AF_INET, SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP");
  builder_.call("socket", {16, 3 | 02000000, 0}, 3);
  EXPECT_EQ(args(), "AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE");
  builder_.call("socket", {1, 1, 0}, 3);
  EXPECT_EQ(args(), "AF_UNIX, SOCK_STREAM, 0");
  StructBytes in4(16);
  in4.set<uint16_t>(0, 2).set<uint16_t>(2, htons(80)).set<uint32_t>(4, htonl(0x7f000001));
  builder_.call("connect", {3, 0x1000, 16}, -111).data(1, in4.str());
  EXPECT_EQ(args(), R"(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}, 16)");
  EXPECT_EQ(ret(), "-1 ECONNREFUSED (Connection refused)");
  StructBytes in6(28);
  in6.set<uint16_t>(0, 10).set<uint16_t>(2, htons(443)).set<uint8_t>(23, 1);
  builder_.call("connect", {3, 0x1000, 28}, 0).data(1, in6.str());
  EXPECT_EQ(args(),
            R"(3, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28)");
  builder_.call("connect", {3, 0x1000, 20}, 0).data(1, std::string("\x01\x00/run/x.sock\0", 15));
  EXPECT_EQ(args(), R"(3, {sa_family=AF_UNIX, sun_path="/run/x.sock"}, 20)");
  builder_.call("bind", {3, 0x1000, 9}, 0).data(1, std::string("\x01\x00\0abc\ndef", 10));
  EXPECT_EQ(args(), R"(3, {sa_family=AF_UNIX, sun_path=@"abc\ndef"}, 9)");
  builder_.call("accept4", {3, 0x1000, 0x2000, 02000000}, -11);
  EXPECT_EQ(args(), "3, 0x1000, 0x2000, SOCK_CLOEXEC");
}

constexpr int32_t kSolSocket = 1, kScmRights = 1, kScmCredentials = 2;
constexpr uint64_t kMsgCmsgCloexec = 0x40000000, kMsgDontwait = 0x40;

std::string ints(std::initializer_list<int32_t> values) {
  std::string s;
  for (int32_t v : values) s.append(reinterpret_cast<const char*>(&v), sizeof(v));
  return s;
}

// The texts strace 6.1 prints for these messages (tests/recorder's
// fd_paths_test compares the recorded ones with strace itself).
TEST_F(DecodeTest, SendmsgAndRecvmsgAsStrace) {
  using testing::cmsg;
  using testing::simple_message;
  builder_.call("sendmsg", {3, 0x7ffd0000, 0}, 1).data(1, simple_message("x", cmsg(kSolSocket, kScmRights, ints({4}))).str());
  EXPECT_EQ(args(),
            "3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"x\", iov_len=1}], msg_iovlen=1, "
            "msg_control=[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[4]}], "
            "msg_controllen=24, msg_flags=0}, 0");
  // recvmsg: each iovec holds what the call moved (its return value), the
  // recorder's limit cut the second; the name and flags the kernel wrote.
  testing::MessageCapture m;
  m.name = 0x7ffd0400;
  m.namelen = 9;
  m.name_bytes = std::string("\x01\x00/tmp/s\0", 9);
  m.iov = 0x7ffd0100;
  m.iovlen = 3;
  m.iovecs = {{0x7ffd0200, 10}, {0x7ffd0300, 1000}, {0, 0}};
  m.data = {std::string(10, 'a'), std::string(256, 'b'), ""};
  m.control = 0x7ffd0500;
  m.controllen = 48;
  m.control_bytes = cmsg(kSolSocket, kScmRights, ints({5, 6})) + cmsg(kSolSocket, kScmCredentials, ints({42, 0, 0}));
  m.flags = static_cast<uint32_t>(kMsgCmsgCloexec);
  builder_.call("recvmsg", {4, 0x7ffd0000, kMsgCmsgCloexec}, 304).data(1, m.str());
  EXPECT_EQ(args(),
            "4, {msg_name={sa_family=AF_UNIX, sun_path=\"/tmp/s\"}, msg_namelen=9, msg_iov=[{iov_base=\"aaaaaaaaaa\", "
            "iov_len=10}, {iov_base=\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"..., iov_len=1000}, {iov_base=NULL, iov_len=0}], "
            "msg_iovlen=3, msg_control=[{cmsg_len=24, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[5, 6]}, "
            "{cmsg_len=28, cmsg_level=SOL_SOCKET, cmsg_type=SCM_CREDENTIALS, cmsg_data={pid=42, uid=0, gid=0}}], "
            "msg_controllen=48, msg_flags=MSG_CMSG_CLOEXEC}, MSG_CMSG_CLOEXEC");
  // Of the second iovec the call moved 294 bytes, all kept by a larger limit.
  m.data[1] = std::string(294, 'b');
  builder_.call("recvmsg", {4, 0x7ffd0000, 0}, 304).data(1, m.str());
  EXPECT_NE(args().find("{iov_base=\"" + std::string(32, 'b') + "\"..., iov_len=1000}"), std::string::npos);
  // A call that failed, and a header that could not be read: the address.
  builder_.call("recvmsg", {4, 0x7ffd0000, kMsgDontwait}, -11).data(1, m.str());
  EXPECT_EQ(args(), "4, 0x7ffd0000, MSG_DONTWAIT");
  builder_.call("sendmsg", {3, 0x10, 0}, -14);
  EXPECT_EQ(args(), "3, 0x10, 0");
  // Parts that could not be read: their addresses; no control data at all:
  // no msg_control field.
  testing::MessageCapture bad = simple_message("x");
  bad.iovecs.push_back({0xdead0000, 5});
  bad.iovlen = 2;
  bad.data.push_back("");
  bad.unread = {1};
  bad.name = 0x7ffd0600;
  bad.namelen = 16;
  bad.faults = TL_MSGHDR_FAULT_NAME;
  builder_.call("sendmsg", {3, 0x7ffd0000, 0}, -14).data(1, bad.str());
  EXPECT_EQ(args(),
            "3, {msg_name=0x7ffd0600, msg_namelen=16, msg_iov=[{iov_base=\"x\", iov_len=1}, {iov_base=0xdead0000, "
            "iov_len=5}], msg_iovlen=2, msg_controllen=0, msg_flags=0}, 0");
  bad.controllen = 24;
  bad.control = 0x7ffd0700;
  bad.faults = TL_MSGHDR_FAULT_CONTROL | TL_MSGHDR_FAULT_IOV;
  bad.iovecs.clear();
  bad.data.clear();
  bad.unread.clear();
  builder_.call("sendmsg", {3, 0x7ffd0000, 0}, -14).data(1, bad.str());
  EXPECT_NE(args().find("msg_iov=0x7ffd0100, msg_iovlen=2, msg_control=0x7ffd0700, msg_controllen=24"),
            std::string::npos)
      << args();
}

TEST_F(DecodeTest, MessageHeadersInJsonAreObjects) {
  builder_.call("sendmsg", {3, 0x7ffd0000, 0}, 1)
      .data(1, testing::simple_message("x", testing::cmsg(kSolSocket, kScmRights, ints({4}))).str());
  std::string json;
  JsonValueWriter writer(json);
  decoder_.describe_arg(writer, builder_.last(), 1);
  EXPECT_EQ(json.front(), '{') << json;
  EXPECT_NE(json.find(R"("msg_iov":[{"iov_base":)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("cmsg_data":[)"), std::string::npos) << json;
}

// Bytes a hostile or damaged file may hold: every length is checked against
// what is there, and what cannot be walked ends the walk.
TEST_F(DecodeTest, HostileMessageHeaders) {
  using testing::cmsg;
  using testing::simple_message;
  const std::string rights = cmsg(kSolSocket, kScmRights, ints({4}));
  // msg_controllen larger than the bytes kept: what was kept, then `...`.
  auto m = simple_message("x", rights);
  m.controllen = 100000;
  builder_.call("sendmsg", {3, 0x7ffd0000, 0}, 1).data(1, m.str());
  EXPECT_NE(args().find("cmsg_data=[4]}, ...], msg_controllen=100000"), std::string::npos) << args();
  // cmsg_len 0: one message, then the walk stops (strace's form).
  m = simple_message("x", cmsg(kSolSocket, kScmRights, ints({4}), 0));
  builder_.call("sendmsg", {3, 0x7ffd0000, 0}, -22).data(1, m.str());
  EXPECT_NE(args().find("msg_control=[{cmsg_len=0, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS}, ...]"),
            std::string::npos)
      << args();
  // cmsg_len past the end: the fds the bytes hold, nothing beyond.
  m = simple_message("x", cmsg(kSolSocket, kScmRights, ints({4, 5}), 1 << 30));
  builder_.call("sendmsg", {3, 0x7ffd0000, 0}, -22).data(1, m.str());
  EXPECT_NE(args().find("cmsg_len=1073741824, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[4, 5]}]"),
            std::string::npos)
      << args();
  // Fewer than a header's bytes: the address; an unknown level in hex.
  m = simple_message("x", std::string(7, '\0'));
  builder_.call("sendmsg", {3, 0x7ffd0000, 0}, 1).data(1, m.str());
  EXPECT_NE(args().find("msg_control=0x7ffd0300, msg_controllen=7"), std::string::npos) << args();
  m = simple_message("x", cmsg(99, 1, ints({4})));
  builder_.call("sendmsg", {3, 0x7ffd0000, 0}, 1).data(1, m.str());
  EXPECT_NE(args().find("{cmsg_len=20, cmsg_level=0x63, cmsg_type=0x1}"), std::string::npos) << args();
  // A huge msg_iovlen: the iovecs kept, then `...`.
  m = simple_message("x");
  m.iovlen = uint64_t{1} << 40;
  builder_.call("sendmsg", {3, 0x7ffd0000, 0}, -90).data(1, m.str());
  EXPECT_NE(args().find("msg_iov=[{iov_base=\"x\", iov_len=1}, ...], msg_iovlen=1099511627776"), std::string::npos)
      << args();

  // Cut anywhere, and lengths that claim more than there is: never a read
  // past the bytes; a head or part that does not fit shows the address.
  m = simple_message("hello", rights);
  m.name = 0x7ffd0400;
  m.namelen = 9;
  m.name_bytes = std::string("\x01\x00/tmp/s\0", 9);
  const std::string whole = m.str();
  for (size_t n = 0; n < whole.size(); ++n) {
    builder_.call("sendmsg", {3, 0x7ffd0000, 0}, 5).data(1, whole.substr(0, n));
    const std::string text = args();
    if (n < whole.size() - 5) {  // the data alone may be cut
      EXPECT_EQ(text, "3, 0x7ffd0000, 0") << n;
    } else {
      EXPECT_NE(text.find("iov_base=0x7ffd0200"), std::string::npos) << n;
    }
  }
  for (size_t at : {size_t{0}, size_t{2}, size_t{4}, size_t{6}}) {  // hdr_len, name_len, iov_count, control_len
    std::string lying = whole;
    lying[at] = '\xff';
    lying[at + 1] = '\xff';
    builder_.call("sendmsg", {3, 0x7ffd0000, 0}, 5).data(1, lying);
    EXPECT_EQ(args(), "3, 0x7ffd0000, 0") << at;
  }
  // Data lengths per iovec that claim more than the bytes: the address.
  std::string lying = whole;
  lying[16] = '\x40';
  builder_.call("sendmsg", {3, 0x7ffd0000, 0}, 5).data(1, lying);
  EXPECT_NE(args().find("iov_base=0x7ffd0200"), std::string::npos) << args();
  // The fds for the tracker, from the same bytes.
  const auto fds = scm_rights_fds(whole, Arch::x86_64);
  ASSERT_TRUE(fds.has_value());
  EXPECT_EQ(fds->fds, std::vector<int32_t>{4});
  EXPECT_TRUE(fds->complete);
  EXPECT_FALSE(scm_rights_fds(whole.substr(0, 100), Arch::x86_64).has_value());
}

// Levels and SOL_SOCKET option names by their kernel numbers, typed here from
// include/linux/socket.h and asm-generic/socket.h: the tables once said 271
// for SOL_TLS (271 is SOL_TIPC), 283 for SOL_MPTCP (283 is SOL_XDP) and 30 for
// SO_SNDBUFFORCE (30 is SO_ACCEPTCONN; SO_SNDBUFFORCE is 32).
TEST_F(DecodeTest, SocketLevelsByKernelNumber) {
  builder_.call("setsockopt", {3, 282, 1, 0x1000, 4}, 0);
  EXPECT_EQ(args(), "3, SOL_TLS, 1, 0x1000, 4");
  builder_.call("setsockopt", {3, 284, 1, 0x1000, 4}, 0);
  EXPECT_EQ(args(), "3, SOL_MPTCP, 1, 0x1000, 4");
  builder_.call("getsockopt", {3, 271, 1, 0x1000, 0x2000}, 0);
  EXPECT_EQ(args(), "3, SOL_TIPC, 1, 0x1000, 0x2000");
  builder_.call("setsockopt", {3, 283, 1, 0x1000, 4}, 0);
  EXPECT_EQ(args(), "3, SOL_XDP, 1, 0x1000, 4");
}

TEST_F(DecodeTest, SocketOptionNamesAtSolSocket) {
  builder_.call("setsockopt", {3, 1, 32, 0x1000, 4}, 0);
  EXPECT_EQ(args(), "3, SOL_SOCKET, SO_SNDBUFFORCE, 0x1000, 4");
  builder_.call("getsockopt", {3, 1, 30, 0x1000, 0x2000}, 0);
  EXPECT_EQ(args(), "3, SOL_SOCKET, SO_ACCEPTCONN, 0x1000, 0x2000");
  builder_.call("setsockopt", {3, 1, 2, 0x1000, 4}, 0);
  EXPECT_EQ(args(), "3, SOL_SOCKET, SO_REUSEADDR, 0x1000, 4");
  // At other levels the same numbers are other options: left as numbers.
  builder_.call("setsockopt", {3, 6, 1, 0x1000, 4}, 0);
  EXPECT_EQ(args(), "3, SOL_TCP, 1, 0x1000, 4");
}

TEST_F(DecodeTest, CloneFlagsStraceStyle) {
  builder_.call("clone", {0x1200011, 0, 0, 0x7fa8f4f8ea10, 0}, 12735);
  EXPECT_EQ(args(), "child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7fa8f4f8ea10");
  EXPECT_EQ(args(ArgStyle::table),
            "clone_flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, newsp=NULL, parent_tidptr=NULL, "
            "child_tidptr=0x7fa8f4f8ea10, tls=NULL");
  StructBytes ca(88);
  ca.set<uint64_t>(0, 0x4100).set<uint64_t>(32, 17).set<uint64_t>(40, 0x7f0000).set<uint64_t>(48, 0x9000);
  builder_.call("clone3", {0x1000, 88}, 200).data(0, ca.str());
  EXPECT_EQ(args(), "{flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f0000, stack_size=0x9000}, 88");
}

TEST_F(DecodeTest, FcntlIoctlPrctlFutexAccess) {
  builder_.call("fcntl", {3, 2, 1}, 0);
  EXPECT_EQ(args(), "3, F_SETFD, FD_CLOEXEC");
  builder_.call("fcntl", {3, 3, 0}, 0x8002);
  EXPECT_EQ(args(), "3, F_GETFL");
  EXPECT_EQ(ret(), "0x8002 (flags O_RDWR|O_LARGEFILE)");
  builder_.call("fcntl", {3, 1030, 10}, 11);
  EXPECT_EQ(args(), "3, F_DUPFD_CLOEXEC, 10");
  builder_.call("ioctl", {1, 0x5401, 0x7ffe7f25f690}, -25);
  EXPECT_EQ(args(), "1, TCGETS, 0x7ffe7f25f690");
  EXPECT_EQ(ret(), "-1 ENOTTY (Inappropriate ioctl for device)");
  builder_.call("ioctl", {1, 0xdeadbeef, 0}, -25);
  EXPECT_EQ(args(), "1, 0xdeadbeef, NULL");
  builder_.call("prctl", {15, 0x1000, 0, 0, 0}, 0);
  EXPECT_EQ(args(), "PR_SET_NAME, 0x1000");
  EXPECT_EQ(args(ArgStyle::table), "option=PR_SET_NAME, arg2=0x1000, arg3=0, arg4=0, arg5=0");
  builder_.call("futex", {0x1000, 0x81, 1, 0, 0, 0}, 0);
  EXPECT_EQ(args().substr(0, 26), "0x1000, FUTEX_WAKE_PRIVATE");
  builder_.call("futex", {0x1000, 0x189, 1, 0, 0, 0}, 0);
  EXPECT_EQ(args().substr(0, 55), "0x1000, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME,");
  builder_.call("access", {0x1000, 4}, -2).str(0, "/etc/ld.so.preload");
  EXPECT_EQ(args(), R"("/etc/ld.so.preload", R_OK)");
  builder_.call("faccessat2", {kAtFdcwd, 0x1000, 0, 0x1000}, 0).str(1, "x");
  EXPECT_EQ(args(), R"(AT_FDCWD, "x", F_OK, AT_EMPTY_PATH)");
  builder_.call("arch_prctl", {0x1002, 0x7fa8f4f8e740}, 0);
  EXPECT_EQ(args(), "ARCH_SET_FS, 0x7fa8f4f8e740");
  builder_.call("lseek", {3, 0, 1}, -29);
  EXPECT_EQ(args(), "3, 0, SEEK_CUR");
  EXPECT_EQ(ret(), "-1 ESPIPE (Illegal seek)");
}

TEST_F(DecodeTest, StraceArgumentChoices) {
  builder_.call("getcwd", {0x1000, 4096}, 5).data(0, std::string("/tmp\0", 5));
  EXPECT_EQ(args(), R"("/tmp", 4096)");
  builder_.call("read", {3, 0x1000, 4096}, 0);
  EXPECT_EQ(args(), R"(3, "", 4096)");
  builder_.call("futex", {0x1000, 0x81, 2147483647, 0, 0x2000, 0}, 0);
  EXPECT_EQ(args(), "0x1000, FUTEX_WAKE_PRIVATE, 2147483647");
  builder_.call("futex", {0x1000, 0x80, 2, 0, 0x2000, 0}, 0);
  EXPECT_EQ(args(), "0x1000, FUTEX_WAIT_PRIVATE, 2, NULL");
  builder_.call("rseq", {0x1000, 32, 0, 0x53053053}, 0);
  EXPECT_EQ(args(), "0x1000, 0x20, 0, 0x53053053");
  StructBytes sx(256);
  sx.set<uint32_t>(0, 0x1fff).set<uint64_t>(8, 0x2000).set<uint16_t>(28, 040755).set<uint64_t>(40, 4096);
  builder_.call("statx", {kAtFdcwd, 0x1000, 0x900, 0xfff, 0x2000}, 0).str(1, "/").data(4, sx.str());
  EXPECT_EQ(args(),
            R"(AT_FDCWD, "/", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW|AT_NO_AUTOMOUNT, STATX_ALL, )"
            R"({stx_mask=STATX_ALL|STATX_MNT_ID, stx_attributes=STATX_ATTR_MOUNT_ROOT, stx_mode=S_IFDIR|0755, stx_size=4096, ...})");
}

TEST_F(DecodeTest, UnknownSyscallNumberRendersSafely) {
  builder_.call_nr(999, {1, 2, 3, 4, 5, 6}, -38);
  EXPECT_EQ(decoder_.syscall_name(builder_.last()), "syscall_999");
  EXPECT_EQ(args(), "0x1, 0x2, 0x3, 0x4, 0x5, 0x6");
  EXPECT_EQ(args(ArgStyle::table), "arg0=0x1, arg1=0x2, arg2=0x3, arg3=0x4, arg4=0x5, arg5=0x6");
  EXPECT_EQ(ret(), "-1 ENOSYS (Function not implemented)");
  builder_.call_nr(0xfffffff0u, {}, 0);
  EXPECT_EQ(decoder_.syscall_name(builder_.last()), "syscall_4294967280");
}

TEST_F(DecodeTest, CatalogueMissingEntriesAndUnknownSetsRenderSafely) {
  // A catalogue from a hypothetical newer recorder: a set and struct type this
  // decoder does not know, and too few parameters for the args present.
  format::TraceMetadata m = testing::test_metadata();
  std::vector<format::SyscallSpec> specs;
  format::SyscallSpec s;
  s.nr = 7;
  s.name = "frobnicate";
  const auto param = [](std::string name, std::string c_type, format::ArgKind kind) {
    format::ParamSpec p;
    p.name = std::move(name);
    p.c_type = std::move(c_type);
    p.kind = kind;
    return p;
  };
  format::ParamSpec p1 = param("how", "int", format::ArgKind::flags);
  p1.flag_set = "frob_flags";
  format::ParamSpec p2 = param("what", "struct frob *", format::ArgKind::struct_in);
  p2.struct_type = "frob";
  p2.struct_size = 24;
  s.params = {p1, p2};
  specs.push_back(s);
  m.catalogue = format::Catalogue(format::Arch::x86_64, specs);
  const Decoder d(m);
  EventBuilder b(m.catalogue);
  b.call_nr(7, {0x30, 0x1000, 99}, 0).data(1, "\x1b[31mxxxx");
  std::string out;
  d.append_args(out, b.last(), ArgStyle::table);
  EXPECT_EQ(out, "how=0x30, what=0x1000");
  b.call_nr(8, {1}, 0);
  out.clear();
  d.append_args(out, b.last(), ArgStyle::strace);
  EXPECT_EQ(d.syscall_name(b.last()), "syscall_8");
}

TEST_F(DecodeTest, FieldAccessor) {
  builder_.as(4242, "cat").call("openat", {kAtFdcwd, 0x1000, 0, 0}, -2).str(1, "/tmp/file-3240");
  const auto e = builder_.last();
  auto field = [&](std::string_view name) {
    std::string out;
    EXPECT_TRUE(decoder_.field(out, e, name)) << name;
    return out;
  };
  EXPECT_EQ(field("syscall"), "openat");
  EXPECT_EQ(field("comm"), "cat");
  EXPECT_EQ(field("pid"), "4242");
  EXPECT_EQ(field("errno"), "ENOENT");
  EXPECT_EQ(field("path"), "/tmp/file-3240");
  EXPECT_EQ(field("filename"), "\"/tmp/file-3240\"");
  EXPECT_EQ(field("flags"), "O_RDONLY");
  EXPECT_EQ(field("ret"), "-1 ENOENT (No such file or directory)");
  std::string out;
  EXPECT_FALSE(decoder_.field(out, e, std::string_view("nosuchfield")));
  EXPECT_EQ(decoder_.param_count(e), 4u);
  EXPECT_EQ(decoder_.param_name(e, 1), "filename");
}

// Every set the catalogue names has a decoder, on both architectures.
TEST(FlagSetsTest, EveryCatalogueSetIsImplemented) {
  for (Arch arch : {Arch::x86_64, Arch::aarch64}) {
    std::set<std::string> missing;
    for (const auto& s : format::builtin_catalogue(arch).syscalls())
      for (const auto& p : s.params)
        if (!p.flag_set.empty() && !find_flag_set(p.flag_set, arch)) missing.insert(p.flag_set);
    EXPECT_TRUE(missing.empty()) << "no decoder for: " << ::testing::PrintToString(missing);
  }
}

// Every structure type the catalogue names decodes from zeroed bytes of its size.
// A message header with no parts: the header alone.
TEST(StructDecodeTest, MessageHeaderWithoutItsParts) {
  for (Arch arch : {Arch::x86_64, Arch::aarch64}) {
    std::string out;
    EXPECT_TRUE(append_struct(out, "msghdr", testing::MessageCapture{}.str(), StructContext{arch, 32, 64}));
    EXPECT_EQ(out, "{msg_name=NULL, msg_namelen=0, msg_iov=NULL, msg_iovlen=0, msg_controllen=0, msg_flags=0}");
  }
}

TEST(StructDecodeTest, EveryCatalogueStructIsImplemented) {
  for (Arch arch : {Arch::x86_64, Arch::aarch64}) {
    std::set<std::string> missing;
    StructContext ctx{arch, 32, 64};
    for (const auto& s : format::builtin_catalogue(arch).syscalls()) {
      for (const auto& p : s.params) {
        if (p.struct_type.empty() || p.struct_size == 0) continue;
        std::string out;
        std::string zeros(p.struct_size, '\0');
        // A message header's capture carries its parts (struct tl_msghdr_head): none here.
        if (p.struct_type == "msghdr") zeros = testing::MessageCapture{}.str();
        const bool ok = (p.kind == format::ArgKind::struct_array_in || p.kind == format::ArgKind::struct_array_out)
                            ? append_struct_array(out, p.struct_type, p.struct_size, 1, zeros, false, ctx)
                            : append_struct(out, p.struct_type, zeros, ctx);
        if (!ok) missing.insert(p.struct_type);
      }
    }
    EXPECT_TRUE(missing.empty()) << arch_name(arch) << ": no decoder for: " << ::testing::PrintToString(missing);
  }
}

TEST(FlagSetsTest, OpenFlagsDifferPerArch) {
  std::string x86, arm;
  append_flags(x86, "open_flags", Arch::x86_64, 0200000 | 02000000);
  append_flags(arm, "open_flags", Arch::aarch64, 040000 | 02000000);
  EXPECT_EQ(x86, "O_RDONLY|O_CLOEXEC|O_DIRECTORY");
  EXPECT_EQ(arm, "O_RDONLY|O_CLOEXEC|O_DIRECTORY");
  std::string unknown;
  append_flags(unknown, "no_such_set", Arch::x86_64, 0x42);
  EXPECT_EQ(unknown, "0x42");
  std::string leftover;
  append_flags(leftover, "mmap_prot", Arch::x86_64, 0x1 | 0x100);
  EXPECT_EQ(leftover, "PROT_READ|0x100");
  std::string modes;
  append_mode(modes, 0100755);
  EXPECT_EQ(modes, "S_IFREG|0755");
}

// A trace's catalogue comes from the file: a statx whose flags name a set
// this decoder does not have (found by the catalogue fuzzer: it was
// dereferenced as if it existed) shows the flags in hex.
TEST(DecodeHostileCatalogue, StatxFlagsOfAnUnknownSetAreShownInHex) {
  format::TraceMetadata metadata;
  format::ParamSpec flags;
  flags.name = "flags";
  flags.c_type = "unsigned int";
  flags.kind = format::ArgKind::flags;
  flags.flag_set = "no_such_set";
  format::SyscallSpec statx{.nr = 332, .name = "statx", .params = {flags}};
  metadata.catalogue = format::Catalogue(Arch::x86_64, {statx});
  Decoder decoder(metadata);
  format::Event e;
  e.nr = 332;
  e.arg_count = 1;
  e.args = {0x1100, 0, 0, 0, 0, 0};  // AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, no sync bit
  std::string out;
  decoder.append_args(out, e, ArgStyle::strace);
  EXPECT_EQ(out, "0x1100");
  out.clear();
  e.args[0] = 0;
  decoder.append_args(out, e, ArgStyle::strace);
  EXPECT_EQ(out, "0x0");
}

// Found by the catalogue fuzzer: a file's catalogue whose clone declares no
// parameter made the strace form read a parameter that is not there.
TEST(DecodeHostileCatalogue, ACloneWithoutParametersDecodesToNothing) {
  format::TraceMetadata metadata;
  format::SyscallSpec clone{.nr = 56, .name = "clone", .params = {}};
  metadata.catalogue = format::Catalogue(Arch::x86_64, {clone});
  Decoder decoder(metadata);
  format::Event e;
  e.nr = 56;
  e.args = {0x11, 0, 0, 0, 0, 0};
  std::string out;
  decoder.append_args(out, e, ArgStyle::strace);
  EXPECT_EQ(out, "");
  decoder.append_args(out, e, ArgStyle::table);
  EXPECT_EQ(out, "");
}

class Arm64DecodeTest : public DecodeTest {
 protected:
  Arm64DecodeTest() : DecodeTest(Arch::aarch64) {}
};

TEST_F(Arm64DecodeTest, StatLayoutAndOpenFlags) {
  builder_.call("fstat", {3, 0x2000}, 0).data(1, testing::stat_bytes(Arch::aarch64, 0100600, 5));
  EXPECT_EQ(args(), "3, {st_mode=S_IFREG|0600, st_size=5, ...}");
  builder_.call("openat", {kAtFdcwd, 0x1000, 040000 | 04000 | 02000000, 0}, 3).str(1, "/bin");
  EXPECT_EQ(args(), R"(AT_FDCWD, "/bin", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY)");
  // aarch64 aligns epoll_event: data at offset 8.
  builder_.call("epoll_ctl", {5, 1, 3, 0x1000}, 0).data(3, StructBytes(16).set<uint32_t>(0, 1).set<uint64_t>(8, 7).str());
  EXPECT_EQ(args(), "5, EPOLL_CTL_ADD, 3, {events=EPOLLIN, data={u32=7, u64=7}}");
  // arm64 clone: tls before child_tidptr.
  builder_.call("clone", {0x1200011, 0, 0, 0, 0x7fa8f4f8ea10}, 9);
  EXPECT_EQ(args(), "child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7fa8f4f8ea10");
}

}  // namespace
}  // namespace traceloop::tools
