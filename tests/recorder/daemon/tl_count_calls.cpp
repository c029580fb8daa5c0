// Test helper: makes sched_getscheduler(0) calls for MILLISECONDS, RATE a
// second (0: as fast as it can), on CPU number CPU, once file GO exists when
// given (so that a recorder can start tracing it first), and prints "calls N"
// with the number it made. sched_getscheduler because nothing else in a test container (runc's
// init, busybox) makes it: a trace filtered to it holds this program's calls
// only, so that recorded plus lost can be compared with N exactly. Linked
// statically: it runs in the busybox rootfs of the test containers.
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace {

long long now_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    std::fprintf(stderr, "usage: tl_count_calls MILLISECONDS RATE CPU [GO]\n");
    return 2;
  }
  {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(std::atoi(argv[3]), &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) {
      std::perror("sched_setaffinity");
      return 1;
    }
  }
  if (argc == 5) {
    struct stat st {};
    const timespec step{0, 1000000};
    int waited = 0;
    for (; stat(argv[4], &st) != 0 && waited < 60000; ++waited) nanosleep(&step, nullptr);
    if (waited == 60000) {
      std::fprintf(stderr, "tl_count_calls: no %s after 60 s\n", argv[4]);
      return 1;
    }
  }
  const long long ms = std::atoll(argv[1]);
  const long long rate = std::atoll(argv[2]);
  const long long start = now_ns();
  const long long end = start + ms * 1000000LL;
  long long calls = 0;
  if (rate == 0) {
    // The clock is read every 256 calls (through the vDSO: no syscall).
    while (now_ns() < end)
      for (int i = 0; i < 256; ++i, ++calls) (void)syscall(SYS_sched_getscheduler, 0);
  } else {
    // In 1 ms steps; behind schedule (a loaded machine), the calls catch up.
    const long long per_step = rate / 1000 > 0 ? rate / 1000 : 1;
    timespec next{};
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (long long step = 0; step < ms; ++step) {
      for (long long i = 0; i < per_step; ++i, ++calls) (void)syscall(SYS_sched_getscheduler, 0);
      next.tv_nsec += 1000000;
      if (next.tv_nsec >= 1000000000) {
        next.tv_nsec -= 1000000000;
        ++next.tv_sec;
      }
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
    }
  }
  std::printf("calls %lld\n", calls);
  return 0;
}
