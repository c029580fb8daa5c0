#pragma once
// LZMA2 for frames where size matters more than speed: a finished run's
// trace is rewritten once (trace_compaction.h) and read at leisure. LZMA2
// models bytes more finely than zstd (literals in the context of the previous
// byte and position, repeated distances cheap): 7-10% smaller on event
// columns, for decoding ~5x slower.
//
// A payload is a raw LZMA2 stream (no .xz container: the frame header holds
// the sizes) followed by the CRC-32 of the decompressed bytes, little endian:
// like zstd's content checksum, it catches corruption the decoder does not.

#include <cstddef>
#include <string>
#include <string_view>

#include "format/result.h"

namespace traceloop::format {

// Appends the payload for `input` to `out`.
void lzma_compress(std::string_view input, std::string& out);

// Decompresses exactly `expected_size` bytes into `out` (which must hold that
// many). The decoder's dictionary is sized by `expected_size`, which the
// caller has checked against its limits: a hostile payload cannot make it
// allocate more. Anything else than a whole stream of exactly that size,
// with the right checksum and nothing after it, is an error.
Result<void> lzma_decompress(std::string_view input, char* out, size_t expected_size);

}  // namespace traceloop::format
