#pragma once
// A compacted trace whose events each capture a buffer of random bytes: what
// compaction cuts into several captures frames (it sizes them by what their
// bytes take compressed, and random bytes take all they are), in a file
// small enough for tests that read it cut at many places.

#include <cstdint>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "format/catalogue.h"
#include "format/trace_writer.h"

namespace traceloop::testing {

// `events` writes of `bytes` random bytes each, in events frames of
// `per_frame`, compacted as `run` does; returns the events written.
inline std::vector<format::OwnedEvent> write_random_capture_trace(const std::filesystem::path& path, size_t events,
                                                                  size_t bytes, uint32_t per_frame = 65536) {
  format::TraceMetadata metadata;
  format::fill_host_metadata(metadata);
  metadata.catalogue = format::builtin_catalogue(format::Arch::x86_64);
  format::WriterOptions options;
  options.max_events_per_frame = per_frame;
  options.compact_max_raw_bytes = 64u << 20;
  auto writer = format::TraceWriter::create(path, metadata, options);
  if (!writer) throw std::runtime_error(writer.error().message);
  std::mt19937_64 random(42);
  std::vector<format::OwnedEvent> written;
  for (size_t i = 0; i < events; ++i) {
    format::OwnedEvent e;
    e.comm = "writer";
    e.fields.pid = e.fields.tid = 100 + static_cast<uint32_t>(i % 3);
    e.fields.enter_ns = 1'000'000 + i * 5000;
    e.fields.exit_ns = e.fields.enter_ns + 2000;
    e.fields.nr = 1;  // write
    e.fields.arg_count = 3;
    e.fields.args = {1, 0x7ffc00001000 + i * 64, bytes};
    e.fields.ret = static_cast<int64_t>(bytes);
    std::string data(bytes, '\0');
    for (char& c : data) c = static_cast<char>(random());
    e.captures.push_back({1, static_cast<uint32_t>(bytes), std::move(data)});
    written.push_back(std::move(e));
    if (!writer->append(written.back().view())) throw std::runtime_error("append failed");
  }
  if (!writer->finish()) throw std::runtime_error("finish failed");
  return written;
}

}  // namespace traceloop::testing
