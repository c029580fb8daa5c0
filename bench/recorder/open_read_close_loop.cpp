// Benchmark workload: N iterations of open/read/close of one small file (3
// syscalls each). Prints the wall time of the loop alone, so recorder start-up
// is not counted: "syscalls=<n> loop_ns=<ns>".
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace {
long long now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
}  // namespace

int main(int argc, char** argv) {
  long iterations = argc > 1 ? std::atol(argv[1]) : 200000;
  const char* path = argc > 2 ? argv[2] : "/etc/hostname";
  char buf[64];
  long long start = now_ns();
  for (long i = 0; i < iterations; ++i) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
      std::perror(path);
      return 1;
    }
    if (read(fd, buf, sizeof(buf)) < 0) return 1;
    close(fd);
  }
  long long elapsed = now_ns() - start;
  std::printf("syscalls=%ld loop_ns=%lld\n", iterations * 3, elapsed);
  return 0;
}
