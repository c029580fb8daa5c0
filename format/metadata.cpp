#include "format/metadata.h"

#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

namespace traceloop::format {
namespace {

int64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Wall minus boot time, taken from the narrowest of a few read brackets so
// that a preemption between the two clock reads does not skew the offset.
int64_t boot_to_wall_offset() {
  int64_t best_offset = 0;
  int64_t best_width = INT64_MAX;
  for (int i = 0; i < 5; ++i) {
    const int64_t boot_before = clock_ns(CLOCK_BOOTTIME);
    const int64_t wall = clock_ns(CLOCK_REALTIME);
    const int64_t boot_after = clock_ns(CLOCK_BOOTTIME);
    if (boot_after - boot_before < best_width) {
      best_width = boot_after - boot_before;
      best_offset = wall - (boot_before + (boot_after - boot_before) / 2);
    }
  }
  return best_offset;
}

}  // namespace

std::string_view traceloop_version() { return TRACELOOP_VERSION; }

void fill_host_metadata(TraceMetadata& metadata) {
  metadata.recorder_version = std::string(traceloop_version());
  utsname names{};
  if (uname(&names) == 0) {
    metadata.host_name = names.nodename;
    metadata.kernel_release = names.release;
  }
  metadata.arch = host_arch();
  metadata.boot_to_wall_ns = boot_to_wall_offset();
  metadata.created_wall_ns = clock_ns(CLOCK_REALTIME);
}

}  // namespace traceloop::format
