#pragma once
// The two clocks the recorder reads in user space: the wall clock, for what a
// person reads (a container's start and end), and CLOCK_BOOTTIME, the clock
// of the BPF side's timestamps, for durations.

#include <time.h>

#include <cstdint>

namespace traceloop::recorder {

inline int64_t wall_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000ll + ts.tv_nsec;
}

inline uint64_t boot_ns() {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace traceloop::recorder
