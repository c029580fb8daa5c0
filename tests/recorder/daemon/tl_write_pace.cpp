// Test helper: RATE write(2) calls a second to stdout for SECONDS, in 1 ms
// steps, then exits. Linked statically: it runs in the busybox rootfs of the
// test containers, which has no C library.
#include <time.h>
#include <unistd.h>

#include <cstdlib>

int main(int argc, char** argv) {
  const long rate = argc > 1 ? std::atol(argv[1]) : 200000;
  const long seconds = argc > 2 ? std::atol(argv[2]) : 5;
  const long per_step = rate / 1000;
  static const char kLine[] = "tl-write-pace\n";
  timespec next{};
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (long step = 0; step < seconds * 1000; ++step) {
    for (long i = 0; i < per_step; ++i) (void)!write(1, kLine, sizeof(kLine) - 1);
    next.tv_nsec += 1000000;
    if (next.tv_nsec >= 1000000000) {
      next.tv_nsec -= 1000000000;
      ++next.tv_sec;
    }
    // Behind schedule (a loaded machine), the calls catch up: the total is
    // always RATE * SECONDS.
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
  }
  return 0;
}
