#pragma once
// The zstd frames of a .tl file written out as a plain multi-frame .zst, so
// benchmarks can time `zstd -dc` on exactly the bytes a reader decompresses.

#include <cstdint>
#include <filesystem>

#include "format/result.h"

namespace traceloop::format {

struct ExportedFrames {
  uint64_t compressed_bytes = 0;
  uint64_t raw_bytes = 0;  // what they decompress to
};

Result<ExportedFrames> export_zstd_frames(const std::filesystem::path& trace, const std::filesystem::path& zst);

}  // namespace traceloop::format
