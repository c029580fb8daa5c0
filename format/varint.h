#pragma once
// LEB128 varints and zigzag mapping for the event columns. Internal to format/.

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>
#endif

namespace traceloop::format::detail {

inline uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// Writes the LEB128 bytes of `v` (at most 10) to `buf`; returns how many.
inline size_t encode_varint(uint64_t v, char* buf) {
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  return n;
}

inline void put_varint(std::string& out, uint64_t v) {
  char buf[10];
  out.append(buf, encode_varint(v, buf));
}

// How many of the 8 bytes of `bits` have their top bit set, those bits
// alone (0x80 per byte) given.
inline unsigned count_top_bits(uint64_t bits) {
  return static_cast<unsigned>(((bits >> 7) * 0x0101010101010101ull) >> 56);
}

// How many varints `column` holds, without decoding them; -1 if the last is
// cut short or one holds more than 64 bits (longer than 10 bytes, or a tenth
// byte above 1): what passes decodes without failing. Eight bytes at a time:
// a run of 10 continuation bytes spans two words at least.
inline int64_t count_varints(std::string_view column) {
  constexpr uint64_t kTops = 0x8080808080808080ull;
  int64_t count = 0;
  unsigned run = 0;  // continuation bytes in a row
  size_t at = 0;
  for (; column.size() - at >= 8; at += 8) {
    uint64_t word;
    std::memcpy(&word, column.data() + at, sizeof word);
    if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
    const uint64_t stops = ~word & kTops;  // the last bytes of varints
    if (stops == 0) {
      if ((run += 8) >= 10) return -1;
      continue;
    }
    // Only the word's first stop can end a varint begun before it, the one
    // varint here that can be 10 bytes long: its tenth byte holds bit 63 alone.
    const unsigned first = static_cast<unsigned>(__builtin_ctzll(stops)) / 8;
    if (run + first >= 10) return -1;
    if (run + first == 9 && static_cast<uint8_t>(column[at + first]) > 1) return -1;
    count += count_top_bits(stops);
    run = static_cast<unsigned>(__builtin_clzll(stops)) / 8;
  }
  for (; at < column.size(); ++at) {
    if (static_cast<uint8_t>(column[at]) < 0x80) {
      if (run == 9 && static_cast<uint8_t>(column[at]) > 1) return -1;  // beyond 64 bits
      ++count;
      run = 0;
    } else if (++run >= 10) {
      return -1;
    }
  }
  return run == 0 ? count : -1;
}

// Reads varints from a column; any overrun, overlong encoding or value beyond
// 64 bits sets failed() and yields 0, so a corrupt column is detected once,
// after decoding.
class VarintReader {
 public:
  explicit VarintReader(std::string_view data)
      : p_(reinterpret_cast<const uint8_t*>(data.data())), end_(p_ + data.size()) {}
  // The one-byte case inline everywhere; the rest out of line, so that the
  // decoder's loop (a dozen columns) keeps this small enough to inline.
  [[gnu::always_inline]] uint64_t next() {
    if (p_ < end_ && *p_ < 0x80) [[likely]] return *p_++;
    return next_long();
  }
  bool failed() const { return failed_; }
  bool at_end() const { return p_ == end_; }
  // A hint only: the address may lie past the column, where it does nothing.
  void prefetch_next_line() const {
    __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(p_) + 64));
  }

  // The next `n` values into out[0, n), as n calls of next() would give
  // them (failures included). Most values of a column fit one byte: eight
  // such in a row are taken from one load. `out` has room for n + 7: a run
  // of one-byte values is stored eight at a time, past n too.
  static constexpr size_t kSlack = 7;
  void next_n(uint64_t* out, size_t n) {
    size_t i = 0;
    while (i < n) {
      if (end_ - p_ >= 8) [[likely]] {
        uint64_t word;
        std::memcpy(&word, p_, sizeof word);
        if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
        if ((word & 0x8080) == 0x80) {  // a two-byte value first: most syscall numbers of a real trace
          out[i++] = (word & 0x7f) | ((word >> 1) & 0x3f80);
          p_ += 2;
          continue;
        }
        widen_bytes(word, out + i);
        const uint64_t continued = word & 0x8080808080808080ull;
        // The bytes before the first continuation byte are whole values.
        const size_t ones = continued == 0 ? 8 : static_cast<size_t>(__builtin_ctzll(continued)) / 8;
        const size_t taken = ones < n - i ? ones : n - i;
        p_ += taken;
        i += taken;
        if (ones < 8 && i < n) {
          // A two-byte value next (syscall numbers from 128 on) is in the word too.
          const uint64_t rest = word >> (8 * ones);
          if (ones < 7 && (rest & 0x8000) == 0) {
            out[i++] = (rest & 0x7f) | ((rest >> 1) & 0x3f80);
            p_ += 2;
          } else {
            out[i++] = next_long();
          }
        }
      } else {
        out[i++] = next();
      }
    }
  }

 private:
  // out[k] = byte k of `word` (little endian), k < 8.
  static void widen_bytes(uint64_t word, uint64_t* out) {
#if defined(__SSE2__) && defined(__x86_64__)
    const __m128i zero = _mm_setzero_si128();
    const __m128i halves = _mm_unpacklo_epi8(_mm_cvtsi64_si128(static_cast<long long>(word)), zero);
    const __m128i low = _mm_unpacklo_epi16(halves, zero), high = _mm_unpackhi_epi16(halves, zero);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_unpacklo_epi32(low, zero));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2), _mm_unpackhi_epi32(low, zero));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 4), _mm_unpacklo_epi32(high, zero));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 6), _mm_unpackhi_epi32(high, zero));
#else
    out[0] = word & 0xff;
    out[1] = (word >> 8) & 0xff;
    out[2] = (word >> 16) & 0xff;
    out[3] = (word >> 24) & 0xff;
    out[4] = (word >> 32) & 0xff;
    out[5] = (word >> 40) & 0xff;
    out[6] = (word >> 48) & 0xff;
    out[7] = word >> 56;
#endif
  }

  [[gnu::noinline]] uint64_t next_long() {
    // Up to 8 bytes (values below 2^56: times, durations, addresses) in one
    // load, without a branch per byte, when the column holds 8 more bytes.
    if (end_ - p_ >= 8) [[likely]] {
      if (p_[1] < 0x80) {  // two bytes, the most common of these: no more work
        const uint64_t v = (p_[0] & 0x7fu) | static_cast<uint64_t>(p_[1]) << 7;
        p_ += 2;
        return v;
      }
      uint64_t word;
      std::memcpy(&word, p_, sizeof word);
      if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
      // The top bit of each byte that ends a varint.
      if (const uint64_t stops = ~word & 0x8080808080808080ull; stops != 0) {
        const unsigned bits = static_cast<unsigned>(__builtin_ctzll(stops)) + 1;  // 8 per byte it takes
        uint64_t v = (bits == 64 ? word : word & ((uint64_t{1} << bits) - 1)) & 0x7f7f7f7f7f7f7f7full;
        // The 7-bit groups side by side: pairs into 14 bits, then 28, then 56.
        v = (v & 0x007f007f007f007full) | ((v & 0x7f007f007f007f00ull) >> 1);
        v = (v & 0x00003fff00003fffull) | ((v & 0x3fff00003fff0000ull) >> 2);
        v = (v & 0x000000000fffffffull) | ((v & 0x0fffffff00000000ull) >> 4);
        p_ += bits / 8;
        return v;
      }
    }
    uint64_t result = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) {
        failed_ = true;
        return 0;
      }
      uint8_t byte = *p_++;
      // The tenth byte carries bit 63 only.
      if (shift == 63 && byte > 1) break;
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
    }
    failed_ = true;
    return 0;
  }

  const uint8_t* p_;
  const uint8_t* end_;
  bool failed_ = false;
};

}  // namespace traceloop::format::detail
