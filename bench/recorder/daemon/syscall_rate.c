/* A container's busy loop for the daemon benchmark: calls getppid (or
 * writes 64 bytes to /dev/null, or reads 4 KiB of /bin/busybox and hashes
 * them: a service that computes between its calls) at a set rate for a set
 * time, then prints how many calls it made. Linked statically: it runs inside a busybox-static
 * container, which has no C library.
 *
 *   syscall_rate getppid|write|hash RATE_PER_S SECONDS   (RATE 0: as fast as it can)
 *   prints: calls=N seconds=S rate=R cpu=C cpu_rate=Q
 *   (C: the CPU seconds the process used; Q = N / C, its calls per second of
 *   CPU: what a call costs, whatever else shares the CPUs)
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char** argv) {
  if (argc != 4 ||
      (strcmp(argv[1], "getppid") != 0 && strcmp(argv[1], "write") != 0 && strcmp(argv[1], "hash") != 0)) {
    fprintf(stderr, "usage: %s getppid|write|hash RATE_PER_S SECONDS\n", argv[0]);
    return 2;
  }
  const int use_write = strcmp(argv[1], "write") == 0;
  const int use_hash = strcmp(argv[1], "hash") == 0;
  const double rate = atof(argv[2]);
  const double seconds = atof(argv[3]);
  int fd = -1;
  if (use_write && (fd = open("/dev/null", O_WRONLY)) < 0) {
    perror("/dev/null");
    return 2;
  }
  int input = -1;
  if (use_hash && (input = open("/bin/busybox", O_RDONLY)) < 0) {
    perror("/bin/busybox");
    return 2;
  }
  static unsigned char block[4096];
  uint64_t hash = 1469598103934665603ull;
  off_t offset = 0;
  static const char buf[64] = "traceloop daemon benchmark: sixty-four bytes per write call....";
  /* Calls are made in slices of 1/1000 s worth of the rate; between slices
   * the loop waits until the schedule says the next one is due, so the rate
   * holds on average without a clock read per call. */
  const uint64_t slice = rate > 0 ? (uint64_t)(rate / 1000.0) + 1 : 1000;
  const uint64_t start = now_ns();
  const uint64_t end = start + (uint64_t)(seconds * 1e9);
  uint64_t calls = 0;
  uint64_t t = start;
  while (t < end) {
    for (uint64_t i = 0; i < slice; ++i) {
      if (use_hash) {
        ssize_t n = pread(input, block, sizeof(block), offset);
        if (n <= 0) {
          offset = 0;
          continue;
        }
        offset += n;
        for (ssize_t b = 0; b < n; ++b) hash = (hash ^ block[b]) * 1099511628211ull;
      } else if (use_write) {
        (void)!write(fd, buf, sizeof(buf));
      } else {
        syscall(SYS_getppid);
      }
    }
    calls += slice;
    t = now_ns();
    if (rate > 0) {
      const uint64_t due = start + (uint64_t)((double)calls / rate * 1e9);
      if (due > t) {
        const uint64_t wait = due - t;
        struct timespec ts = {(time_t)(wait / 1000000000ull), (long)(wait % 1000000000ull)};
        nanosleep(&ts, NULL);
        t = now_ns();
      }
    }
  }
  const double elapsed = (double)(t - start) / 1e9;
  struct timespec cpu_ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu_ts);
  const double cpu = (double)cpu_ts.tv_sec + (double)cpu_ts.tv_nsec / 1e9;
  printf("calls=%llu seconds=%.3f rate=%.0f cpu=%.3f cpu_rate=%.0f hash=%llx\n", (unsigned long long)calls, elapsed,
         (double)calls / elapsed, cpu, cpu > 0 ? (double)calls / cpu : 0.0, (unsigned long long)hash);
  return 0;
}
