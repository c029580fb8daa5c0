// History depth of the daemon's flight buffer: how many syscalls of a
// typical shell workload (format/synthetic_workload.h) one MiB of container
// budget keeps, for several chunk and merge sizes, time resolutions and zstd
// levels, and what
// it costs the daemon in CPU per event (the synthetic generator included).
// Figures from this run only.

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "format/synthetic_workload.h"
#include "recorder/daemon/flight_buffer.h"

using namespace traceloop;

int main(int argc, char** argv) {
  uint64_t events = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2'000'000;
  const auto& catalogue = format::builtin_catalogue(format::host_arch());
  struct Config {
    uint32_t chunk, merge, time_unit_ns;
  };
  // auto, us: what the daemon uses; 1:1 merge: small frames only, never merged.
  const Config configs[] = {
      {0, 0, 1000}, {0, 0, 1}, {64u << 10, 64u << 10, 1000}, {0, 256u << 10, 1000}, {0, 1u << 20, 1000}};
  std::printf("%-9s %-5s %-8s %-8s %-5s %10s %10s %14s\n", "budget", "level", "chunk", "merge", "time", "held/MiB",
              "bytes/evt", "ns/event(cpu)");
  auto size = [](uint32_t v) { return v == 0 ? std::string("auto") : std::to_string(v >> 10) + "K"; };
  for (uint64_t budget : {1ull << 20, 4ull << 20}) {
    for (int level : {1, 3, 6}) {
      for (const Config& c : configs) {
        daemon::FlightCodec codec(level);
        daemon::FlightBuffer buffer({.budget_bytes = budget,
                                     .chunk_raw_bytes = c.chunk,
                                     .merge_raw_bytes = c.merge,
                                     .time_unit_ns = c.time_unit_ns});
        format::SyntheticWorkload work(catalogue, 42);
        auto t0 = std::chrono::steady_clock::now();
        for (uint64_t i = 0; i < events; ++i) buffer.add(work.next(), codec);
        auto t1 = std::chrono::steady_clock::now();
        double per_mib = static_cast<double>(buffer.events_held()) * (1 << 20) / static_cast<double>(budget);
        double ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(events);
        std::printf("%-9s %-5d %-8s %-8s %-5s %10.0f %10.2f %14.1f\n", size(static_cast<uint32_t>(budget)).c_str(),
                    level, size(c.chunk).c_str(), size(c.merge).c_str(), c.time_unit_ns == 1 ? "ns" : "us", per_mib,
                    static_cast<double>(buffer.bytes()) / static_cast<double>(buffer.events_held()), ns);
      }
    }
  }
  return 0;
}
