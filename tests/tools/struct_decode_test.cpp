// Structures the running kernel itself filled in, decoded with the host
// architecture's generated layouts: a wrong offset or size in a layout (or a
// catalogue size too small for what the kernel writes) shows up as a field
// that disagrees with what the test set up or what libc reads back. Raw
// syscalls, so that the bytes are the kernel's structures, not libc's.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <string>

#include "format/catalogue.h"
#include "format/unique_fd.h"
#include "tests/support/temp_dir.h"
#include "tools/lib/decoder/struct_decode.h"

namespace traceloop::tools {
namespace {

const StructContext kContext{format::host_arch(), 256, 64};

// The bytes the recorder would capture for a structure type: the catalogue's
// size for it on this architecture.
size_t catalogue_size(std::string_view type) {
  for (const auto& s : format::builtin_catalogue(format::host_arch()).syscalls())
    for (const auto& p : s.params)
      if (p.struct_type == type) return p.struct_size;
  return 0;
}

// A buffer the kernel writes into; far larger than any structure, so that a
// layout smaller than the kernel's structure cannot overflow it.
struct KernelBuffer {
  alignas(16) char bytes[4096] = {};
  std::string captured(std::string_view type) const { return std::string(bytes, catalogue_size(type)); }
};

std::string decode(std::string_view type, const std::string& bytes) {
  std::string out;
  EXPECT_TRUE(append_struct(out, type, bytes, kContext)) << type;
  return out;
}

class StructDecodeRealTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
};

TEST_F(StructDecodeRealTest, FstatOfAFileAndStatOfADevice) {
  const auto path = (dir_ / "f").string();
  UniqueFd fd(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600));
  ASSERT_TRUE(fd);
  ASSERT_EQ(::write(fd.get(), std::string(1234, 'x').data(), 1234), 1234);
  ASSERT_EQ(::fchmod(fd.get(), 0640), 0);
  KernelBuffer st;
  ASSERT_EQ(::syscall(SYS_fstat, fd.get(), st.bytes), 0);
  EXPECT_EQ(decode("stat", st.captured("stat")), "{st_mode=S_IFREG|0640, st_size=1234, ...}");

  KernelBuffer dev;
  struct stat libc_view {};
  ASSERT_EQ(::stat("/dev/null", &libc_view), 0);
#ifdef SYS_newfstatat
  ASSERT_EQ(::syscall(SYS_newfstatat, AT_FDCWD, "/dev/null", dev.bytes, 0), 0);
#else
  ASSERT_EQ(::syscall(SYS_fstatat64, AT_FDCWD, "/dev/null", dev.bytes, 0), 0);
#endif
  EXPECT_EQ(decode("stat", dev.captured("stat")),
            fmt::format("{{st_mode=S_IFCHR|0666, st_rdev=makedev({:#x}, {:#x}), ...}}", major(libc_view.st_rdev),
                        minor(libc_view.st_rdev)));
}

TEST_F(StructDecodeRealTest, StatxOfAFileAndADevice) {
  const auto path = (dir_ / "f").string();
  UniqueFd fd(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600));
  ASSERT_TRUE(fd);
  ASSERT_EQ(::write(fd.get(), "hello", 5), 5);
  KernelBuffer stx;
  ASSERT_EQ(::syscall(SYS_statx, AT_FDCWD, path.c_str(), 0, STATX_TYPE | STATX_MODE | STATX_SIZE, stx.bytes), 0);
  const auto text = decode("statx", stx.captured("statx"));
  EXPECT_NE(text.find("stx_mode=S_IFREG|0600, stx_size=5, ...}"), std::string::npos) << text;
  EXPECT_NE(text.find("STATX_TYPE|STATX_MODE"), std::string::npos) << text;

  KernelBuffer dev;
  ASSERT_EQ(::syscall(SYS_statx, AT_FDCWD, "/dev/null", 0, STATX_BASIC_STATS, dev.bytes), 0);
  struct stat libc_view {};
  ASSERT_EQ(::stat("/dev/null", &libc_view), 0);
  EXPECT_NE(decode("statx", dev.captured("statx"))
                .find(fmt::format("stx_mode=S_IFCHR|0666, stx_rdev=makedev({:#x}, {:#x})", major(libc_view.st_rdev),
                                  minor(libc_view.st_rdev))),
            std::string::npos);
}

TEST_F(StructDecodeRealTest, StatfsOfProc) {
  KernelBuffer buf;
  ASSERT_EQ(::syscall(SYS_statfs, "/proc", buf.bytes), 0);
  struct statfs libc_view {};
  ASSERT_EQ(::statfs("/proc", &libc_view), 0);
  const auto text = decode("statfs", buf.captured("statfs"));
  EXPECT_EQ(text.rfind("{f_type=PROC_SUPER_MAGIC, f_bsize=" + std::to_string(libc_view.f_bsize) + ",", 0), 0u) << text;
  EXPECT_NE(text.find(fmt::format("f_namelen={}, f_frsize={}, ", libc_view.f_namelen, libc_view.f_frsize)),
            std::string::npos)
      << text;
}

TEST_F(StructDecodeRealTest, RtSigactionReadsBackHandlerMaskAndFlags) {
  struct sigaction act {}, old {};
  act.sa_handler = SIG_IGN;
  sigemptyset(&act.sa_mask);
  sigaddset(&act.sa_mask, SIGINT);
  act.sa_flags = SA_RESTART;
  ASSERT_EQ(::sigaction(SIGUSR2, &act, &old), 0);
  KernelBuffer buf;
  const long rc = ::syscall(SYS_rt_sigaction, SIGUSR2, nullptr, buf.bytes, 8);
  ::sigaction(SIGUSR2, &old, nullptr);
  ASSERT_EQ(rc, 0);
  const auto text = decode("sigaction", buf.captured("sigaction"));
  EXPECT_EQ(text.rfind("{sa_handler=SIG_IGN, sa_mask=[INT], sa_flags=", 0), 0u) << text;
  EXPECT_NE(text.find("SA_RESTART"), std::string::npos) << text;
}

TEST_F(StructDecodeRealTest, WaitidSiginfoOfAnExitedChild) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(7);
  KernelBuffer buf;
  ASSERT_EQ(::syscall(SYS_waitid, P_PID, child, buf.bytes, WEXITED, nullptr), 0);
  const auto text = decode("siginfo", buf.captured("siginfo"));
  EXPECT_EQ(text.rfind(fmt::format("{{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid={}, si_uid={}, si_status=7, si_utime=",
                                   child, ::getuid()),
                       0),
            0u)
      << text;
}

TEST_F(StructDecodeRealTest, UnameAndSysinfo) {
  KernelBuffer uts;
  ASSERT_EQ(::syscall(SYS_uname, uts.bytes), 0);
  struct utsname libc_uts {};
  ASSERT_EQ(::uname(&libc_uts), 0);
  EXPECT_EQ(decode("utsname", uts.captured("utsname")),
            fmt::format("{{sysname=\"{}\", nodename=\"{}\", ...}}", libc_uts.sysname, libc_uts.nodename));

  KernelBuffer info;
  ASSERT_EQ(::syscall(SYS_sysinfo, info.bytes), 0);
  struct sysinfo libc_info {};
  ASSERT_EQ(::sysinfo(&libc_info), 0);
  const auto text = decode("sysinfo", info.captured("sysinfo"));
  EXPECT_NE(text.find(std::string("{uptime=")), std::string::npos) << text;
  EXPECT_NE(text.find(fmt::format(", totalram={}, ", libc_info.totalram)), std::string::npos) << text;
  EXPECT_NE(text.find(fmt::format(", totalswap={}, ", libc_info.totalswap)), std::string::npos) << text;
  EXPECT_NE(text.find(fmt::format(", mem_unit={}}}", libc_info.mem_unit)), std::string::npos) << text;
}

TEST_F(StructDecodeRealTest, EpollWaitEventKeepsItsData) {
  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  UniqueFd ev(::eventfd(1, EFD_CLOEXEC));
  ASSERT_TRUE(ep && ev);
  epoll_event want{};
  want.events = EPOLLIN;
  want.data.u64 = 0x1122334455667788;
  ASSERT_EQ(::epoll_ctl(ep.get(), EPOLL_CTL_ADD, ev.get(), &want), 0);
  KernelBuffer buf;
  ASSERT_EQ(::syscall(SYS_epoll_pwait, ep.get(), buf.bytes, 4, 0, nullptr, 8), 1);
  std::string out;
  const size_t size = catalogue_size("epoll_event");
  ASSERT_TRUE(append_struct_array(out, "epoll_event", size, 1, std::string(buf.bytes, size), false, kContext));
  EXPECT_EQ(out, "[{events=EPOLLIN, data={u32=1432778632, u64=1234605616436508552}}]");
}

TEST_F(StructDecodeRealTest, Getdents64AndGetdents) {
  UniqueFd f(::open((dir_ / "hello").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  ASSERT_TRUE(f);
  UniqueFd d(::open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(d);
  KernelBuffer buf;
  const long n = ::syscall(SYS_getdents64, d.get(), buf.bytes, sizeof buf.bytes);
  ASSERT_GT(n, 0);
  std::string out;
  append_dirents(out, std::string(buf.bytes, static_cast<size_t>(n)), true, false, kContext);
  EXPECT_NE(out.find("d_type=DT_REG, d_name=\"hello\"}"), std::string::npos) << out;
  EXPECT_NE(out.find("d_type=DT_DIR, d_name=\".\"}"), std::string::npos) << out;
  EXPECT_NE(out.find(fmt::format("{{d_ino={}, ", [&] {
              struct stat st {};
              ::fstat(f.get(), &st);
              return st.st_ino;
            }())),
            std::string::npos)
      << out;
#ifdef SYS_getdents
  ASSERT_EQ(::lseek(d.get(), 0, SEEK_SET), 0);
  KernelBuffer old;
  const long m = ::syscall(SYS_getdents, d.get(), old.bytes, sizeof old.bytes);
  ASSERT_GT(m, 0);
  std::string old_out;
  append_dirents(old_out, std::string(old.bytes, static_cast<size_t>(m)), false, false, kContext);
  EXPECT_NE(old_out.find("d_type=DT_REG, d_name=\"hello\"}"), std::string::npos) << old_out;
  EXPECT_NE(old_out.find("d_type=DT_DIR, d_name=\"..\"}"), std::string::npos) << old_out;
#endif
}

TEST_F(StructDecodeRealTest, SocketNamesOfInetAndNetlinkSockets) {
  UniqueFd in(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(in);
  sockaddr_in bind_to{};
  bind_to.sin_family = AF_INET;
  bind_to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(in.get(), reinterpret_cast<sockaddr*>(&bind_to), sizeof bind_to), 0);
  KernelBuffer buf;
  int len = sizeof buf.bytes;
  ASSERT_EQ(::syscall(SYS_getsockname, in.get(), buf.bytes, &len), 0);
  sockaddr_in libc_view{};
  socklen_t libc_len = sizeof libc_view;
  ASSERT_EQ(::getsockname(in.get(), reinterpret_cast<sockaddr*>(&libc_view), &libc_len), 0);
  std::string out;
  append_sockaddr(out, std::string(buf.bytes, static_cast<size_t>(len)), kContext);
  EXPECT_EQ(out, fmt::format("{{sa_family=AF_INET, sin_port=htons({}), sin_addr=inet_addr(\"127.0.0.1\")}}",
                             ntohs(libc_view.sin_port)));

  UniqueFd nl(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  ASSERT_TRUE(nl);
  sockaddr_nl nl_bind{};
  nl_bind.nl_family = AF_NETLINK;
  nl_bind.nl_groups = 1;  // RTMGRP_LINK
  ASSERT_EQ(::bind(nl.get(), reinterpret_cast<sockaddr*>(&nl_bind), sizeof nl_bind), 0);
  KernelBuffer nbuf;
  len = sizeof nbuf.bytes;
  ASSERT_EQ(::syscall(SYS_getsockname, nl.get(), nbuf.bytes, &len), 0);
  sockaddr_nl nl_view{};
  libc_len = sizeof nl_view;
  ASSERT_EQ(::getsockname(nl.get(), reinterpret_cast<sockaddr*>(&nl_view), &libc_len), 0);
  std::string nl_out;
  append_sockaddr(nl_out, std::string(nbuf.bytes, static_cast<size_t>(len)), kContext);
  EXPECT_EQ(nl_out, fmt::format("{{sa_family=AF_NETLINK, nl_pid={}, nl_groups=00000001}}", nl_view.nl_pid));
}

}  // namespace
}  // namespace traceloop::tools
