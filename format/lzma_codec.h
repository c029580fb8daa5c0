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
#include <cstdint>
#include <memory>
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

// One LZMA2 stream cut into frames (codec 2, format 5): a compacted trace's
// events frame and the captures frames after it that hold its events'
// captured bytes, so that a file cut short keeps its events and most of
// their data, without each frame paying for a model and a dictionary of its
// own. Each frame ends at a flush point of the stream, so it decodes once
// the frames before it have; a frame depends only on earlier ones, never on
// later ones.
//
// A payload is: u8 link (0: the frame starts a stream; 1: it continues the
// stream of the previous such frame of the file), u8 dictionary size (the
// LZMA2 property byte of .xz: 0-40 for 4 KiB to 3 GiB), LZMA2 chunks, and
// the CRC-32 of the decompressed bytes, little endian.

class LzmaStreamEncoder {
 public:
  // `total_size`: the bytes all frames of the stream hold together, which
  // sizes the dictionary (a larger one would cost memory for nothing).
  explicit LzmaStreamEncoder(size_t total_size);
  ~LzmaStreamEncoder();
  LzmaStreamEncoder(const LzmaStreamEncoder&) = delete;
  LzmaStreamEncoder& operator=(const LzmaStreamEncoder&) = delete;

  // Appends the payload of the next frame, which holds `input`, to `out`.
  void compress(std::string_view input, std::string& out);
  // For the frames after: the literal contexts of LZMA2 (what predicts a
  // byte: lc high bits of the byte before, its position mod 2^lp, mod 2^pb
  // for matches), which suit captured bytes (text, aligned structures) other
  // than event columns (see lzma_codec.cpp). The stream says so in its next
  // chunk: a decoder needs nothing else.
  void set_literal_contexts(uint32_t lc, uint32_t lp, uint32_t pb);

 private:
  struct State;  // liblzma's stream, kept out of this header
  std::unique_ptr<State> state_;
};

// Decodes the stream frames of one file, in file order.
class LzmaStreamDecoder {
 public:
  LzmaStreamDecoder();
  ~LzmaStreamDecoder();
  LzmaStreamDecoder(const LzmaStreamDecoder&) = delete;
  LzmaStreamDecoder& operator=(const LzmaStreamDecoder&) = delete;

  // Like lzma_decompress, for the next frame of the stream. A frame that
  // continues a stream whose start was never seen, or whose previous frame
  // was corrupt, is an error, and so are all the frames after a corrupt one
  // until a frame starts a new stream. A dictionary larger than
  // `max_dictionary` is refused before anything is allocated.
  Result<void> decompress(std::string_view input, char* out, size_t expected_size, size_t max_dictionary);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace traceloop::format
