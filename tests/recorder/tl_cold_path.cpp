// Test helper: opens a path held in a file mapping the process never touched,
// so no page table entry exists when the syscall starts: the BPF program
// cannot read it at entry (it may not fault) and must read it again at exit.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main() {
  char file[] = "/tmp/tl-cold-path-XXXXXX";
  const int fd = mkstemp(file);
  if (fd < 0) return 2;
  const char path[] = "/proc/self/traceloop-cold-path-probe";
  if (write(fd, path, sizeof(path)) != static_cast<ssize_t>(sizeof(path))) return 2;
  void* mapped = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
  unlink(file);
  if (mapped == MAP_FAILED) return 2;
  const long ret = syscall(SYS_openat, AT_FDCWD, static_cast<const char*>(mapped), O_RDONLY);
  return ret < 0 ? 0 : 1;
}
