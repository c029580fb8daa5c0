// The fds of running processes read from /proc: a real process's files,
// pipe and sockets with strace -yy's details, and a /proc whose values are
// hostile (names too long, forged socket table lines, garbage).

#include "recorder/fd_snapshot.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>

#include "format/unique_fd.h"

namespace traceloop::recorder {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/tl-fd-snapshot-XXXXXX";
    path_ = ::mkdtemp(name);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

const format::OpenFd* find_fd(const format::FdSnapshot& s, int fd) {
  for (const auto& f : s.fds)
    if (f.fd == fd) return &f;
  return nullptr;
}

TEST(FdSnapshot, ReadsARealProcess) {
  TempDir dir;
  const fs::path file = dir.path() / "held.txt";
  std::ofstream(file) << "x";
  UniqueFd held(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  UniqueFd pipe_read(pipe_fds[0]), pipe_write(pipe_fds[1]);
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  UniqueFd left(pair[0]), right(pair[1]);
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener.get(), 1), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);

  const uint32_t self = static_cast<uint32_t>(::getpid());
  const auto snapshots = read_fd_snapshots(std::vector<uint32_t>{self, 999'999'999u}, 42);
  ASSERT_EQ(snapshots.size(), 1u) << "a pid that does not exist is left out";
  const auto& s = snapshots[0];
  EXPECT_EQ(s.pid, self);
  EXPECT_EQ(s.at_ns, 42u);
  EXPECT_EQ(s.cwd, fs::current_path().string());
  const auto* f = find_fd(s, held.get());
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->target, file.string());
  EXPECT_TRUE(f->cloexec);
  const auto* p = find_fd(s, pipe_read.get());
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->target.starts_with("pipe:[")) << p->target;
  EXPECT_FALSE(p->cloexec);
  const auto* u = find_fd(s, left.get());
  ASSERT_NE(u, nullptr);
  EXPECT_TRUE(u->target.starts_with("socket:[")) << u->target;
  EXPECT_EQ(u->detail, "UNIX-STREAM:[" + u->target.substr(8, u->target.size() - 9) + "->?]");
  const auto* t = find_fd(s, listener.get());
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->detail, "TCP:[127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "]");
}

// A daemon keeps the snapshots of every container it tracks: each text
// holds its length, not the room a link could need, and memory_bytes (what
// the daemon counts in its budget) sees all of it.
TEST(FdSnapshot, TextsHoldTheirLengthAndAreCounted) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  UniqueFd pipe_read(pipe_fds[0]), pipe_write(pipe_fds[1]);
  const auto snapshots = read_fd_snapshots(std::vector<uint32_t>{static_cast<uint32_t>(::getpid())}, 1);
  ASSERT_EQ(snapshots.size(), 1u);
  size_t texts = 0;
  for (const auto& f : snapshots[0].fds) {
    EXPECT_LE(f.target.capacity(), std::max<size_t>(f.target.size() * 2, 15)) << f.target;
    if (f.target.size() > 15) texts += f.target.size();  // beyond the string's own short buffer
  }
  EXPECT_LE(snapshots[0].cwd.capacity(), std::max<size_t>(snapshots[0].cwd.size() * 2, 15));
  EXPECT_GE(format::memory_bytes(snapshots), texts + snapshots[0].fds.size() * sizeof(format::OpenFd));
}

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

TEST(FdSnapshot, HostileProcValuesAreRefused) {
  TempDir dir;
  const fs::path proc = dir.path() / "proc";
  const fs::path pid = proc / "42";
  fs::create_directories(pid / "fd");
  fs::create_symlink("relative/cwd", pid / "cwd");
  // As long as a link can be (PATH_MAX): kept whole.
  fs::create_symlink("/" + std::string(4094, 'a'), pid / "fd" / "3");
  fs::create_symlink("socket:[99]", pid / "fd" / "4");
  fs::create_symlink("socket:[100]", pid / "fd" / "5");
  fs::create_symlink("/ok", pid / "fd" / "6");
  fs::create_symlink("/ignored", pid / "fd" / "not-a-number");
  write(pid / "fdinfo" / "6", "pos:\t0\nflags:\t02100000\n");
  write(pid / "ns" / "net", "");
  // Inode 99 is described twice: a socket's path forged a second line.
  write(pid / "net" / "unix",
        "Num       RefCount Protocol Flags    Type St Inode Path\n"
        "0000000000000000: 00000002 00000000 00010000 0001 01 99 /real\n"
        "0000000000000000: 00000002 00000000 00010000 0001 01 99 /forged\n"
        "garbage line\n"
        "0000000000000000: 00000002 00000000 00010000 0001 01 100 @abstract\n");
  const auto snapshots = read_fd_snapshots(std::vector<uint32_t>{42}, 0, proc);
  ASSERT_EQ(snapshots.size(), 1u);
  const auto& s = snapshots[0];
  EXPECT_EQ(s.cwd, "") << "a relative cwd is no base";
  EXPECT_FALSE(s.complete);
  ASSERT_NE(find_fd(s, 3), nullptr);
  EXPECT_EQ(find_fd(s, 3)->target.size(), 4095u);
  ASSERT_NE(find_fd(s, 4), nullptr);
  EXPECT_EQ(find_fd(s, 4)->detail, "") << "a forged description is dropped";
  ASSERT_NE(find_fd(s, 5), nullptr);
  EXPECT_EQ(find_fd(s, 5)->detail, "UNIX-STREAM:[100,@\"abstract\"]");
  ASSERT_NE(find_fd(s, 6), nullptr);
  EXPECT_TRUE(find_fd(s, 6)->cloexec);
  EXPECT_EQ(s.fds.size(), 4u);
}

TEST(FdSnapshot, CgroupPidsSkipsGarbage) {
  TempDir dir;
  write(dir.path() / "cgroup.procs", "12\n0\nabc\n-5\n34\n");
  EXPECT_EQ(cgroup_pids(dir.path()), (std::vector<uint32_t>{12, 34}));
  EXPECT_EQ(cgroup_pids(dir.path(), 1), (std::vector<uint32_t>{12}));
  EXPECT_TRUE(cgroup_pids(dir.path() / "missing").empty());
}

}  // namespace
}  // namespace traceloop::recorder
