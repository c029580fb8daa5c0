// tl-show rendering throughput: syscalls per second rendered to /dev/null
// for each output format, on one core, measured side by side in one run
// (targets: >= 3M/s for the text formats, table and strace; >= 2M/s for
// typed JSON). Also the read-only pass (decompress + decode the frames, no
// rendering) so the rendering cost can be read as a ratio, and the cost of
// -y/-yy (the fd tracker fed every event) next to the same format without.
// The figures are the process's CPU time (the prefetch thread's
// decompression included): on a shared machine they move less than wall
// time, but still compare two builds side by side in one run.
//
//   render_bench [--events N] [--keep] [TRACE.tl]
// Without a trace, writes a realistic synthetic one (format::SyntheticWorkload)
// of N events (default 10,000,000) to a temporary file first.

#include <fmt/format.h>
#include <unistd.h>

#include <time.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "format/synthetic_workload.h"
#include "format/trace_reader.h"
#include "format/trace_writer.h"
#include "tools/lib/decoder/show.h"

namespace {

using namespace traceloop;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU time of this process: the "one core" figure, independent of other
// load on a shared machine (wall time is printed too).
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

fs::path generate(uint64_t events) {
  const fs::path path = fs::temp_directory_path() / fmt::format("render-bench-{}.tl", getpid());
  format::TraceMetadata metadata;
  format::fill_host_metadata(metadata);
  metadata.capture.mode = "synthetic";
  metadata.catalogue = format::builtin_catalogue(metadata.arch);
  auto writer = value_or_throw(format::TraceWriter::create(path, metadata));
  format::SyntheticWorkload workload(metadata.catalogue, 42);
  for (uint64_t i = 0; i < events; ++i) value_or_throw(writer.append(workload.next()));
  value_or_throw(writer.finish());
  return path;
}

uint64_t read_only(const fs::path& path) {
  auto reader = value_or_throw(format::TraceReader::open(path));
  uint64_t n = 0, checksum = 0;
  while (const auto* batch = value_or_throw(reader.next_batch())) {
    for (size_t i = 0; i < batch->size(); ++i) checksum += batch->event(i).args[0];
    n += batch->size();
  }
  if (checksum == 42) fmt::print("");  // keep the loop
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t events = 10'000'000;
  bool keep = false;
  std::string trace;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--events" && i + 1 < argc)
      events = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--keep")
      keep = true;
    else
      trace = a;
  }
  try {
    fs::path path = trace;
    if (trace.empty()) {
      const auto start = Clock::now();
      path = generate(events);
      fmt::print("generated {} events in {:.1f} s: {} ({:.1f} bytes/event)\n", events, seconds_since(start),
                 path.string(), static_cast<double>(fs::file_size(path)) / static_cast<double>(events));
    }
    auto start = Clock::now();
    double cpu_start = cpu_seconds();
    const uint64_t n = read_only(path);
    const double read_wall = seconds_since(start);
    const double read_s = cpu_seconds() - cpu_start;
    fmt::print("{:<28} cpu {:>6.2f} s  {:>6.2f} M syscalls/s   (wall {:.2f} s)\n", "read only (no rendering)", read_s,
               n / read_s / 1e6, read_wall);

    std::ofstream devnull("/dev/null", std::ios::binary);
    struct Run {
      tools::OutputFormat format;
      tools::FdPaths fd_paths;
      const char* name;
    };
    for (auto [format, fd_paths, name] : {Run{tools::OutputFormat::table, tools::FdPaths::off, "table"},
                                          Run{tools::OutputFormat::strace, tools::FdPaths::off, "strace"},
                                          Run{tools::OutputFormat::strace, tools::FdPaths::paths, "strace -y"},
                                          Run{tools::OutputFormat::strace, tools::FdPaths::detailed, "strace -yy"},
                                          Run{tools::OutputFormat::json, tools::FdPaths::off, "json"},
                                          Run{tools::OutputFormat::json, tools::FdPaths::paths, "json -y"}}) {
      tools::ShowOptions options;
      options.path = path.string();
      options.render.format = format;
      options.fd_paths = fd_paths;
      std::ostringstream err;
      start = Clock::now();
      cpu_start = cpu_seconds();
      const int status = tools::run_show(options, devnull, err);
      const double s = cpu_seconds() - cpu_start;
      const double wall = seconds_since(start);
      if (status != 0) {
        fmt::print(stderr, "{}: {}", name, err.str());
        return 2;
      }
      // Targets: 3M calls/s for the text formats, 2M/s for typed JSON.
      const double target = format == tools::OutputFormat::json ? 2e6 : 3e6;
      const std::string verdict = n / s >= target ? fmt::format("  [>= {}M/s: target met]", target / 1e6)
                                                  : fmt::format("  [below the {}M/s target]", target / 1e6);
      fmt::print("tl-show --format {:<11} cpu {:>6.2f} s  {:>6.2f} M syscalls/s   (wall {:.2f} s, {:.2f}x the read-only cpu time){}\n",
                 name, s, n / s / 1e6, wall, s / read_s, verdict);
    }
    if (trace.empty() && !keep) fs::remove(path);
    return 0;
  } catch (const FatalError& e) {
    fmt::print(stderr, "render_bench: {}\n", e.what());
    return 2;
  }
}
