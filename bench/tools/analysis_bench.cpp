// analysis_bench [--events N] [--file TRACE] [--dir DIR] [--keep]
//
// Ratios measured side by side in one run (SPEC "Performance targets"):
//   tl-stats FILE                     vs  zstd -dc FRAMES.zst >/dev/null   (target <= 3x)
//   tl-grep PATTERN FILE              vs  tl-show FILE | grep -E PATTERN    (target < 1x)
//
// The .tl file is a preamble plus frames, each a 16-byte frame header then
// one zstd frame. To give zstd exactly the same compressed bytes, the bench
// copies the zstd frames, headers left out, into a plain FRAMES.zst (which
// `zstd -dc` decompresses as a concatenation of frames) and times that.
// The trace is generated with format's SyntheticWorkload unless --file is given.
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "format/catalogue.h"
#include "format/frame_export.h"
#include "format/metadata.h"
#include "format/synthetic_workload.h"
#include "format/trace_writer.h"

namespace fs = std::filesystem;
using namespace traceloop;

namespace {

// Wall time and the CPU time (user + system) of the command's processes: on
// a shared machine the CPU time is the steadier figure, so both are printed.
struct Timing {
  double wall = 0;
  double cpu = 0;
};

double cpu_of_children() {
  struct rusage usage {};
  getrusage(RUSAGE_CHILDREN, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

Timing run_timed(const std::string& command) {
  const double cpu_before = cpu_of_children();
  const auto start = std::chrono::steady_clock::now();
  const int status = std::system(command.c_str());
  Timing t;
  t.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  t.cpu = cpu_of_children() - cpu_before;
  // grep and tl-grep exit 1 on no match: only a signal or 2+ is a failure here.
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) > 1)
    throw std::runtime_error("command failed: " + command);
  return t;
}

// Best of `rounds` for each figure: the least disturbed run on a shared machine.
Timing best_of(const std::string& command, int rounds) {
  Timing best{1e300, 1e300};
  for (int i = 0; i < rounds; ++i) {
    const Timing t = run_timed(command);
    best.wall = std::min(best.wall, t.wall);
    best.cpu = std::min(best.cpu, t.cpu);
  }
  return best;
}

void generate(const fs::path& path, uint64_t events) {
  format::TraceMetadata metadata;
  format::fill_host_metadata(metadata);
  metadata.capture.mode = "synthetic";
  metadata.catalogue = format::builtin_catalogue(format::host_arch());
  auto writer = format::TraceWriter::create(path, metadata);
  if (!writer) throw std::runtime_error(writer.error().message);
  format::SyntheticWorkload workload(metadata.catalogue, 1);
  for (uint64_t i = 0; i < events; ++i) {
    if (auto r = writer->append(workload.next()); !r) throw std::runtime_error(r.error().message);
  }
  if (auto r = writer->finish(); !r) throw std::runtime_error(r.error().message);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t events = 10'000'000;
  std::string file;
  fs::path dir = fs::temp_directory_path() / fmt::format("tl-analysis-bench-{}", getpid());
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--events" && i + 1 < argc) events = std::stoull(argv[++i]);
    else if (arg == "--file" && i + 1 < argc) file = argv[++i];
    else if (arg == "--dir" && i + 1 < argc) dir = argv[++i];
    else if (arg == "--keep") keep = true;
    else {
      fmt::print(stderr, "usage: analysis_bench [--events N] [--file TRACE] [--dir DIR] [--keep]\n");
      return 2;
    }
  }
  try {
    fs::create_directories(dir);
    const fs::path trace = file.empty() ? dir / "bench.tl" : fs::path(file);
    if (file.empty()) {
      fmt::print("generating {} synthetic events into {} ...\n", events, trace.string());
      generate(trace, events);
    }
    const fs::path zst = dir / "frames.zst";
    const auto exported = format::export_zstd_frames(trace, zst);
    if (!exported) {
      fmt::print(stderr, "{}\n", exported.error().message);
      return 2;
    }
    const uint64_t compressed = exported->compressed_bytes;
    fmt::print("trace: {} ({:.1f} MiB, zstd frames {:.1f} MiB)\n", trace.string(),
               static_cast<double>(fs::file_size(trace)) / (1 << 20), static_cast<double>(compressed) / (1 << 20));

    const std::string t = trace.string();
    const std::string stats_bin = TL_STATS_BIN, grep_bin = TL_GREP_BIN, show_bin = TL_SHOW_BIN;
    const int rounds = 3;

    const Timing zstd_t = best_of(fmt::format("zstd -q -dc '{}' > /dev/null", zst.string()), rounds);
    const Timing stats_t = best_of(fmt::format("'{}' '{}' > /dev/null", stats_bin, t), rounds);
    fmt::print("\ntl-stats vs zstd -dc (same zstd frames), best of {} (wall / cpu = user+sys):\n", rounds);
    fmt::print("  zstd -dc FRAMES.zst >/dev/null   {:8.3f} s  {:8.3f} s cpu\n", zstd_t.wall, zstd_t.cpu);
    fmt::print("  tl-stats FILE >/dev/null         {:8.3f} s  {:8.3f} s cpu\n", stats_t.wall, stats_t.cpu);
    fmt::print("  ratio tl-stats / zstd            {:8.2f}x  {:8.2f}x cpu   (target <= 3x)\n",
               stats_t.wall / zstd_t.wall, stats_t.cpu / zstd_t.cpu);

    struct GrepCase {
      const char* what;
      std::string grep_args;
      std::string pattern;  // for grep -E on tl-show's output
    };
    const std::vector<GrepCase> cases = {
        {"literal path (pre-filter on captures)", "'/etc/'", "/etc/"},
        {"regex on the whole line (every event rendered; two workers)", "'ENOENT|EACCES'", "ENOENT|EACCES"},
        {"--field syscall (decided per syscall number)", "--field syscall '^openat$'", "openat"},
    };
    fmt::print("\ntl-grep vs tl-show FILE | grep -E PATTERN (output to /dev/null), best of {}:\n", rounds);
    for (const auto& c : cases) {
      const Timing pipe_t =
          best_of(fmt::format("'{}' '{}' | grep -E '{}' > /dev/null", show_bin, t, c.pattern), rounds);
      const Timing grep_t = best_of(fmt::format("'{}' {} '{}' > /dev/null", grep_bin, c.grep_args, t), rounds);
      fmt::print("  {}\n", c.what);
      fmt::print("    tl-show | grep -E   {:8.3f} s  {:8.3f} s cpu\n", pipe_t.wall, pipe_t.cpu);
      fmt::print("    tl-grep             {:8.3f} s  {:8.3f} s cpu\n", grep_t.wall, grep_t.cpu);
      fmt::print("    ratio tl-grep / pipeline {:6.2f}x  {:6.2f}x cpu   (target < 1x)\n", grep_t.wall / pipe_t.wall,
                 grep_t.cpu / pipe_t.cpu);
    }
    if (!keep) fs::remove_all(dir);
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "analysis_bench: {}\n", e.what());
    if (!keep) fs::remove_all(dir);
    return 2;
  }
}
