// The fd tracker behind -y/-yy: what each fd refers to, rebuilt from the
// calls of a trace, and nothing where the trace does not say.

#include "tools/lib/decoder/fd_tracker.h"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <sstream>

#include "format/trace_reader.h"
#include "show_fixtures.h"
#include "tools/lib/decoder/show.h"

namespace traceloop::tools {
namespace {

using testing::EventBuilder;
using testing::test_metadata;

constexpr uint64_t kAtFdcwd = static_cast<uint64_t>(-100);
constexpr uint64_t kOCloexec = 02000000;

std::string sockaddr_in(uint16_t port, std::array<uint8_t, 4> ip) {
  std::string s(16, '\0');
  s[0] = 2;  // AF_INET, little endian
  s[2] = static_cast<char>(port >> 8);
  s[3] = static_cast<char>(port & 0xff);
  for (size_t i = 0; i < 4; ++i) s[4 + i] = static_cast<char>(ip[i]);
  return s;
}

std::string sockaddr_un(std::string_view path) {
  std::string s(2, '\0');
  s[0] = 1;  // AF_UNIX
  s.append(path);
  s.push_back('\0');
  return s;
}

std::string ints(std::initializer_list<int32_t> values) {
  std::string s;
  for (int32_t v : values) s.append(reinterpret_cast<const char*>(&v), sizeof(v));
  return s;
}

// A fresh directory, removed at the end.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/tl-fd-tracker-XXXXXX";
    path_ = ::mkdtemp(name);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Feeds every event to the tracker, then answers for the state after the last.
class Replay {
 public:
  explicit Replay(const format::TraceMetadata& metadata) : tracker_(metadata) {}
  void run(const EventBuilder& b) {
    for (const auto& e : b.events()) tracker_.look_at(e.view());
    format::OwnedEvent end;  // an event of no interest: what the last one did is applied
    end.fields.pid = 1;
    end.fields.nr = 0xffff;
    tracker_.look_at(end.view());
  }
  std::string at(uint32_t pid, int64_t fd, bool detailed = false) const {
    auto p = tracker_.path_of(pid, fd, detailed);
    return p ? std::string(*p) : "(unknown)";
  }
  FdTracker& tracker() { return tracker_; }

 private:
  FdTracker tracker_;
};

TEST(FdTracker, OpenDupCloseAndFailedCallsChangeNothing) {
  const auto m = test_metadata();
  EventBuilder b(m.catalogue);
  b.as(100, "app");
  b.call("openat", {kAtFdcwd, 0, 0}, 3).str(1, "/etc/passwd");
  b.call("dup", {3}, 4);
  b.call("dup2", {3, 9}, 9);
  b.call("openat", {kAtFdcwd, 0, 0}, -2).str(1, "/nonexistent");  // ENOENT
  b.call("close", {7}, -9);                                          // EBADF
  b.call("close", {3}, 0);
  b.call("open", {0, 0}, 5).str(0, "/etc//./hosts");
  Replay r(m);
  r.run(b);
  EXPECT_EQ(r.at(100, 3), "(unknown)");
  EXPECT_EQ(r.at(100, 4), "/etc/passwd");
  EXPECT_EQ(r.at(100, 9), "/etc/passwd");
  EXPECT_EQ(r.at(100, 5), "/etc/hosts");
  EXPECT_EQ(r.at(100, 7), "(unknown)");
  EXPECT_EQ(r.at(101, 4), "(unknown)") << "another process";
}

TEST(FdTracker, RelativePathsNeedAKnownBase) {
  const auto m = test_metadata();
  EventBuilder b(m.catalogue);
  b.as(100, "app");
  b.call("openat", {kAtFdcwd, 0, 0}, 3).str(1, "relative.txt");  // the cwd is not known: no guess
  b.call("openat", {kAtFdcwd, 0, 0}, 6).str(1, "/etc");
  b.call("openat", {6, 0, 0}, 7).str(1, "passwd");
  b.call("chdir", {0}, 0).str(0, "/srv/app");
  b.call("openat", {kAtFdcwd, 0, 0}, 8).str(1, "logs/../data.txt");
  b.call("chdir", {0}, 0).str(0, "sub");
  b.call("openat", {kAtFdcwd, 0, 0}, 10).str(1, "x");
  b.call("openat", {42, 0, 0}, 11).str(1, "y");  // dirfd unknown
  Replay r(m);
  r.run(b);
  EXPECT_EQ(r.at(100, 3), "(unknown)");
  EXPECT_EQ(r.at(100, 7), "/etc/passwd");
  EXPECT_EQ(r.at(100, 8), "/srv/app/data.txt");
  EXPECT_EQ(r.at(100, 10), "/srv/app/sub/x");
  EXPECT_EQ(r.at(100, 11), "(unknown)");
  EXPECT_EQ(r.at(100, -100), "/srv/app/sub") << "AT_FDCWD names the working directory";
}

TEST(FdTracker, CloneFilesSharesTheTableForkCopiesIt) {
  const auto m = test_metadata();
  constexpr uint64_t kCloneFiles = 0x400, kSigchld = 17;
  EventBuilder b(m.catalogue);
  b.as(100, "parent");
  b.call("openat", {kAtFdcwd, 0, 0}, 3).str(1, "/a");
  b.call("clone", {kCloneFiles | kSigchld, 0, 0, 0, 0}, 200);
  b.call("fork", {}, 300);
  b.as(200, "shared");
  b.call("openat", {kAtFdcwd, 0, 0}, 5).str(1, "/b");  // seen by the parent too
  b.as(300, "copy");
  b.call("close", {3}, 0);                              // not by the parent
  b.call("openat", {kAtFdcwd, 0, 0}, 6).str(1, "/c");
  b.as(200, "shared");
  b.call("unshare", {kCloneFiles}, 0);
  b.call("openat", {kAtFdcwd, 0, 0}, 7).str(1, "/d");  // after unshare: its own
  Replay r(m);
  r.run(b);
  EXPECT_EQ(r.at(100, 3), "/a");
  EXPECT_EQ(r.at(100, 5), "/b");
  EXPECT_EQ(r.at(100, 6), "(unknown)");
  EXPECT_EQ(r.at(100, 7), "(unknown)");
  EXPECT_EQ(r.at(200, 3), "/a");
  EXPECT_EQ(r.at(200, 7), "/d");
  EXPECT_EQ(r.at(300, 3), "(unknown)");
  EXPECT_EQ(r.at(300, 6), "/c");
}

TEST(FdTracker, CloseRangeAndCloseOnExec) {
  const auto m = test_metadata();
  constexpr uint64_t kCloseRangeCloexec = 4, kFSetfd = 2, kFdCloexec = 1;
  EventBuilder b(m.catalogue);
  b.as(100, "app");
  for (int fd = 3; fd <= 9; ++fd) b.call("openat", {kAtFdcwd, 0, 0}, fd).str(1, "/f" + std::to_string(fd));
  b.call("openat", {kAtFdcwd, 0, kOCloexec}, 10).str(1, "/cloexec");
  b.call("close_range", {4, 5, 0}, 0);
  b.call("close_range", {8, ~0u, kCloseRangeCloexec}, 0);  // marked only: they go at exec
  b.call("fcntl", {6, kFSetfd, kFdCloexec}, 0);
  b.call("dup3", {3, 11, kOCloexec}, 11);
  b.call("pipe2", {0, kOCloexec}, 0).data(0, ints({12, 13}));
  b.call("socket", {2, 1 | kOCloexec, 0}, 14);
  Replay before(m);
  before.run(b);
  EXPECT_EQ(before.at(100, 4), "(unknown)");
  EXPECT_EQ(before.at(100, 8), "/f8");
  EXPECT_EQ(before.at(100, 12), "pipe:[?]");
  b.call("execve", {0, 0, 0}, 0).str(0, "/bin/true");
  Replay after(m);
  after.run(b);
  EXPECT_EQ(after.at(100, 3), "/f3");
  EXPECT_EQ(after.at(100, 7), "/f7");
  for (int fd : {4, 5, 6, 8, 9, 10, 11, 12, 13, 14}) EXPECT_EQ(after.at(100, fd), "(unknown)") << fd;
}

TEST(FdTracker, SocketsAsFarAsTheAddressesGo) {
  const auto m = test_metadata();
  EventBuilder b(m.catalogue);
  b.as(100, "server");
  b.call("socket", {2, 1, 0}, 3);
  b.call("bind", {3, 0, 16}, 0).data(1, sockaddr_in(8080, {0, 0, 0, 0}));
  b.call("accept4", {3, 0, 0, 0}, 4).data(1, sockaddr_in(43210, {127, 0, 0, 1}));
  b.call("socket", {2, 1, 0}, 5);
  b.call("connect", {5, 0, 16}, 0).data(1, sockaddr_in(80, {10, 1, 2, 3}));
  b.call("socket", {1, 1, 0}, 6);
  b.call("bind", {6, 0, 20}, 0).data(1, sockaddr_un("/run/app.sock"));
  b.call("accept", {6, 0, 0}, 7);
  b.call("socketpair", {1, 2, 0, 0}, 0).data(3, ints({8, 9}));
  b.call("socket", {2, 1, 0}, 10);
  b.call("connect", {10, 0, 16}, -111).data(1, sockaddr_in(81, {10, 1, 2, 3}));  // ECONNREFUSED
  b.call("memfd_create", {0, 1}, 11).str(0, "jit");
  b.call("eventfd2", {0, 0}, 12);
  Replay r(m);
  r.run(b);
  EXPECT_EQ(r.at(100, 3, true), "TCP:[0.0.0.0:8080]");
  EXPECT_EQ(r.at(100, 3), "socket:[?]");
  EXPECT_EQ(r.at(100, 4, true), "TCP:[?:8080->127.0.0.1:43210]") << "a wildcard bind hides the local address";
  EXPECT_EQ(r.at(100, 5, true), "TCP:[?->10.1.2.3:80]");
  EXPECT_EQ(r.at(100, 6, true), "UNIX-STREAM:[?,\"/run/app.sock\"]");
  EXPECT_EQ(r.at(100, 7, true), "UNIX-STREAM:[?->?,\"/run/app.sock\"]");
  EXPECT_EQ(r.at(100, 8, true), "UNIX-DGRAM:[?->?]");
  EXPECT_EQ(r.at(100, 10, true), "TCP:[?]") << "a failed connect changes nothing";
  EXPECT_EQ(r.at(100, 11), "/memfd:jit (deleted)");
  EXPECT_EQ(r.at(100, 12), "anon_inode:[eventfd]");
}

TEST(FdTracker, ResultsAreKnownWhileTheCallIsLookedAt) {
  const auto m = test_metadata();
  EventBuilder b(m.catalogue);
  b.as(100, "app");
  b.call("openat", {kAtFdcwd, 0, 0}, 3).str(1, "/old");
  b.call("dup2", {3, 5}, 5);
  FdTracker tracker(m);
  tracker.look_at(b.events()[0].view());
  EXPECT_EQ(tracker.path_of(100, 3, false), std::nullopt) << "before the open";
  EXPECT_EQ(tracker.path_of_result(100, 3, false), "/old");
  tracker.look_at(b.events()[1].view());
  EXPECT_EQ(tracker.path_of(100, 5, false), std::nullopt);
  EXPECT_EQ(tracker.path_of_result(100, 5, false), "/old");
  EXPECT_EQ(tracker.path_of_result(100, 3, false), std::nullopt) << "3 is no result of dup2";
}

constexpr int32_t kSolSocket = 1, kScmRights = 1;
constexpr uint64_t kMsgCmsgCloexec = 0x40000000, kMsgPeek = 2;

// A message passing `fds` with SCM_RIGHTS, as the recorder captures it.
std::string passing(std::initializer_list<int32_t> fds) {
  return testing::simple_message("f", testing::cmsg(kSolSocket, kScmRights, ints(fds))).str();
}

// A parent opens a file, makes a socketpair, forks, and passes the file's
// fd to its child, which receives it under another number.
EventBuilder& fd_passing_start(EventBuilder& b) {
  b.as(100, "parent");
  b.call("openat", {kAtFdcwd, 0, 0}, 3).str(1, "/data");
  b.call("socketpair", {1, 1, 0, 0x1000}, 0).data(3, ints({5, 6}));
  b.call("fork", {}, 200);
  return b;
}

TEST(FdTracker, FdsPassedOverASocketpairReferToTheSendersFile) {
  const auto m = test_metadata();
  EventBuilder b(m.catalogue);
  fd_passing_start(b);
  b.call("openat", {kAtFdcwd, 0, 0}, 4).str(1, "/other");
  b.call("sendmsg", {5, 0x2000, 0}, 1).data(1, passing({3, 4}));
  b.as(200, "child");
  b.call("recvmsg", {6, 0x2000, kMsgCmsgCloexec}, 1).data(1, passing({7, 8}));
  b.call("execve", {0, 0, 0}, 0);
  b.as(100, "parent");
  b.call("openat", {kAtFdcwd, 0, 0}, 9).str(1, "/third");
  b.call("sendmsg", {5, 0x2000, 0}, 1).data(1, passing({9}));
  b.as(200, "child");
  b.call("recvmsg", {6, 0x2000, 0}, 1).data(1, passing({3}));
  // The received fds are known on the recvmsg line itself, as strace shows them.
  FdTracker tracker(m);
  for (size_t i = 0; i < 6; ++i) tracker.look_at(b.events()[i].view());
  EXPECT_EQ(tracker.path_of(100, 4, false), "/other") << "the sent fds, in the sender";
  tracker.look_at(b.events()[6].view());
  EXPECT_EQ(tracker.path_of(200, 7, false), "/data");
  EXPECT_EQ(tracker.path_of(200, 8, false), "/other");
  EXPECT_EQ(tracker.path_of(200, 6, true), "UNIX-STREAM:[?->?]") << "the socket itself is unchanged";
  Replay r(m);
  r.run(b);
  EXPECT_EQ(r.at(200, 7), "(unknown)") << "MSG_CMSG_CLOEXEC: gone at exec";
  EXPECT_EQ(r.at(200, 8), "(unknown)");
  EXPECT_EQ(r.at(200, 3), "/third") << "messages are taken in the order they were sent";
  EXPECT_EQ(r.at(100, 3), "/data") << "the sender keeps its own";
}

TEST(FdTracker, AReceiveThatBeganBeforeItsSendKnowsItsFdsFromTheSendOn) {
  const auto m = test_metadata();
  EventBuilder b(m.catalogue);
  fd_passing_start(b);
  b.as(200, "child");
  b.call("recvmsg", {6, 0x2000, 0}, 1).data(1, passing({7}));  // entered first: blocked until the send
  b.as(100, "parent");
  b.call("sendmsg", {5, 0x2000, 0}, 1).data(1, passing({3}));
  b.as(200, "child");
  b.call("pread64", {7, 0x3000, 64, 0}, 5);
  FdTracker tracker(m);
  for (size_t i = 0; i < 4; ++i) tracker.look_at(b.events()[i].view());
  EXPECT_EQ(tracker.path_of(200, 7, false), std::nullopt) << "its line comes before the send";
  tracker.look_at(b.events()[4].view());
  tracker.look_at(b.events()[5].view());
  EXPECT_EQ(tracker.path_of(200, 7, false), "/data");
}

TEST(FdTracker, PeekedMessagesStayForTheNextReceive) {
  const auto m = test_metadata();
  EventBuilder b(m.catalogue);
  fd_passing_start(b);
  b.call("sendmsg", {5, 0x2000, 0}, 1).data(1, passing({3}));
  b.as(200, "child");
  b.call("recvmsg", {6, 0x2000, kMsgPeek}, 1).data(1, passing({7}));
  b.call("recvmsg", {6, 0x2000, 0}, 1).data(1, passing({8}));
  Replay r(m);
  r.run(b);
  EXPECT_EQ(r.at(200, 7), "/data");
  EXPECT_EQ(r.at(200, 8), "/data");
}

TEST(FdTracker, FdsPassedUnseenAreNotGuessed) {
  const auto m = test_metadata();
  {
    // A send whose header was not captured (--no-data): which message a
    // receive takes is no longer known.
    EventBuilder b(m.catalogue);
    fd_passing_start(b);
    b.call("openat", {kAtFdcwd, 0, 0}, 4).str(1, "/other");
    b.call("sendmsg", {5, 0x2000, 0}, 1);
    b.call("sendmsg", {5, 0x2000, 0}, 1).data(1, passing({4}));
    b.as(200, "child");
    b.call("recvmsg", {6, 0x2000, 0}, 1).data(1, passing({7}));
    Replay r(m);
    r.run(b);
    EXPECT_EQ(r.at(200, 7), "(unknown)");
  }
  {
    // A socket that is no socketpair's end: who sends to it is not known.
    EventBuilder b(m.catalogue);
    b.as(100, "app");
    b.call("openat", {kAtFdcwd, 0, 0}, 3).str(1, "/data");
    b.call("socket", {1, 1, 0}, 4);
    b.call("sendmsg", {4, 0x2000, 0}, 1).data(1, passing({3}));
    b.call("socket", {1, 1, 0}, 5);
    // (a close the trace does not show left the number free)
    b.call("openat", {kAtFdcwd, 0, 0}, 7).str(1, "/stale");
    b.call("recvmsg", {5, 0x2000, 0}, 1).data(1, passing({7}));
    Replay r(m);
    r.run(b);
    EXPECT_EQ(r.at(100, 7), "(unknown)");
  }
}

TEST(FdTracker, LostEventsForgetEverything) {
  auto m = test_metadata();
  m.fd_snapshots.push_back({100, 0, "/", {{0, "/dev/null", "", false}}, true});
  EventBuilder b(m.catalogue);
  b.as(100, "app");
  b.call("openat", {kAtFdcwd, 0, 0}, 3).str(1, "/a");
  Replay r(m);
  r.run(b);
  EXPECT_EQ(r.at(100, 0), "/dev/null");
  EXPECT_EQ(r.at(100, 3), "/a");
  r.tracker().loss();
  EXPECT_EQ(r.at(100, 0), "(unknown)");
  EXPECT_EQ(r.at(100, 3), "(unknown)");
}

TEST(FdTracker, EscapesPathsAsStrace) {
  std::string out;
  append_fd_path(out, std::string_view("/tmp/a>b\n\x01" "1\xff", 12));
  EXPECT_EQ(out, "/tmp/a\\76b\\n\\0011\\377");
  out.clear();
  append_fd_path(out, "UNIX-STREAM:[?->?]");
  EXPECT_EQ(out, "UNIX-STREAM:[?->?]");
}

// -y and -yy through tl-show: the snapshot is the starting state, fds of
// unknown origin stay plain, returned fds are annotated.
std::string show(const std::filesystem::path& trace, FdPaths fd_paths, OutputFormat format) {
  ShowOptions options;
  options.path = trace.string();
  options.render.format = format;
  options.render.header = false;
  options.fd_paths = fd_paths;
  std::ostringstream out, err;
  EXPECT_EQ(run_show(options, out, err), 0) << err.str();
  return out.str();
}

TEST(FdPathsShow, StraceTableAndJsonWithASnapshot) {
  auto m = test_metadata();
  m.fd_snapshots.push_back({100, 0, "/home/u", {{1, "/dev/pts/0", "", false}, {4, "socket:[77]",
                                                                                "TCP:[1.2.3.4:80->5.6.7.8:9]", true}},
                            true});
  EventBuilder b(m.catalogue);
  b.as(100, "app");
  b.call("write", {1, 0x1000, 2}, 2).data(1, "hi");
  b.call("write", {4, 0x1000, 2}, 2).data(1, "hi");
  b.call("openat", {kAtFdcwd, 0x1000, 0}, 3).str(1, "notes.txt");
  b.call("read", {9, 0x1000, 8}, -9);
  const TempDir dir;
  const auto trace = dir.path() / "t.tl";
  testing::write_trace(trace, m, b);

  const std::string y = show(trace, FdPaths::paths, OutputFormat::strace);
  EXPECT_NE(y.find("write(1</dev/pts/0>, \"hi\", 2)"), std::string::npos) << y;
  EXPECT_NE(y.find("write(4<socket:[77]>, "), std::string::npos) << y;
  EXPECT_NE(y.find("openat(AT_FDCWD</home/u>, \"notes.txt\", O_RDONLY) = 3</home/u/notes.txt>"), std::string::npos)
      << y;
  EXPECT_NE(y.find("read(9, "), std::string::npos) << "unknown fds stay plain\n" << y;
  const std::string yy = show(trace, FdPaths::detailed, OutputFormat::strace);
  EXPECT_NE(yy.find("write(4<TCP:[1.2.3.4:80->5.6.7.8:9]>, "), std::string::npos) << yy;
  const std::string plain = show(trace, FdPaths::off, OutputFormat::strace);
  EXPECT_EQ(plain.find('<'), std::string::npos) << plain;
  const std::string table = show(trace, FdPaths::paths, OutputFormat::table);
  EXPECT_NE(table.find("fd=1</dev/pts/0>"), std::string::npos) << table;
  const std::string json = show(trace, FdPaths::paths, OutputFormat::json);
  EXPECT_NE(json.find(R"("value":{"fd":1,"path":"/dev/pts/0"})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("return":{"fd":3,"path":"/home/u/notes.txt"})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"({"name":"fd","raw":9,"value":9})"), std::string::npos) << json;
}

TEST(FdSnapshotFormat, RoundTripAndHostileValues) {
  auto m = test_metadata();
  format::FdSnapshot good{100, 123, "/srv", {{0, "/dev/null", "", false}, {3, "socket:[9]", "UNIX-STREAM:[9->?]", true}},
                          true};
  format::FdSnapshot hostile{200, 0, "relative/cwd", {}, true};
  hostile.fds.push_back({-1, "/negative", "", false});
  hostile.fds.push_back({6, std::string(format::kMaxSnapshotTextBytes + 1, 'x'), "", false});
  hostile.fds.push_back({7, "", "", false});
  hostile.fds.push_back({8, "/ok", "", false});
  hostile.fds.push_back({8, "/duplicate", "", false});
  m.fd_snapshots = {good, hostile, format::FdSnapshot{100, 0, "/", {}, true}};  // pid 100 twice
  const TempDir dir;
  const auto trace = dir.path() / "snap.tl";
  testing::write_trace(trace, m, EventBuilder(m.catalogue));
  auto reader = format::TraceReader::open(trace);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  const auto& read = reader->metadata().fd_snapshots;
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0], good);
  EXPECT_EQ(read[1].pid, 200u);
  EXPECT_EQ(read[1].cwd, "");
  EXPECT_FALSE(read[1].complete);
  ASSERT_EQ(read[1].fds.size(), 1u);
  EXPECT_EQ(read[1].fds[0].target, "/ok");
  EXPECT_TRUE(reader->metadata().format_major > 4 || reader->metadata().format_minor >= 3)
      << "fd snapshots came with format 4.3";

  // A NUL inside a name (which a hostile file's text may hold) cannot be a path.
  std::vector<format::FdSnapshot> with_nul{{300, 0, std::string("/a\0b", 4), {{5, std::string("/nul\0in", 7), "", false}}, true}};
  format::sanitise_fd_snapshots(with_nul);
  ASSERT_EQ(with_nul.size(), 1u);
  EXPECT_TRUE(with_nul[0].fds.empty());
  EXPECT_EQ(with_nul[0].cwd, "");
  EXPECT_FALSE(with_nul[0].complete);

  // More processes than any recorder writes: the file is refused, not read in part.
  auto flood = test_metadata();
  for (uint32_t pid = 1; pid <= format::kMaxSnapshotProcesses + 1; ++pid) flood.fd_snapshots.push_back({pid, 0, "", {}, true});
  const auto flooded = dir.path() / "flood.tl";
  testing::write_trace(flooded, flood, EventBuilder(flood.catalogue));
  auto refused = format::TraceReader::open(flooded);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("too many fd snapshots"), std::string::npos) << refused.error().message;
}

}  // namespace
}  // namespace traceloop::tools
