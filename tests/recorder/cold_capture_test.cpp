// Entry data in pages the process never touched: a BPF read at syscall entry
// cannot fault them in and fails; the exit reads them again, once the kernel
// has faulted them in. What can never be read (a bad pointer) is left out and
// shown as its address, as strace does, never as empty data.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "tests/recorder/recorder_test_util.h"
#include "tools/lib/decoder/decode.h"

namespace traceloop::recorder {
namespace {

using namespace traceloop::recorder::testing;
using format::CallState;

std::string strace_args(const format::LoadedTrace& trace, const format::Event& e) {
  tools::Decoder decoder(trace.metadata);
  std::string out;
  decoder.append_args(out, e, tools::ArgStyle::strace);
  return out;
}

TEST(ColdCapture, EntryDataInUntouchedPagesAreReadAgainAtExit) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "cold.tl", {}, {helper_binary("tl_cold_data").string(), dir.path().string()});
  ASSERT_EQ(rec.result.status, 0) << rec.result.err;
  const auto& t = rec.trace;

  // write: an anonymous page read as zeros, then a file page with text
  bool zeros = false, text = false;
  for (const auto* e : events_named(t, "write")) {
    auto v = e->view();
    if (v.state != CallState::returned) continue;
    if (v.ret == 64 && v.args[2] == 64) {
      const auto* c = v.capture_for(1);
      ASSERT_NE(c, nullptr) << dump(t);
      EXPECT_EQ(c->bytes, std::string(64, '\0'));
      zeros = true;
    }
    if (v.args[2] == 15) {
      EXPECT_EQ(capture_string(v, 1), "tl-cold-buffer") << dump(t);
      text = true;
    }
  }
  EXPECT_TRUE(zeros) << dump(t);
  EXPECT_TRUE(text) << dump(t);

  // nanosleep: the structure
  auto sleeps = events_named(t, "nanosleep");
  ASSERT_EQ(sleeps.size(), 1u) << dump(t);
  {
    auto v = sleeps[0]->view();
    const auto* c = v.capture_for(0);
    ASSERT_NE(c, nullptr) << dump(t);
    struct timespec ts {};
    ASSERT_EQ(c->bytes.size(), sizeof(ts));
    std::memcpy(&ts, c->bytes.data(), sizeof(ts));
    EXPECT_EQ(ts.tv_sec, 0);
    EXPECT_EQ(ts.tv_nsec, 1000);
    EXPECT_EQ(strace_args(t, v), "{tv_sec=0, tv_nsec=1000}, NULL");
  }

  // execve that failed: its argv, read at exit from the memory still there
  bool argv_seen = false;
  for (const auto* e : events_named(t, "execve")) {
    auto v = e->view();
    if (v.ret != -ENOEXEC) continue;
    const auto* c = v.capture_for(1);
    ASSERT_NE(c, nullptr) << dump(t);
    EXPECT_EQ(c->bytes, std::string("tl-cold-argv0\0tl-cold-argv1\0", 28));
    argv_seen = true;
  }
  EXPECT_TRUE(argv_seen) << dump(t);

  // sendmsg: the header, its iovec and the data, all read again at exit
  bool message_seen = false;
  for (const auto* e : events_named(t, "sendmsg")) {
    auto v = e->view();
    if (v.ret != 15) continue;
    EXPECT_EQ(strace_args(t, v), std::to_string(v.args[0]) +
                                     R"(, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="tl-cold-buffer\0", )"
                                     "iov_len=15}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0");
    message_seen = true;
  }
  EXPECT_TRUE(message_seen) << dump(t);
}

TEST(ColdCapture, UnreadableDataAreShownAsTheAddress) {
  REQUIRE_BPF_OR_SKIP();
  TempDir dir;
  auto rec = record(dir.path() / "bad.tl", {}, {helper_binary("tl_cold_data").string(), dir.path().string()});
  ASSERT_EQ(rec.result.status, 0) << rec.result.err;
  const auto& t = rec.trace;
  bool open_seen = false, write_seen = false;
  for (const auto* e : events_named(t, "openat")) {
    auto v = e->view();
    if (v.ret != -EFAULT) continue;
    EXPECT_EQ(v.capture_for(1), nullptr);
    EXPECT_EQ(strace_args(t, v), "AT_FDCWD, 0x1, O_RDONLY");
    open_seen = true;
  }
  for (const auto* e : events_named(t, "write")) {
    auto v = e->view();
    if (v.ret != -EFAULT) continue;
    EXPECT_EQ(v.capture_for(1), nullptr);
    EXPECT_EQ(strace_args(t, v), std::to_string(v.args[0]) + ", 0x1, 10");
    write_seen = true;
  }
  size_t messages_seen = 0;
  for (const char* name : {"sendmsg", "recvmsg"}) {
    for (const auto* e : events_named(t, name)) {
      auto v = e->view();
      if (v.ret != -EFAULT) continue;
      EXPECT_EQ(v.capture_for(1), nullptr);
      EXPECT_EQ(strace_args(t, v), std::to_string(v.args[0]) + ", 0x1, 0");
      ++messages_seen;
    }
  }
  EXPECT_TRUE(open_seen) << dump(t);
  EXPECT_TRUE(write_seen) << dump(t);
  EXPECT_EQ(messages_seen, 2u) << dump(t);
}

}  // namespace
}  // namespace traceloop::recorder
