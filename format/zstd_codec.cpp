#include "format/zstd_codec.h"

#include <zstd.h>

#include <memory>
#include <new>
#include <string>

namespace traceloop::format {

ZstdCompressor::ZstdCompressor(int level) : ctx_(ZSTD_createCCtx()) {
  if (ctx_ == nullptr) throw std::bad_alloc();
  ZSTD_CCtx_setParameter(ctx_, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(ctx_, ZSTD_c_checksumFlag, 1);
  ZSTD_CCtx_setParameter(ctx_, ZSTD_c_contentSizeFlag, 1);
}

ZstdCompressor::~ZstdCompressor() { ZSTD_freeCCtx(ctx_); }

void ZstdCompressor::compress(std::string_view input, std::string& out) {
  // Into room left uninitialised, then appended: `out` resized to the bound
  // would write zeros over all of it and keep that capacity, several times
  // what compression leaves (a large room is fresh pages, resident only
  // where written, and returned at once).
  const size_t bound = ZSTD_compressBound(input.size());
  const std::unique_ptr<char[]> room(new char[bound]);
  const size_t n = ZSTD_compress2(ctx_, room.get(), bound, input.data(), input.size());
  if (ZSTD_isError(n)) throw std::runtime_error(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
  out.append(room.get(), n);
}

ZstdDecompressor::ZstdDecompressor() : ctx_(ZSTD_createDCtx()) {
  if (ctx_ == nullptr) throw std::bad_alloc();
}

ZstdDecompressor::~ZstdDecompressor() { ZSTD_freeDCtx(ctx_); }

Result<void> ZstdDecompressor::decompress(std::string_view input, char* out, size_t expected_size) {
  const unsigned long long declared = ZSTD_getFrameContentSize(input.data(), input.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR) return Error{"corrupt frame (not zstd data)"};
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != expected_size)
    return Error{"corrupt frame (sizes disagree: zstd says " + std::to_string(declared) + " bytes, frame header " +
                 std::to_string(expected_size) + ")"};
  const size_t n = ZSTD_decompressDCtx(ctx_, out, expected_size, input.data(), input.size());
  if (ZSTD_isError(n)) return Error{std::string("corrupt frame (") + ZSTD_getErrorName(n) + ")"};
  if (n != expected_size)
    return Error{"corrupt frame (" + std::to_string(n) + " bytes decompressed, " + std::to_string(expected_size) +
                 " declared)"};
  return {};
}

}  // namespace traceloop::format
