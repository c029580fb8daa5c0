// Test helper: system calls whose input data lie in pages the process has
// never touched, so that a BPF read at syscall entry fails and only a read
// at exit (after the kernel faulted the page in) can see them. Each kind of
// entry capture once: a buffer (write), a structure (nanosleep), a string
// array (a failing execve), a message header with its iovec and data
// (sendmsg). Then captures that can never succeed: bad pointers (EFAULT),
// which strace shows as the address.
//
// Usage: tl_cold_data DIR (a directory for the file mapping).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

constexpr size_t kPage = 4096;
// Where the file mapping goes: the argv array in it points into itself, so
// its address must be known before the file is written.
constexpr uintptr_t kFileAt = 0x7e1000000000;
constexpr size_t kArgvAt = 0, kArgv0At = 64, kArgv1At = 96, kTimespecAt = 128, kBufferAt = 256, kMessageAt = 512,
                 kIovecAt = 640;
constexpr char kArgv0[] = "tl-cold-argv0";
constexpr char kArgv1[] = "tl-cold-argv1";
constexpr char kBuffer[] = "tl-cold-buffer";

bool untouched(void* page) {
  unsigned char vec = 0;
  return mincore(page, kPage, &vec) == 0 && (vec & 1) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  // A file, not /dev/null: the kernel must read what is written.
  const std::string sink = std::string(argv[1]) + "/sink";
  const int out = open(sink.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) return 2;

  // An anonymous page never touched: write() reads it as zeros.
  void* anon = mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (anon == MAP_FAILED || !untouched(anon)) return 3;
  if (write(out, anon, 64) != 64) return 2;

  // A file page with content, mapped and never touched by this process.
  const std::string path = std::string(argv[1]) + "/cold-data";
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return 2;
  unsigned char content[kPage] = {};
  const uint64_t argv_ptrs[3] = {kFileAt + kArgv0At, kFileAt + kArgv1At, 0};
  std::memcpy(content + kArgvAt, argv_ptrs, sizeof(argv_ptrs));
  std::memcpy(content + kArgv0At, kArgv0, sizeof(kArgv0));
  std::memcpy(content + kArgv1At, kArgv1, sizeof(kArgv1));
  const struct timespec ts = {0, 1000};
  std::memcpy(content + kTimespecAt, &ts, sizeof(ts));
  std::memcpy(content + kBufferAt, kBuffer, sizeof(kBuffer));
  // sendmsg's header, its iovec and the data it points to, all in the page
  const iovec iov{reinterpret_cast<void*>(kFileAt + kBufferAt), sizeof(kBuffer)};
  msghdr message{};
  message.msg_iov = reinterpret_cast<iovec*>(kFileAt + kIovecAt);
  message.msg_iovlen = 1;
  std::memcpy(content + kIovecAt, &iov, sizeof(iov));
  std::memcpy(content + kMessageAt, &message, sizeof(message));
  if (pwrite(fd, content, sizeof(content), 0) != static_cast<ssize_t>(sizeof(content))) return 2;
  // Each call gets its own mapping of the file: the first call's fault does
  // not make the next one's page present.
  auto fresh = [&]() -> unsigned char* {
    void* p = mmap(reinterpret_cast<void*>(kFileAt), kPage, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0);
    return p == reinterpret_cast<void*>(kFileAt) ? static_cast<unsigned char*>(p) : nullptr;
  };
  auto drop = [&](unsigned char* p) { munmap(p, kPage); };

  unsigned char* page = fresh();
  if (page == nullptr) return 4;
  if (write(out, page + kBufferAt, sizeof(kBuffer)) != static_cast<ssize_t>(sizeof(kBuffer))) return 2;
  drop(page);

  if ((page = fresh()) == nullptr) return 4;
  // the raw call: glibc's nanosleep is clock_nanosleep
  if (syscall(SYS_nanosleep, page + kTimespecAt, nullptr) != 0) return 2;
  drop(page);

  int pair[2];
  if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair) != 0) return 2;
  if ((page = fresh()) == nullptr) return 4;
  if (sendmsg(pair[0], reinterpret_cast<const msghdr*>(page + kMessageAt), 0) != static_cast<ssize_t>(sizeof(kBuffer)))
    return 2;
  drop(page);

  if ((page = fresh()) == nullptr) return 4;
  char* const* cold_argv = reinterpret_cast<char* const*>(page + kArgvAt);
  char* const empty_env[] = {nullptr};
  // An executable file in no format the kernel knows: execve fails
  // (ENOEXEC) after copying argv, so the old memory is still there at exit.
  const std::string not_a_program = std::string(argv[1]) + "/not-a-program";
  const int bad = open(not_a_program.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
  if (bad < 0 || write(bad, "\x01\x02\x03\x04", 4) != 4 || close(bad) != 0) return 2;
  execve(not_a_program.c_str(), cold_argv, empty_env);
  drop(page);
  unlink(not_a_program.c_str());
  close(fd);
  unlink(path.c_str());

  // Never readable, at entry or at exit (raw calls: the compiler refuses
  // such pointers to the libc wrappers).
  if (syscall(SYS_openat, AT_FDCWD, 1L, O_RDONLY) != -1) return 2;
  if (syscall(SYS_write, out, 1L, 10L) != -1) return 2;
  if (syscall(SYS_sendmsg, pair[0], 1L, 0L) != -1 || syscall(SYS_recvmsg, pair[1], 1L, 0L) != -1) return 2;
  close(pair[0]);
  close(pair[1]);
  unlink(sink.c_str());
  return 0;
}
