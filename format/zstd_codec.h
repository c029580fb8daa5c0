#pragma once
// RAII wrappers over zstd contexts, reused across frames.

#include <cstddef>
#include <string>
#include <string_view>

#include "format/result.h"

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace traceloop::format {

class ZstdCompressor {
 public:
  explicit ZstdCompressor(int level);
  ~ZstdCompressor();
  ZstdCompressor(const ZstdCompressor&) = delete;
  ZstdCompressor& operator=(const ZstdCompressor&) = delete;

  // One zstd frame with content size and checksum, appended to `out`.
  void compress(std::string_view input, std::string& out);

 private:
  ZSTD_CCtx_s* ctx_;
};

class ZstdDecompressor {
 public:
  ZstdDecompressor();
  ~ZstdDecompressor();
  ZstdDecompressor(const ZstdDecompressor&) = delete;
  ZstdDecompressor& operator=(const ZstdDecompressor&) = delete;

  // Decompresses exactly `expected_size` bytes into `out` (which must hold
  // that many). Anything else — a frame declaring another size, more or
  // fewer bytes, a bad checksum — is an error: zstd never writes past `out`.
  Result<void> decompress(std::string_view input, char* out, size_t expected_size);

 private:
  ZSTD_DCtx_s* ctx_;
};

}  // namespace traceloop::format
