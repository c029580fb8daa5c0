// Test helper: a syscall storm (getppid N times) to overflow a tiny ring.
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>

int main(int argc, char** argv) {
  long n = argc > 1 ? std::atol(argv[1]) : 200000;
  for (long i = 0; i < n; ++i) syscall(SYS_getppid);
  return 0;
}
