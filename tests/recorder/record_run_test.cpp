// Integration tests: traceloop-record run on real programs, asserting on the
// decoded trace (format::load_trace + the file's catalogue).
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <cstdio>

#include "recorder/cgroup.h"
#include "format/metadata.h"
#include "recorder/run_command.h"
#include "format/version_text.h"
#include "tests/recorder/recorder_test_util.h"
#include "tests/support/file_bytes.h"
#include "tests/support/frame_walk.h"

namespace traceloop::recorder {
namespace {

using namespace traceloop::recorder::testing;
using format::CallState;

TEST(RecordRun, MultiplicationDemo) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "demo.tl", {},
                    {"busybox", "sh", "-c",
                     "RANDOM=output ; echo \"3*7*2\" | bc > /tmp/file-$RANDOM ; cat /tmp/file-$RANDOM"});
  const auto& t = rec.trace;
  EXPECT_EQ(rec.result.status, 1) << rec.result.err;  // cat fails, like the shell
  EXPECT_NE(rec.result.err.find("can't open '/tmp/file-"), std::string::npos) << rec.result.err;

  bool wrote_42 = false;
  for (const auto* e : events_named(t, "write")) {
    auto v = e->view();
    if (capture_string(v, 1) == "42\n" && v.ret == 3) wrote_42 = v.comm == "bc";
  }
  EXPECT_TRUE(wrote_42) << dump(t);

  std::string written, failed;
  for (const char* name : {"open", "openat"}) {
    for (const auto* e : events_named(t, name)) {
      auto v = e->view();
      unsigned path_arg = std::string(name) == "openat" ? 1 : 0;
      std::string path = capture_string(v, path_arg);
      if (path.rfind("/tmp/file-", 0) != 0) continue;
      if (v.state == CallState::returned && v.ret >= 0) written = path;
      if (v.state == CallState::returned && v.ret == -ENOENT) failed = path;
    }
  }
  EXPECT_FALSE(written.empty()) << dump(t);
  EXPECT_FALSE(failed.empty()) << dump(t);
  EXPECT_NE(written, failed);
  if (!written.empty()) {
    std::ifstream in(written);
    std::string content((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(content, "42\n");
    ::unlink(written.c_str());
  }
  auto exits = events_named(t, "exit_group");
  ASSERT_GE(exits.size(), 3u) << dump(t);  // sh, bc, cat
  for (const auto* e : exits) EXPECT_EQ(e->view().state, CallState::never_returned);
  // metadata of a run
  EXPECT_EQ(t.metadata.capture.mode, "run");
  EXPECT_EQ(t.metadata.capture.max_data_bytes, 256u);
  ASSERT_EQ(t.metadata.containers.size(), 1u);
  EXPECT_GT(t.metadata.containers[0].cgroup_id, 0u);
  EXPECT_EQ(t.metadata.command.at(0), "busybox");
  ASSERT_TRUE(t.counters.has_value());
  EXPECT_EQ(t.counters->events_recorded, t.events.size());
  EXPECT_EQ(t.counters->events_lost, 0u);
}

TEST(RecordRun, MultiThreadedProgram) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "threads.tl", {}, {helper_binary("tl_threads").string(), "4"});
  EXPECT_EQ(rec.result.status, 0) << rec.result.err;
  std::set<uint32_t> tids, pids;
  std::set<std::string> paths;
  for (const auto* name : {"openat", "open"}) {
    for (const auto* e : events_named(rec.trace, name)) {
      auto v = e->view();
      std::string path = capture_string(v, std::string(name) == "openat" ? 1 : 0);
      if (path.rfind("/nonexistent/tl-thread-", 0) != 0) continue;
      paths.insert(path);
      tids.insert(v.tid);
      pids.insert(v.pid);
      EXPECT_EQ(v.ret, -ENOENT);
      EXPECT_NE(v.tid, v.pid);  // made by a thread, not the main thread
    }
  }
  EXPECT_EQ(paths.size(), 4u) << dump(rec.trace);
  EXPECT_EQ(tids.size(), 4u);
  EXPECT_EQ(pids.size(), 1u);
  // every thread's own calls are paired: none left unfinished
  for (const auto& e : rec.trace.events) {
    if (name_of(rec.trace, e) != "exit" && name_of(rec.trace, e) != "exit_group") {
      EXPECT_NE(e.view().state, CallState::unfinished) << name_of(rec.trace, e);
    }
  }
}

TEST(RecordRun, ForkExecChain) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "chain.tl", {},
                    {"/bin/sh", "-c", "/bin/true; /bin/sh -c '/bin/echo chain-ok; /bin/true'; /bin/true"});
  EXPECT_EQ(rec.result.status, 0) << rec.result.err;
  EXPECT_EQ(rec.result.out, "chain-ok\n");
  const auto& t = rec.trace;
  uint32_t root = 0, echo_pid = 0;
  int execs = 0;
  for (const auto* e : events_named(t, "execve")) {
    auto v = e->view();
    if (v.state != CallState::returned || v.ret != 0) continue;
    ++execs;
    if (root == 0) root = v.pid;
    if (capture_string(v, 0) == "/bin/echo") echo_pid = v.pid;
  }
  EXPECT_GE(execs, 4) << dump(t);  // sh, true, sh, echo (true...)
  ASSERT_NE(echo_pid, 0u) << dump(t);
  EXPECT_NE(echo_pid, root);
  bool echo_wrote = false;
  for (const auto* e : events_named(t, "write"))
    if (e->view().pid == echo_pid && capture_string(e->view(), 1) == "chain-ok\n") echo_wrote = true;
  EXPECT_TRUE(echo_wrote);
  // the process table links echo to the root through its parents
  std::map<uint32_t, const format::ProcessInfo*> table;
  for (const auto& p : t.processes) table[p.pid] = &p;
  ASSERT_TRUE(table.count(echo_pid));
  const auto* echo = table[echo_pid];
  ASSERT_GE(echo->argv.size(), 2u);
  EXPECT_EQ(echo->argv[0], "/bin/echo");
  EXPECT_EQ(echo->argv[1], "chain-ok");
  EXPECT_EQ(echo->comm, "echo");
  uint32_t p = echo_pid;
  int hops = 0;
  while (p != root && table.count(p) && hops < 10) {
    p = table[p]->ppid;
    ++hops;
  }
  EXPECT_EQ(p, root);
  EXPECT_GE(hops, 2);  // echo <- inner sh <- outer sh
  ASSERT_TRUE(table.count(root));
  EXPECT_NE(table[root]->ppid, 0u);
}

TEST(RecordRun, PipeReadCapturedAtExitWithReturnedLength) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "pipe.tl", {}, {"/bin/sh", "-c", "echo hello-pipe | cat"});
  EXPECT_EQ(rec.result.out, "hello-pipe\n");
  bool found = false;
  for (const auto* e : events_named(rec.trace, "read")) {
    auto v = e->view();
    if (v.comm != "cat" || v.ret != 11) continue;
    const auto* c = v.capture_for(1);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->bytes, "hello-pipe\n");
    EXPECT_EQ(c->size, 11u);
    EXPECT_GT(v.args[2], 11u);  // the buffer was larger than what was read
    found = true;
  }
  EXPECT_TRUE(found) << dump(rec.trace);
  // pipe2's fds come back as a structure filled at exit
  bool pipe_seen = false;
  for (const char* name : {"pipe", "pipe2"})
    for (const auto* e : events_named(rec.trace, name))
      if (const auto* c = e->view().capture_for(0); c && c->bytes.size() == 8) pipe_seen = true;
  EXPECT_TRUE(pipe_seen) << dump(rec.trace);
}

TEST(RecordRun, PathInAnUntouchedPageIsReadAgainAtExit) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "cold.tl", {}, {helper_binary("tl_cold_path").string()});
  EXPECT_EQ(rec.result.status, 0);
  bool found = false;
  for (const auto* e : events_named(rec.trace, "openat")) {
    auto v = e->view();
    if (v.ret != -2) continue;
    EXPECT_EQ(capture_string(v, 1), "/proc/self/traceloop-cold-path-probe") << dump(rec.trace);
    found = true;
  }
  EXPECT_TRUE(found) << dump(rec.trace);
}

// prctl's arg2 is a string for PR_SET_NAME only: captured there (read again
// at exit when its page was not there at entry), and for no other option.
TEST(RecordRun, PrctlNameCapturedOnlyForPrSetName) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "prctl.tl", {}, {helper_binary("tl_prctl").string()});
  EXPECT_EQ(rec.result.status, 0) << rec.result.err;
  std::vector<std::string> names;
  int dumpable_calls = 0;
  for (const auto* e : events_named(rec.trace, "prctl")) {
    auto v = e->view();
    if (v.args[0] == PR_SET_NAME) {
      names.push_back(capture_string(v, 1));
    } else if (v.args[0] == PR_SET_DUMPABLE) {
      ++dumpable_calls;
      EXPECT_EQ(v.capture_for(1), nullptr) << "arg2 " << v.args[1] << " is no string here";
    }
  }
  EXPECT_EQ(names, (std::vector<std::string>{"tl-cond-name", "tl-cold-name"})) << dump(rec.trace);
  EXPECT_EQ(dumpable_calls, 2) << dump(rec.trace);
}

TEST(RecordRun, StructuresFilledAtExit) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "structs.tl", {}, {"/bin/sh", "-c", "ls -l / > /dev/null; uname -a > /dev/null"});
  const auto& t = rec.trace;
  const auto& cat = t.metadata.catalogue;
  // stat-like: the whole structure, as the catalogue sizes it
  int stats = 0;
  for (const char* name : {"statx", "newfstatat", "fstat", "lstat", "stat"}) {
    const auto* spec = cat.find(name);
    if (spec == nullptr) continue;
    for (const auto* e : events_named(t, name)) {
      auto v = e->view();
      if (v.state != CallState::returned || v.ret != 0) continue;
      for (unsigned i = 0; i < spec->params.size(); ++i) {
        if (spec->params[i].kind != format::ArgKind::struct_out) continue;
        const auto* c = v.capture_for(i);
        ASSERT_NE(c, nullptr) << name;
        EXPECT_EQ(c->size, spec->params[i].struct_size);
        EXPECT_EQ(c->bytes.size(), std::min<uint32_t>(c->size, 256));
        ++stats;
      }
    }
  }
  EXPECT_GT(stats, 5) << dump(t);
  // uname's 390-byte structure is cut at the 256-byte limit
  auto unames = events_named(t, "uname");
  ASSERT_FALSE(unames.empty());
  const auto* u = unames.back()->view().capture_for(0);
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->size, 390u);
  EXPECT_EQ(u->bytes.size(), 256u);
  EXPECT_EQ(u->bytes.substr(0, 5), "Linux");
  // getdents64 (ls reads / in one call): the records, as many bytes as
  // returned (up to the limit), and the size says how many records were left
  // out: with those kept whole, every entry of / and its . and ..
  size_t entries_of_root = 2;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/")) ++entries_of_root;
  bool dents = false;
  for (const auto* e : events_named(t, "getdents64")) {
    auto v = e->view();
    if (v.ret <= 0) continue;
    const auto* c = v.capture_for(1);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->bytes.size(), std::min<size_t>(static_cast<size_t>(v.ret), 256));
    size_t whole = 0;
    for (size_t off = 0; off + 19 <= c->bytes.size();) {
      uint16_t reclen = 0;
      std::memcpy(&reclen, c->bytes.data() + off + 16, sizeof(reclen));
      if (reclen == 0 || off + reclen > c->bytes.size()) break;
      off += reclen;
      ++whole;
    }
    EXPECT_EQ(whole + (c->size - c->bytes.size()), entries_of_root) << "ret " << v.ret;
    if (static_cast<size_t>(v.ret) <= 256) {
      EXPECT_EQ(c->size, static_cast<uint32_t>(v.ret));
    }
    dents = true;
  }
  EXPECT_TRUE(dents);
  // wait4: the status word of the child the shell waited for
  bool waited = false;
  for (const auto* e : events_named(t, "wait4")) {
    auto v = e->view();
    if (v.ret <= 0) continue;
    const auto* c = v.capture_for(1);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->bytes.size(), 4u);
    waited = true;
  }
  EXPECT_TRUE(waited) << dump(t);
}

TEST(RecordRun, SockaddrOfConnect) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "connect.tl", {},
                    {"python3", "-c", "import socket; s = socket.socket(); print(s.connect_ex(('127.0.0.1', 1)))"});
  // Other connects may come first (a libc or Python start-up reaching an
  // AF_UNIX socket such as nscd's on some hosts): look at the AF_INET one.
  int inet_connects = 0;
  for (const auto* e : events_named(rec.trace, "connect")) {
    auto v = e->view();
    const auto* c = v.capture_for(1);
    ASSERT_NE(c, nullptr) << dump(rec.trace);
    ASSERT_GE(c->bytes.size(), 2u);
    if (static_cast<uint8_t>(c->bytes[0]) != AF_INET) continue;  // sa_family, little endian
    ++inet_connects;
    ASSERT_EQ(c->bytes.size(), 16u);  // sockaddr_in, length from addrlen
    EXPECT_EQ(static_cast<uint8_t>(c->bytes[2]), 0);  // port 1, network order
    EXPECT_EQ(static_cast<uint8_t>(c->bytes[3]), 1);
    EXPECT_EQ(c->bytes.substr(4, 4), std::string("\x7f\x00\x00\x01", 4));
    EXPECT_EQ(v.ret, -ECONNREFUSED);
  }
  EXPECT_EQ(inet_connects, 1) << dump(rec.trace);
}

// A sockaddr filled by the kernel, whose length the BPF side reads behind the
// length pointer at exit (getsockname, accept).
TEST(RecordRun, SockaddrFilledAtExitWithTheLengthBehindAPointer) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "sockname.tl", {},
                    {"python3", "-c",
                     "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1); "
                     "c = socket.create_connection(s.getsockname()); a, _ = s.accept(); print(s.getsockname()[1])"});
  ASSERT_EQ(rec.result.status, 0) << rec.result.err;
  const int port = std::stoi(rec.result.out);
  const std::string port_bytes{static_cast<char>(port >> 8), static_cast<char>(port & 0xff)};
  int names = 0, accepts = 0;
  for (const auto* e : events_named(rec.trace, "getsockname")) {
    auto v = e->view();
    const auto* c = v.capture_for(1);
    if (v.ret != 0 || c == nullptr || c->bytes.size() != 16 || static_cast<uint8_t>(c->bytes[0]) != AF_INET) continue;
    EXPECT_EQ(c->bytes.substr(4, 4), std::string("\x7f\x00\x00\x01", 4));
    if (c->bytes.substr(2, 2) == port_bytes) ++names;  // the listener's (Python asks for the client's too)
  }
  for (const char* name : {"accept", "accept4"})
    for (const auto* e : events_named(rec.trace, name)) {
      auto v = e->view();
      const auto* c = v.capture_for(1);
      if (v.ret < 0 || c == nullptr) continue;
      EXPECT_EQ(c->bytes.size(), 16u);  // the peer's sockaddr_in
      EXPECT_EQ(c->bytes.substr(4, 4), std::string("\x7f\x00\x00\x01", 4));
      ++accepts;
    }
  EXPECT_GE(names, 1) << dump(rec.trace);
  EXPECT_EQ(accepts, 1) << dump(rec.trace);
}

TEST(RecordRun, SyscallFilter) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "filter.tl", {"-e", "trace=openat,write,execve"},
                    {"/bin/sh", "-c", "cat /etc/hostname > /dev/null; echo filtered"});
  EXPECT_EQ(rec.result.status, 0);
  std::map<std::string, int> seen;
  for (const auto& e : rec.trace.events) seen[name_of(rec.trace, e)]++;
  EXPECT_EQ(seen.size(), 3u) << dump(rec.trace);
  EXPECT_GT(seen["openat"], 0);
  EXPECT_GT(seen["write"], 0);
  EXPECT_GT(seen["execve"], 0);
  // The header says what was asked.
  EXPECT_EQ(rec.trace.metadata.capture.syscall_filters, (std::vector<std::string>{"openat,write,execve"}));
}

// A set without execve records its calls: the kernel still traces the
// command's execve, where the trace starts, and the recorder drops it.
TEST(RecordRun, FilterWithoutExecveStillRecordsTheCommand) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "getppid.tl", {"-e", "trace=getppid"}, {"/bin/sh", "-c", "echo $PPID"});
  EXPECT_EQ(rec.result.status, 0);
  ASSERT_FALSE(rec.trace.events.empty()) << rec.result.err;
  for (const auto& e : rec.trace.events) EXPECT_EQ(name_of(rec.trace, e), "getppid");
  // The process table still knows the command (from the execve it saw).
  ASSERT_FALSE(rec.trace.processes.empty());
  EXPECT_EQ(rec.trace.processes.front().argv.at(0), "/bin/sh");
}

TEST(RecordRun, OldSyscallFiltersSpellingStillWorksAndSaysSo) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "old.tl", {"--syscall-filters", "getppid"}, {"/bin/sh", "-c", "echo $PPID"});
  EXPECT_EQ(rec.result.status, 0);
  EXPECT_NE(rec.result.err.find("--syscall-filters is deprecated; use -e trace=NAMES"), std::string::npos)
      << rec.result.err;
  ASSERT_FALSE(rec.trace.events.empty());
  for (const auto& e : rec.trace.events) EXPECT_EQ(name_of(rec.trace, e), "getppid");
  EXPECT_EQ(rec.trace.metadata.capture.syscall_filters, (std::vector<std::string>{"getppid"}));
}

TEST(RecordRun, ClassesAndNegationDecideInTheKernel) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "class.tl", {"-e", "trace=!%memory,%signal"},
                    {"/bin/sh", "-c", "cat /etc/hostname > /dev/null"});
  EXPECT_EQ(rec.result.status, 0);
  ASSERT_FALSE(rec.trace.events.empty());
  for (const char* left_out : {"mmap", "munmap", "brk", "mprotect", "rt_sigaction", "rt_sigprocmask"})
    EXPECT_TRUE(events_named(rec.trace, left_out).empty()) << left_out;
  EXPECT_FALSE(events_named(rec.trace, "openat").empty());
  EXPECT_EQ(rec.trace.metadata.capture.syscall_filters, (std::vector<std::string>{"!%memory,%signal"}));
}

TEST(RecordRun, StatusFiltersAreRefusedWhenRecording) {
  TempDir dir;
  auto r = run_process({recorder_binary().string(), "run", "-o", (dir.path() / "x.tl").string(), "-e",
                        "status=failed", "--", "true"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("only -e trace= decides what is recorded"), std::string::npos) << r.err;
}

TEST(RecordRun, UnknownSyscallInFilterIsAnError) {
  TempDir dir;
  auto r = run_process({recorder_binary().string(), "run", "-o", (dir.path() / "x.tl").string(),
                        "-e", "trace=openat,no_such_call", "--", "true"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unknown syscall 'no_such_call'"), std::string::npos) << r.err;
}

TEST(RecordRun, NoDataCapturesNoBuffers) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "nodata.tl", {"--no-data"}, {"/bin/sh", "-c", "cat /etc/hostname > /dev/null"});
  EXPECT_FALSE(rec.trace.events.empty());
  for (const auto& e : rec.trace.events) EXPECT_TRUE(e.captures.empty()) << name_of(rec.trace, e);
  EXPECT_FALSE(events_named(rec.trace, "openat").empty());
  EXPECT_FALSE(rec.trace.metadata.capture.capture_data);
}

TEST(RecordRun, MaxDataTruncates) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "max.tl", {"--max-data", "8"}, {"/bin/sh", "-c", "echo 0123456789abcdef"});
  bool found = false;
  for (const auto* e : events_named(rec.trace, "write")) {
    const auto* c = e->view().capture_for(1);
    if (c == nullptr) continue;
    EXPECT_EQ(c->bytes, "01234567");
    EXPECT_EQ(c->size, 17u);
    EXPECT_TRUE(c->truncated());
    found = true;
  }
  EXPECT_TRUE(found) << dump(rec.trace);
  // a path longer than the limit: size says "longer" (bytes + 1)
  for (const auto* e : events_named(rec.trace, "execve")) {
    const auto* c = e->view().capture_for(0);
    ASSERT_NE(c, nullptr);
    EXPECT_LE(c->bytes.size(), 8u);
  }
}

// A descendant still blocked in a call when the command ends: the call is
// only in its thread's BPF store, and the trace shows it unfinished.
TEST(RecordRun, CallInFlightAtTheEndIsUnfinished) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "inflight.tl", {},
                    {"/bin/sh", "-c", "sleep 2 </dev/null >/dev/null 2>&1 & sleep 0.3; echo started"});
  EXPECT_EQ(rec.result.status, 0);
  EXPECT_EQ(rec.result.out, "started\n");
  int unfinished_sleeps = 0;
  for (const char* name : {"clock_nanosleep", "nanosleep"})
    for (const auto* e : events_named(rec.trace, name)) {
      auto v = e->view();
      if (v.state == CallState::unfinished) {
        ++unfinished_sleeps;
        EXPECT_EQ(v.comm, "sleep");
        EXPECT_GT(v.enter_ns, 0u);
        EXPECT_EQ(v.exit_ns, 0u);
      }
    }
  // the 2 s sleep is in flight; the 0.3 s one returned
  EXPECT_EQ(unfinished_sleeps, 1) << dump(rec.trace);
}

// Entry data larger than a thread's store keeps (TL_STASH_DATA): the enter
// record goes to the ring at entry and is paired with the exit record.
TEST(RecordRun, LargeEntryDataIsPairedFromTwoRecords) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "large.tl", {"--max-data", "4096"},
                    {"/bin/sh", "-c", "head -c 3000 /dev/zero | tr '\\0' x > /dev/null"});
  EXPECT_EQ(rec.result.status, 0);
  bool found = false;
  for (const auto* e : events_named(rec.trace, "write")) {
    auto v = e->view();
    if (v.comm != "tr" || v.ret != 3000) continue;
    EXPECT_EQ(v.state, CallState::returned);
    const auto* c = v.capture_for(1);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->bytes, std::string(3000, 'x'));
    EXPECT_GT(v.exit_ns, v.enter_ns);
    found = true;
  }
  EXPECT_TRUE(found) << dump(rec.trace);
}

TEST(RecordRun, RawTracepointFallback) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  RunOptions options;
  options.command = {"/bin/sh", "-c", "echo raw-path > /dev/null"};
  options.output = dir.path() / "raw.tl";
  options.force_raw_tracepoint = true;
  auto r = run_traced(options);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->raw_tracepoint);
  auto t = format::load_trace(*options.output);
  ASSERT_TRUE(t.ok());
  bool found = false;
  for (const auto* e : events_named(*t, "write")) found |= capture_string(e->view(), 1) == "raw-path\n";
  EXPECT_TRUE(found) << dump(*t);
  // args read through probe reads equal what the program passed
  for (const auto* e : events_named(*t, "write")) {
    if (capture_string(e->view(), 1) == "raw-path\n") {
      EXPECT_EQ(e->view().args[2], 9u);
    }
  }
}

TEST(RecordRun, CommandLineFlagsReachTheRecorder) {
  // --raw-tracepoint, --ring-size and -v through the real command line.
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "flags.tl", {"-v", "--raw-tracepoint", "--ring-size", "65536"},
                    {"/bin/sh", "-c", "echo flags > /dev/null"});
  EXPECT_EQ(rec.result.status, 0) << rec.result.err;
  EXPECT_NE(rec.result.err.find("traceloop-record: "), std::string::npos) << rec.result.err;
  EXPECT_NE(rec.result.err.find(" events, 0 lost (BPF counted 0), raw tracepoints"), std::string::npos)
      << rec.result.err;
  EXPECT_EQ(rec.trace.metadata.capture.ring_bytes, 65536u);
  bool found = false;
  for (const auto* e : events_named(rec.trace, "write")) found |= capture_string(e->view(), 1) == "flags\n";
  EXPECT_TRUE(found) << dump(rec.trace);
}

TEST(RecordRun, TimesInMicrosecondsByDefaultAndCatalogueOfTheCallsMade) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "us.tl", {}, {"/bin/sh", "-c", "cat /etc/hostname > /dev/null"});
  const auto& t = rec.trace;
  ASSERT_FALSE(t.events.empty());
  EXPECT_EQ(t.metadata.capture.timestamp_resolution_ns, 1000u);
  for (const auto& e : t.events) {
    EXPECT_EQ(e.fields.enter_ns % 1000, 0u);
    EXPECT_EQ(e.fields.exit_ns % 1000, 0u);
  }
  // The command ended: the file was compacted to the syscalls it made.
  std::set<uint32_t> used;
  for (const auto& e : t.events) used.insert(e.fields.nr);
  EXPECT_EQ(t.metadata.catalogue.syscalls().size(), used.size());
  for (const uint32_t nr : used) EXPECT_NE(t.metadata.catalogue.find(nr), nullptr) << nr;
  EXPECT_LT(t.metadata.catalogue.syscalls().size(),
            format::builtin_catalogue(t.metadata.catalogue.arch()).syscalls().size() / 4);
  // ... and its events recompressed in LZMA2, smaller than zstd on them
  // (their captured bytes, if many, in captures frames after them).
  const auto codecs = traceloop::testing::frame_codecs(traceloop::testing::read_file(dir.path() / "us.tl"));
  EXPECT_EQ(codecs.at(format::FrameType::events).count(format::FrameCodec::zstd), 0u);
  if (codecs.count(format::FrameType::captures) != 0) {
    EXPECT_EQ(codecs.at(format::FrameType::captures), std::set<format::FrameCodec>{format::FrameCodec::lzma2_stream});
  }
}

// A `run` trace cut short (a partial upload, a full disk) still shows its
// events: compaction keeps them apart from the bytes they captured. The
// cut of the first 20,000 bytes of such a trace once showed none of them.
TEST(RecordRun, ACompactedTraceCutShortStillShowsItsEvents) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "ls.tl", {}, {"/usr/bin/ls", "-l", "/usr/bin"});
  const size_t all = rec.trace.events.size();
  ASSERT_GT(all, 1000u);
  const std::string file = traceloop::testing::read_file(dir.path() / "ls.tl");
  ASSERT_GT(file.size(), 25000u);
  const std::string tl_show = (binary_dir() / "tools" / "tl-show").string();
  for (const size_t bytes : {size_t{20000}, file.size() * 63 / 100, file.size() * 90 / 100}) {
    SCOPED_TRACE("cut at " + std::to_string(bytes) + " of " + std::to_string(file.size()));
    traceloop::testing::write_file(dir.path() / "cut.tl", std::string_view(file).substr(0, bytes));
    auto cut = format::load_trace(dir.path() / "cut.tl");
    ASSERT_TRUE(cut.ok()) << cut.error().message;
    EXPECT_EQ(cut->events.size(), all);
    const auto shown = run_process({tl_show, "--format", "strace", (dir.path() / "cut.tl").string()});
    EXPECT_EQ(shown.status, 0) << shown.err;
    EXPECT_GE(static_cast<size_t>(std::count(shown.out.begin(), shown.out.end(), '\n')), all) << shown.err;
    EXPECT_NE(shown.err.find("file is truncated"), std::string::npos) << shown.err;
    EXPECT_NE(shown.err.find("lost their captured data"), std::string::npos) << shown.err;
  }
}

TEST(RecordRun, NanosecondTimesOnRequest) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "ns.tl", {"--timestamp-resolution", "ns"},
                    {"/bin/sh", "-c", "cat /etc/hostname > /dev/null"});
  const auto& t = rec.trace;
  EXPECT_EQ(t.metadata.capture.timestamp_resolution_ns, 1u);
  size_t sub_us = 0;
  for (const auto& e : t.events) sub_us += e.fields.enter_ns % 1000 != 0;
  EXPECT_GT(sub_us, t.events.size() / 2) << "nanoseconds are kept";
  auto bad = run_process({recorder_binary().string(), "run", "-o", (dir.path() / "x.tl").string(),
                          "--timestamp-resolution", "fortnight", "--", "true"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("fortnight"), std::string::npos) << bad.err;
}

TEST(RecordRun, RingOverflowIsCountedAndMarked) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  RunOptions options;
  options.command = {helper_binary("tl_storm").string(), "300000"};
  options.output = dir.path() / "storm.tl";
  // Two pages: the storm overflows them. One page no longer holds the calls
  // the recorder's child makes before the execve (an fcntl per descriptor of
  // the recorder, one per BPF program and link among them) and the execve:
  // a trace without its execve has no calls at all.
  options.ring_bytes = 8192;
  auto r = run_traced(options);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exit_status, 0);
  const uint64_t bpf_lost = r->bpf.lost_total();
  EXPECT_GT(bpf_lost, 0u);
  EXPECT_EQ(r->lost_written, bpf_lost);
  auto t = format::load_trace(*options.output);
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_TRUE(t->counters.has_value());
  EXPECT_EQ(t->counters->events_lost, bpf_lost);
  EXPECT_FALSE(t->losses.empty());
  uint64_t marked = 0;
  for (const auto& [pos, loss] : t->losses) marked += loss.lost;
  EXPECT_EQ(marked, bpf_lost);
  uint64_t per_cpu = 0;
  for (uint64_t n : t->counters->lost_per_cpu) per_cpu += n;
  EXPECT_EQ(per_cpu, bpf_lost);
  // per cgroup: all losses belong to the run's cgroup
  uint64_t per_cgroup = 0;
  for (const auto& [id, n] : r->bpf.lost_per_cgroup) {
    EXPECT_EQ(id, t->metadata.containers.at(0).cgroup_id);
    per_cgroup += n;
  }
  EXPECT_EQ(per_cgroup, bpf_lost);
  EXPECT_GT(t->events.size(), 0u);
}

// Losses are counted in calls: recorded plus lost is exactly what the
// storm made (the trace holds its calls of one kind, and its execve, which
// comes before any loss).
TEST(RecordRun, RingOverflowLossesAndRecordedCallsAreTheCallsMade) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  RunOptions options;
  constexpr uint64_t kCalls = 300000;
  options.command = {helper_binary("tl_storm").string(), std::to_string(kCalls)};
  options.output = dir.path() / "storm.tl";
  options.ring_bytes = 4096;
  // execve: the trace starts with the command's
  options.syscall_filters = {"execve", "getppid"};
  auto r = run_traced(options);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto t = format::load_trace(*options.output);
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_FALSE(t->events.empty());
  EXPECT_EQ(t->metadata.catalogue.find(t->events.front().view().nr)->name, "execve");
  uint64_t recorded = 0;
  for (const auto& owned : t->events) {
    format::Event e = owned.view();
    if (t->metadata.catalogue.find(e.nr)->name != "getppid") continue;
    EXPECT_EQ(e.state, format::CallState::returned);
    ++recorded;
  }
  EXPECT_GT(t->counters->events_lost, 0u);
  // A lost task notice (the storm's end) is no lost call.
  EXPECT_EQ(recorded + t->counters->events_lost, kCalls);
  EXPECT_EQ(r->bpf.unattributed_total(), 0u);
}

TEST(RecordRun, ExitStatusIsTheCommands) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "st.tl", {}, {"/bin/sh", "-c", "exit 7"});
  EXPECT_EQ(rec.result.status, 7);
  auto killed = record(dir.path() / "kill.tl", {}, {"/bin/sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(killed.result.status, 128 + SIGTERM);
  EXPECT_FALSE(killed.trace.events.empty());  // published although CMD was killed
}

TEST(RecordRun, SignalIsForwardedAndTraceStillPublished) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto out = dir.path() / "sig.tl";
  auto started = dir.path() / "started";
  // the recorder gets SIGTERM once CMD runs (CMD says so with a file); CMD
  // must get it too, and the recorder exits with CMD's status
  auto r = run_process({"/bin/sh", "-c",
                        recorder_binary().string() + " run -o " + out.string() + " -- /bin/sh -c 'touch " +
                            started.string() + "; exec sleep 30' & rec=$!; while [ ! -e " + started.string() +
                            " ]; do sleep 0.05; done; kill -TERM $rec; wait $rec; echo status=$?"});
  EXPECT_NE(r.out.find("status=143"), std::string::npos) << r.out << r.err;
  auto t = format::load_trace(out);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_FALSE(events_named(*t, "execve").empty());
}

TEST(RecordRun, DefaultOutputName) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto r = run_process({"/bin/sh", "-c", "cd " + dir.path().string() + " && " + recorder_binary().string() +
                                             " run -- true && ls"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("traceloop-true-", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(".tl\n"), std::string::npos) << r.out;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    struct stat st {};
    ASSERT_EQ(::stat(entry.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
}

TEST(RecordRun, TraceStartsWithTheCommandsExecve) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  // The child is traced from birth: what it does for the recorder before its
  // execve (descriptors, signal mask, waiting for the go) is not the command's.
  for (int round = 0; round < 3; ++round) {
    auto rec = record(dir.path() / "true.tl", {}, {"/bin/true"});
    ASSERT_EQ(rec.result.status, 0) << rec.result.err;
    ASSERT_FALSE(rec.trace.events.empty());
    EXPECT_EQ(name_of(rec.trace, rec.trace.events.front()), "execve") << dump(rec.trace);
    EXPECT_EQ(capture_string(rec.trace.events.front().view(), 0), "/bin/true") << dump(rec.trace);
  }
}

TEST(RecordRun, VerboseReportsStartupAndEveryProgramsVerification) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto r = run_process({recorder_binary().string(), "run", "-v", "-o", (dir.path() / "v.tl").string(), "--", "true"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("traceloop-record: started the command after "), std::string::npos) << r.err;
  std::set<std::string> programs;
  std::istringstream lines(r.err);
  for (std::string line; std::getline(lines, line);) {
    unsigned insns = 0, verified = 0;
    double ms = -1;
    char name[64] = {};
    if (std::sscanf(line.c_str(), "traceloop-record: bpf %63[a-z_]: %u instructions, %u verified in %lf ms", name,
                    &insns, &verified, &ms) != 4)
      continue;
    programs.insert(name);
    EXPECT_GT(insns, 0u) << line;
    EXPECT_GE(verified, insns / 2) << line;  // every path walked at least once, loops unrolled
    EXPECT_GE(ms, 0.0) << line;
  }
  // one program per side, one for signal deliveries, one for fatal signals'
  // sending and one for task ends, whichever attach kind loaded, the
  // in-flight call iterator and the program that takes a cgroup's unreported
  // losses
  EXPECT_EQ(programs.size(), 7u) << r.err;
  EXPECT_TRUE(programs.count("tl_sys_enter_btf") + programs.count("tl_sys_enter_raw") == 1) << r.err;
  EXPECT_TRUE(programs.count("tl_signal_btf") + programs.count("tl_signal_raw") == 1) << r.err;
  EXPECT_TRUE(programs.count("tl_signal_generate_btf") + programs.count("tl_signal_generate_raw") == 1) << r.err;
  EXPECT_TRUE(programs.count("tl_task_exit_btf") + programs.count("tl_task_exit_raw") == 1) << r.err;
  EXPECT_EQ(programs.count("tl_in_flight"), 1u) << r.err;
  EXPECT_EQ(programs.count("tl_take_losses"), 1u) << r.err;
}

TEST(RecordRun, NonexistentCommand) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto r = run_process({recorder_binary().string(), "run", "-o", (dir.path() / "nx.tl").string(), "--",
                        "no-such-command-tl"});
  EXPECT_EQ(r.status, 127);
  EXPECT_NE(r.err.find("no-such-command-tl: command not found"), std::string::npos) << r.err;
}

TEST(RecordRun, UnwritableOutputFailsBeforeTracing) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto marker = dir.path() / "ran";
  auto r = run_process({recorder_binary().string(), "run", "-o", "/nonexistent-dir/x.tl", "--", "touch",
                        marker.string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("/nonexistent-dir/x.tl"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(marker));  // the command never ran
}

TEST(RecordRun, ADirectoryAsOutputFailsBeforeTracing) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto marker = dir.path() / "ran";
  auto r = run_process({recorder_binary().string(), "run", "-o", dir.path().string(), "--", "touch", marker.string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(marker));  // the command never ran
}

// A recorder killed with SIGKILL cannot flush, but its command must not go
// on untraced: the kernel kills the command with it.
TEST(RecordRun, CommandDiesWithAKilledRecorder) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto pid_file = dir.path() / "pid";
  const pid_t recorder = ::fork();
  ASSERT_GE(recorder, 0);
  if (recorder == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::execl(recorder_binary().c_str(), "traceloop-record", "run", "-o", (dir.path() / "k.tl").c_str(), "--",
            "/bin/sh", "-c", ("echo $$ > " + pid_file.string() + ".part && mv " + pid_file.string() +
                              ".part " + pid_file.string() + " && exec sleep 60").c_str(),
            static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 1000 && !std::filesystem::exists(pid_file); ++i) ::usleep(10'000);
  ASSERT_TRUE(std::filesystem::exists(pid_file));
  const pid_t command = std::stoi(traceloop::testing::read_file(pid_file));
  ASSERT_EQ(::kill(command, 0), 0);
  ::kill(recorder, SIGKILL);
  int status = 0;
  ::waitpid(recorder, &status, 0);
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    // a zombie reparented to init is gone too: its state is Z
    std::ifstream stat("/proc/" + std::to_string(command) + "/stat");
    std::string line;
    gone = !std::getline(stat, line) || line.find(") Z ") != std::string::npos;
    if (!gone) ::usleep(10'000);
  }
  EXPECT_TRUE(gone) << "the command " << command << " outlived its recorder";
  if (!gone) ::kill(command, SIGKILL);
  // The killed recorder's cgroup goes with the next run.
  auto mount = cgroup2_mount();
  ASSERT_TRUE(mount.ok());
  const auto abandoned = *mount / ("traceloop.run-" + std::to_string(recorder));
  ASSERT_TRUE(std::filesystem::is_directory(abandoned));
  for (int i = 0; i < 200 && !traceloop::testing::read_file(abandoned / "cgroup.procs").empty(); ++i) ::usleep(10'000);
  auto r = run_process({recorder_binary().string(), "run", "-o", (dir.path() / "next.tl").string(), "--", "true"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(abandoned));
}

// When the trace cannot be written any more (a full disk), the command still
// runs to its end (its work may matter), and run then fails with the reason.
TEST(RecordRun, FullDiskFailsAfterTheCommandEnds) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto small = dir.path() / "small";
  std::filesystem::create_directory(small);
  ASSERT_EQ(::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=64k"), 0) << std::strerror(errno);
  auto marker = dir.path() / "finished";
  auto r = run_process({recorder_binary().string(), "run", "-o", (small / "full.tl").string(), "--", "/bin/sh", "-c",
                        // not our pipes: run_process would wait for them, whoever holds them
                        "exec > /dev/null 2>&1; i=0; while [ $i -lt 30 ]; do ls -l /usr/bin; i=$((i+1)); done; touch " +
                            marker.string()});
  ::umount2(small.c_str(), MNT_DETACH);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::exists(marker)) << "the command was stopped before its end";
}

TEST(RecordRun, NoBpfPermissionNamesTheCapability) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to drop privileges";
  TempDir dir;
  ::chmod(dir.path().c_str(), 0777);
  auto r = run_process({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                        recorder_binary().string(), "run", "-o", (dir.path() / "np.tl").string(), "--", "true"});
  if (r.status == 127 && r.err.empty()) GTEST_SKIP() << "setpriv not available";
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("CAP_BPF"), std::string::npos) << r.err;
}

// --version names the build, as the trace files it writes do.
TEST(RecordRun, VersionNamesTheBuild) {
  auto r = run_process({recorder_binary().string(), "--version"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, format::version_text("traceloop-record", true) + "\n");
  EXPECT_NE(r.out.find("trace format " + std::to_string(format::kFormatMajor) + "." +
                       std::to_string(format::kFormatMinor) + " (writes it"),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace traceloop::recorder
