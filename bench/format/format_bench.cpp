// Writes and reads N synthetic but realistic events (the shell workload of
// format/synthetic_workload.h) and prints, from one run:
//   bytes per event on disk,
//   write and read rates,
//   read time relative to `zstd -dc` of the very same zstd frames.
// Usage: format_bench [EVENTS=10000000] [DIR=/tmp]

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "format/frame_export.h"
#include "format/synthetic_workload.h"
#include "format/trace_reader.h"
#include "format/trace_writer.h"

namespace {

using Clock = std::chrono::steady_clock;
using traceloop::format::Arch;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10'000'000;
  const std::filesystem::path dir = argc > 2 ? argv[2] : std::filesystem::temp_directory_path();
  const auto tl = dir / "format_bench.tl";
  const auto zst = dir / "format_bench.zst";

  traceloop::format::TraceMetadata metadata;
  traceloop::format::fill_host_metadata(metadata);
  metadata.catalogue = traceloop::format::builtin_catalogue(Arch::x86_64);
  metadata.capture.mode = "synthetic";

  auto start = Clock::now();
  {
    auto writer = traceloop::format::TraceWriter::create(tl, metadata);
    if (!writer) {
      std::fprintf(stderr, "%s\n", writer.error().message.c_str());
      return 2;
    }
    traceloop::format::SyntheticWorkload workload(metadata.catalogue, 42);
    for (uint64_t i = 0; i < n; ++i) {
      if (auto r = writer->append(workload.next()); !r) {
        std::fprintf(stderr, "%s\n", r.error().message.c_str());
        return 2;
      }
    }
    if (auto r = writer->finish(); !r) {
      std::fprintf(stderr, "%s\n", r.error().message.c_str());
      return 2;
    }
  }
  const double write_s = seconds_since(start);
  const auto file_bytes = std::filesystem::file_size(tl);

  // Read: full decode of every event (what tl-show and tl-stats pay at least).
  start = Clock::now();
  uint64_t events = 0, checksum = 0;
  {
    auto reader = traceloop::format::TraceReader::open(tl);
    if (!reader) {
      std::fprintf(stderr, "%s\n", reader.error().message.c_str());
      return 2;
    }
    for (const auto& record : reader->records()) {
      if (record.kind != traceloop::format::Record::Kind::event) continue;
      ++events;
      checksum += record.event.nr + static_cast<uint64_t>(record.event.ret) + record.event.captures.size();
    }
  }
  const double read_s = seconds_since(start);

  const auto exported = traceloop::format::export_zstd_frames(tl, zst);
  if (!exported) {
    std::fprintf(stderr, "%s\n", exported.error().message.c_str());
    return 2;
  }
  const uint64_t raw_bytes = exported->raw_bytes;
  start = Clock::now();
  const std::string command = "zstd -q -dc '" + zst.string() + "' > /dev/null";
  const int status = std::system(command.c_str());
  const double zstd_s = seconds_since(start);
  std::filesystem::remove(zst);
  std::filesystem::remove(tl);
  if (status != 0) {
    std::fprintf(stderr, "zstd -dc failed (is the zstd CLI installed?)\n");
    return 2;
  }

  std::printf("events                      %llu (read back %llu, checksum %llu)\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(events),
              static_cast<unsigned long long>(checksum));
  std::printf("file size                   %.1f MiB (%.2f bytes/event; columns before zstd %.2f bytes/event)\n",
              static_cast<double>(file_bytes) / (1 << 20), static_cast<double>(file_bytes) / static_cast<double>(n),
              static_cast<double>(raw_bytes) / static_cast<double>(n));
  std::printf("write                       %.2f s (%.2f M events/s)\n", write_s, static_cast<double>(n) / write_s / 1e6);
  std::printf("read (decode every event)   %.2f s (%.2f M events/s)\n", read_s, static_cast<double>(n) / read_s / 1e6);
  std::printf("zstd -dc of the same frames %.2f s\n", zstd_s);
  std::printf("ratio read / zstd -dc       %.2fx\n", read_s / zstd_s);
  return events == n ? 0 : 1;
}
