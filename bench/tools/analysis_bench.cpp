// analysis_bench [--events N] [--file TRACE] [--dir DIR] [--keep]
//                [--diff-events N] [--diff-only] [--diff-baseline TL_DIFF]
//
// Ratios measured side by side in one run (SPEC "Performance targets"):
//   tl-stats FILE                     vs  zstd -dc FRAMES.zst >/dev/null   (target <= 3x)
//   tl-grep PATTERN FILE              vs  tl-show FILE | grep -E PATTERN    (target < 1x)
//   tl-diff A B                       peak RSS per event (target <= 32 bytes for both traces
//                                     together) and time, next to tl-stats A + tl-stats B
//                                     (one streaming pass over each) and, with
//                                     --diff-baseline, another tl-diff binary
// tl-diff's A and B are two runs of one synthetic workload: B has other pids,
// addresses moved as by ASLR, and a failed call every 200k events (so the
// report has hunks to read again).
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
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "format/catalogue.h"
#include "format/event.h"
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

// A trace of this host's synthetic workload, and the writer of its file.
struct SyntheticTrace {
  format::TraceMetadata metadata;
  format::TraceWriter writer;
};

SyntheticTrace synthetic_trace(const fs::path& path) {
  format::TraceMetadata metadata;
  format::fill_host_metadata(metadata);
  metadata.capture.mode = "synthetic";
  metadata.catalogue = format::builtin_catalogue(format::host_arch());
  auto writer = format::TraceWriter::create(path, metadata);
  if (!writer) throw std::runtime_error(writer.error().message);
  return {std::move(metadata), std::move(*writer)};
}

void generate(const fs::path& path, uint64_t events) {
  auto trace = synthetic_trace(path);
  auto* writer = &trace.writer;
  format::SyntheticWorkload workload(trace.metadata.catalogue, 1);
  for (uint64_t i = 0; i < events; ++i) {
    if (auto r = writer->append(workload.next()); !r) throw std::runtime_error(r.error().message);
  }
  if (auto r = writer->finish(); !r) throw std::runtime_error(r.error().message);
}

// Another run of the same workload: other pids and addresses, a few calls failing.
void generate_second_run(const fs::path& path, uint64_t events) {
  auto trace = synthetic_trace(path);
  auto* writer = &trace.writer;
  format::SyntheticWorkload workload(trace.metadata.catalogue, 1);
  constexpr uint32_t kPidShift = 1000;
  constexpr uint64_t kAddressShift = 0x3a5000;
  constexpr uint64_t kLowestAddress = 0x10000;
  for (uint64_t i = 0; i < events; ++i) {
    format::OwnedEvent e = format::OwnedEvent::from(workload.next());
    e.fields.pid += kPidShift;
    e.fields.tid += kPidShift;
    if (const format::SyscallSpec* spec = trace.metadata.catalogue.find(e.fields.nr)) {
      for (size_t a = 0; a < spec->params.size() && a < 6; ++a) {
        uint64_t& arg = e.fields.args[a];
        switch (spec->params[a].kind) {
          case format::ArgKind::pid:
            if (static_cast<int32_t>(arg) > 0) arg += kPidShift;
            break;
          case format::ArgKind::integer:
          case format::ArgKind::unsigned_int:
          case format::ArgKind::fd:
          case format::ArgKind::dirfd:
          case format::ArgKind::uid:
          case format::ArgKind::gid:
          case format::ArgKind::flags:
          case format::ArgKind::enum_value:
          case format::ArgKind::signal:
          case format::ArgKind::mode:
            break;
          default:  // pointers, hex values and data
            if (arg >= kLowestAddress) arg += kAddressShift;
            break;
        }
      }
      const bool ok = e.fields.state == format::CallState::returned && !e.fields.failed();
      if (ok && spec->returns == format::ReturnKind::pid && e.fields.ret > 0) e.fields.ret += kPidShift;
      if (ok && spec->returns == format::ReturnKind::hex && static_cast<uint64_t>(e.fields.ret) >= kLowestAddress)
        e.fields.ret += static_cast<int64_t>(kAddressShift);
    }
    if (i % 200'000 == 12'345 && e.fields.state == format::CallState::returned) e.fields.ret = -2;  // ENOENT
    if (auto r = writer->append(e.view()); !r) throw std::runtime_error(r.error().message);
  }
  if (auto r = writer->finish(); !r) throw std::runtime_error(r.error().message);
}

// Wall time, CPU time and peak RSS of one command run directly (no shell in
// between, so the peak is the command's own), its output to /dev/null.
struct Measured {
  double wall = 0;
  double cpu = 0;
  uint64_t max_rss_bytes = 0;
};

Measured run_measured(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::fflush(stdout);  // or the child's stdout would print what is buffered again
  const auto start = std::chrono::steady_clock::now();
  const pid_t child = fork();
  if (child < 0) throw std::runtime_error("fork failed");
  if (child == 0) {
    if (FILE* null = std::freopen("/dev/null", "w", stdout); null == nullptr) _exit(127);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  struct rusage usage {};
  if (wait4(child, &status, 0, &usage) != child) throw std::runtime_error("wait4 failed");
  Measured m;
  m.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m.cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
          static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  m.max_rss_bytes = static_cast<uint64_t>(usage.ru_maxrss) * 1024;
  // tl-diff exits 1 when the traces differ: only a signal or 2+ is a failure here.
  if (!WIFEXITED(status) || WEXITSTATUS(status) > 1) throw std::runtime_error("command failed: " + argv[0]);
  return m;
}

Measured best_measured(const std::vector<std::string>& argv, int rounds) {
  Measured best{1e300, 1e300, ~uint64_t{0}};
  for (int i = 0; i < rounds; ++i) {
    const Measured m = run_measured(argv);
    best.wall = std::min(best.wall, m.wall);
    best.cpu = std::min(best.cpu, m.cpu);
    best.max_rss_bytes = std::min(best.max_rss_bytes, m.max_rss_bytes);
  }
  return best;
}

void bench_diff(const fs::path& dir, uint64_t events, const std::string& baseline, int rounds) {
  const fs::path a = dir / "diff-a.tl", b = dir / "diff-b.tl";
  // Half the pair: the difference of the peaks is what events cost, the
  // reader's buffers (full-sized once a file has a few frames) and the
  // program itself left out.
  const uint64_t small_events = events / 2;
  const fs::path small_a = dir / "diff-small-a.tl", small_b = dir / "diff-small-b.tl";
  fmt::print("\ngenerating two runs of {} (and of {}) synthetic events for tl-diff ...\n", events, small_events);
  generate(a, events);
  generate_second_run(b, events);
  generate(small_a, small_events);
  generate_second_run(small_b, small_events);
  fmt::print("tl-diff A B: {} + {} events ({:.1f} + {:.1f} MiB), best of {}:\n", events, events,
             static_cast<double>(fs::file_size(a)) / (1 << 20), static_cast<double>(fs::file_size(b)) / (1 << 20),
             rounds);
  const double both = static_cast<double>(2 * events);
  auto row = [&](const char* what, const Measured& m) {
    fmt::print("  {:<34} {:8.3f} s  {:8.3f} s cpu  {:8.1f} MiB peak RSS  {:7.1f} bytes/event (both traces)\n", what,
               m.wall, m.cpu, static_cast<double>(m.max_rss_bytes) / (1 << 20),
               static_cast<double>(m.max_rss_bytes) / both);
  };
  const Measured stats_a = best_measured({TL_STATS_BIN, a.string()}, rounds);
  const Measured stats_b = best_measured({TL_STATS_BIN, b.string()}, rounds);
  Measured stats{stats_a.wall + stats_b.wall, stats_a.cpu + stats_b.cpu, std::max(stats_a.max_rss_bytes, stats_b.max_rss_bytes)};
  row("tl-stats A + tl-stats B", stats);
  const Measured diff = best_measured({TL_DIFF_BIN, a.string(), b.string()}, rounds);
  row("tl-diff A B", diff);
  const Measured small = best_measured({TL_DIFF_BIN, small_a.string(), small_b.string()}, rounds);
  const double marginal = (static_cast<double>(diff.max_rss_bytes) - static_cast<double>(small.max_rss_bytes)) /
                          static_cast<double>(2 * (events - small_events));
  fmt::print("  ratio tl-diff / tl-stats A+B       {:8.2f}x  {:8.2f}x cpu\n", diff.wall / stats.wall,
             diff.cpu / stats.cpu);
  fmt::print("  tl-diff peak RSS per event         {:8.1f} bytes (both traces), {:.1f} bytes per added event "
             "(vs {:.1f} MiB for half)   (target <= 32 bytes/event)\n",
             static_cast<double>(diff.max_rss_bytes) / both, marginal,
             static_cast<double>(small.max_rss_bytes) / (1 << 20));
  if (!baseline.empty()) {
    const Measured base = best_measured({baseline, a.string(), b.string()}, rounds);
    row("baseline tl-diff A B", base);
  }
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t events = 10'000'000;
  std::string file;
  fs::path dir = fs::temp_directory_path() / fmt::format("tl-analysis-bench-{}", getpid());
  bool keep = false;
  uint64_t diff_events = 1'000'000;
  bool diff_only = false;
  std::string diff_baseline;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--events" && i + 1 < argc) events = std::stoull(argv[++i]);
    else if (arg == "--file" && i + 1 < argc) file = argv[++i];
    else if (arg == "--dir" && i + 1 < argc) dir = argv[++i];
    else if (arg == "--keep") keep = true;
    else if (arg == "--diff-events" && i + 1 < argc) diff_events = std::stoull(argv[++i]);
    else if (arg == "--diff-only") diff_only = true;
    else if (arg == "--diff-baseline" && i + 1 < argc) diff_baseline = argv[++i];
    else {
      fmt::print(stderr,
                 "usage: analysis_bench [--events N] [--file TRACE] [--dir DIR] [--keep]\n"
                 "                      [--diff-events N] [--diff-only] [--diff-baseline TL_DIFF]\n");
      return 2;
    }
  }
  try {
    fs::create_directories(dir);
    if (diff_only) {
      bench_diff(dir, diff_events, diff_baseline, 3);
      if (!keep) fs::remove_all(dir);
      return 0;
    }
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
    bench_diff(dir, diff_events, diff_baseline, rounds);
    if (!keep) fs::remove_all(dir);
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "analysis_bench: {}\n", e.what());
    if (!keep) fs::remove_all(dir);
    return 2;
  }
}
