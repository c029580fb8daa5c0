// History depth of the daemon's flight buffer: how many syscalls of a
// typical shell workload (format/synthetic_workload.h) one MiB of container
// budget keeps, for several chunk sizes and zstd levels, and what it costs
// the daemon in CPU per event. Figures from this run only.

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "format/synthetic_workload.h"
#include "recorder/daemon/flight_buffer.h"

using namespace traceloop;

int main(int argc, char** argv) {
  uint64_t events = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2'000'000;
  const auto& catalogue = format::builtin_catalogue(format::host_arch());
  std::printf("%-10s %-6s %-10s %14s %12s %14s\n", "budget", "level", "chunk", "held/MiB", "bytes/evt", "ns/event(cpu)");
  for (uint64_t budget : {1ull << 20, 4ull << 20}) {
    for (int level : {1, 3, 6}) {
      for (uint32_t chunk : {0u, 64u << 10, 256u << 10}) {
        format::ZstdCompressor zstd(level);
        daemon::FlightBuffer buffer({.budget_bytes = budget, .chunk_raw_bytes = chunk});
        format::SyntheticWorkload work(catalogue, 42);
        auto t0 = std::chrono::steady_clock::now();
        for (uint64_t i = 0; i < events; ++i) buffer.add(work.next(), zstd);
        auto t1 = std::chrono::steady_clock::now();
        double per_mib = static_cast<double>(buffer.events_held()) * (1 << 20) / static_cast<double>(budget);
        double ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(events);
        std::printf("%-10llu %-6d %-10s %14.0f %12.2f %14.1f\n", static_cast<unsigned long long>(budget), level,
                    chunk == 0 ? "auto" : std::to_string(chunk).c_str(), per_mib,
                    static_cast<double>(buffer.bytes()) / static_cast<double>(buffer.events_held()), ns);
      }
    }
  }
  return 0;
}
