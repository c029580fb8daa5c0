// Test helper: a few calls of every strace class, in a fixed order, for the
// filter comparison with strace (strace_filter_compare_test.cpp). Files go
// in the directory given as argv[1] (its PATH/data is the -P target).
#include <fcntl.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const std::string data = std::string(argv[1]) + "/data";
  const int fd = open(data.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);  // %file %desc
  if (fd < 0) return 2;
  if (write(fd, "hello\n", 6) != 6) return 2;  // %desc
  struct stat st {};
  fstat(fd, &st);                           // %fstat
  close(fd);
  syscall(SYS_stat, data.c_str(), &st);     // %stat (glibc would pick newfstatat)
  syscall(SYS_lstat, data.c_str(), &st);    // %lstat
  struct statfs sf {};
  statfs(data.c_str(), &sf);                // %statfs
  const int again = open(data.c_str(), O_RDONLY);
  char buf[16];
  if (again < 0 || read(again, buf, sizeof buf) != 6) return 2;
  fstatfs(again, &sf);                      // %fstatfs
  close(again);
  open((data + ".missing").c_str(), O_RDONLY);  // fails: ENOENT
  unlink(data.c_str());

  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) return 2;  // %network
  send(pair[0], "x", 1, 0);
  recv(pair[1], buf, 1, 0);
  close(pair[0]);
  close(pair[1]);

  syscall(SYS_getpid);                      // %pure (glibc caches nothing here, but be explicit)
  syscall(SYS_getuid);                      // %pure %creds
  uid_t r, e, s;
  getresuid(&r, &e, &s);                    // %creds
  struct timespec ts {};
  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);  // %clock (not the vDSO)
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, nullptr, nullptr, 8);  // %signal
  kill(getpid(), 0);                        // %signal %process
  const int shm = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);  // %ipc
  if (shm >= 0) shmctl(shm, IPC_RMID, nullptr);
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // %memory
  if (p != MAP_FAILED) munmap(p, 4096);

  const pid_t child = fork();               // %process
  if (child == 0) _exit(0);
  int status = 0;
  waitpid(child, &status, 0);
  return 0;
}
