#pragma once
// Number formatting straight into a std::string, for the per-event hot paths
// (fmt::format_to through a back_insert_iterator buffers and copies; these
// write in place). Output is identical to fmt's "{}" and "{:#x}".

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace traceloop::tools {

namespace detail {

// Most pieces are a few bytes (a number, a name): two fixed-size copies
// that may overlap are a pair of moves, where memcpy of a variable size
// is a call that then chooses how to copy.
[[gnu::always_inline]] inline void copy_short(char* to, const char* from, size_t n) {
  if (n >= 16 && n <= 32) {
    std::memcpy(to, from, 16);
    std::memcpy(to + n - 16, from + n - 16, 16);
  } else if (n >= 8 && n < 16) {
    std::memcpy(to, from, 8);
    std::memcpy(to + n - 8, from + n - 8, 8);
  } else if (n >= 4 && n < 8) {
    std::memcpy(to, from, 4);
    std::memcpy(to + n - 4, from + n - 4, 4);
  } else if (n < 4) {
    for (size_t i = 0; i < n; ++i) to[i] = from[i];
  } else {
    std::memcpy(to, from, n);
  }
}

}  // namespace detail

// Many small writes gathered on the stack and appended to `out` in one go:
// each std::string append is an out-of-line call, a capacity check and a
// memcpy call, too much for every byte of an escaped string. Call flush()
// when done (a destructor that appends could only fail by terminating).
class StagedAppend {
 public:
  static constexpr size_t kSize = 512;
  explicit StagedAppend(std::string& out) : out_(out) {}
  StagedAppend(const StagedAppend&) = delete;
  StagedAppend& operator=(const StagedAppend&) = delete;

  // Room for `n` bytes (n <= kSize) at the returned pointer; commit() says where the writing ended.
  char* room(size_t n) {
    if (kSize - used_ < n) flush();
    return buf_ + used_;
  }
  void commit(char* end) { used_ = static_cast<size_t>(end - buf_); }
  void put(char c) { *room(1) = c; ++used_; }
  [[gnu::always_inline]] void append(std::string_view s) {
    if (s.size() > kSize / 2) [[unlikely]] {  // long runs go straight to `out`, copied once
      flush();
      out_.append(s);
      return;
    }
    detail::copy_short(room(s.size()), s.data(), s.size());
    used_ += s.size();
  }
  void flush() {
    out_.append(buf_, used_);
    used_ = 0;
  }
  // Where the next byte will be in `out` once flushed: a position for column
  // widths that holds across flushes and across what was appended to `out`
  // directly after one, so a column is measured without flushing first.
  size_t written() const { return out_.size() + used_; }

 private:
  std::string& out_;
  size_t used_ = 0;
  char buf_[kSize];
};

namespace detail {

// The 8 decimal digits of v < 10^8 (leading zeros included) as ASCII, the
// first digit in the lowest byte: split into halves, quarters and digits in
// the lanes of one 64-bit word (multiplications by reciprocals exact in this
// range), two digits a step being what costs in a per-pair loop.
inline uint64_t eight_digits(uint32_t v) {
  uint64_t m = (v / 10000) | static_cast<uint64_t>(v % 10000) << 32;  // two 4-digit lanes
  uint64_t q = ((m * 10486) >> 20) & 0x0000007f0000007full;         // each lane / 100
  m = q | ((m - q * 100) << 16);                                     // four 2-digit lanes
  q = ((m * 103) >> 10) & 0x000f000f000f000full;                     // each lane / 10
  m = q | ((m - q * 10) << 8);                                       // eight digits
  return m + 0x3030303030303030ull;
}

inline void store_digits(char* to, uint64_t digits) {
  if constexpr (std::endian::native == std::endian::big) digits = __builtin_bswap64(digits);
  std::memcpy(to, &digits, 8);
}

}  // namespace detail

// The decimal digits of `v` at `out`, which must have room for 20 bytes (21
// for a signed value) whatever the number; returns their end. The same text
// as fmt's "{}".
inline char* write_decimal(char* out, uint64_t v) {
  if (v < 10) {
    *out = static_cast<char>('0' + v);
    return out + 1;
  }
  if (v < 100) {
    out[0] = static_cast<char>('0' + v / 10);
    out[1] = static_cast<char>('0' + v % 10);
    return out + 2;
  }
  if (v < 10000) {  // pids, sizes, counts: the four-digit half of eight_digits
    uint32_t m = static_cast<uint32_t>(v / 100) | static_cast<uint32_t>(v % 100) << 16;
    const uint32_t q = ((m * 103) >> 10) & 0x000f000fu;
    m = (q | ((m - q * 10) << 8)) + 0x30303030u;
    const unsigned n = v < 1000 ? 3 : 4;
    m >>= (4 - n) * 8;  // the leading zero out, from the register: no byte is read back
    if constexpr (std::endian::native == std::endian::big) m = __builtin_bswap32(m);
    std::memcpy(out, &m, 4);  // a constant size; a byte past n is scratch
    return out + n;
  }
  // How many digits: from the bit width, then one compare.
  static constexpr uint64_t kPowers[] = {1,
                                         10,
                                         100,
                                         1000,
                                         10000,
                                         100000,
                                         1000000,
                                         10000000,
                                         100000000,
                                         1000000000,
                                         10000000000,
                                         100000000000,
                                         1000000000000,
                                         10000000000000,
                                         100000000000000,
                                         1000000000000000,
                                         10000000000000000,
                                         100000000000000000,
                                         1000000000000000000,
                                         10000000000000000000u};
  const unsigned approx = static_cast<unsigned>(std::bit_width(v)) * 1233 >> 12;  // floor(log10) or one below
  const unsigned n = approx + (v >= kPowers[approx] ? 1 : 0);
  // 8 digits a word, each stored straight at its place: the leading zeros of
  // the first word shifted out in the register. Building the digits in a
  // scratch array and copying them from an unaligned offset would read back
  // bytes still in the store buffer, a forwarding stall of a dozen cycles.
  // Each store is 8 bytes, the bytes past its digits written over by the next
  // (or scratch past n, within the 20 bytes of room).
  if (n <= 8) {
    detail::store_digits(out, detail::eight_digits(static_cast<uint32_t>(v)) >> ((8 - n) * 8));
    return out + n;
  }
  const uint64_t low = detail::eight_digits(static_cast<uint32_t>(v % 100000000));
  const uint64_t high = v / 100000000;
  if (n <= 16) {
    const unsigned k = n - 8;
    detail::store_digits(out, detail::eight_digits(static_cast<uint32_t>(high)) >> ((8 - k) * 8));
    detail::store_digits(out + k, low);
    return out + n;
  }
  const unsigned k = n - 16;
  detail::store_digits(out, detail::eight_digits(static_cast<uint32_t>(high / 100000000)) >> ((8 - k) * 8));
  detail::store_digits(out + k, detail::eight_digits(static_cast<uint32_t>(high % 100000000)));
  detail::store_digits(out + k + 8, low);
  return out + n;
}

inline char* write_decimal(char* out, int64_t v) {
  if (v >= 0) return write_decimal(out, static_cast<uint64_t>(v));
  *out = '-';
  return write_decimal(out + 1, uint64_t{0} - static_cast<uint64_t>(v));  // INT64_MIN too
}

inline void append_decimal(std::string& out, int64_t v) {
  char buf[24];
  out.append(buf, static_cast<size_t>(write_decimal(buf, v) - buf));
}

inline void append_decimal(std::string& out, uint64_t v) {
  char buf[24];
  out.append(buf, static_cast<size_t>(write_decimal(buf, v) - buf));
}

// Straight into the staging buffer: no copy from a temporary.
inline void append_decimal(StagedAppend& out, int64_t v) { out.commit(write_decimal(out.room(24), v)); }

inline void append_decimal(StagedAppend& out, uint64_t v) { out.commit(write_decimal(out.room(24), v)); }

// Spaces up to column `width` of what `out` holds since `start` (at least one).
inline void pad_column(StagedAppend& out, size_t start, size_t width) {
  const size_t used = out.written() - start;
  size_t n = used < width ? width - used : 1;
  // 32 spaces copied whatever is needed (two stores), the pointer moved by what is.
  static constexpr char kSpaces[32] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
                                       ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
  while (n > 0) {
    const size_t k = std::min(n, sizeof kSpaces);
    char* p = out.room(sizeof kSpaces);
    std::memcpy(p, kSpaces, sizeof kSpaces);
    out.commit(p + k);
    n -= k;
  }
}

// Left-aligned in a column of `width` (at least one space follows).
inline void append_padded(StagedAppend& out, uint64_t v, size_t width) {
  const size_t start = out.written();
  append_decimal(out, v);
  pad_column(out, start, width);
}

// C-style escaping (decode.h's append_escaped) into a StagedAppend.
void append_escaped(StagedAppend& staged, std::string_view bytes);

// "0x1f" at `out`, which has room for 18 bytes; returns where it ends. 0 is
// "0x0" like fmt's {:#x}.
inline char* write_hex(char* out, uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const size_t n = v == 0 ? 1 : (static_cast<size_t>(std::bit_width(v)) + 3) / 4;
  out[0] = '0';
  out[1] = 'x';
  char* const end = out + 2 + n;
  char* d = end;
  do {
    *--d = kDigits[v & 15];
    v >>= 4;
  } while (v != 0);
  return end;
}

inline void append_hex(std::string& out, uint64_t v) {
  char buf[18];
  out.append(buf, static_cast<size_t>(write_hex(buf, v) - buf));
}

// Straight into the staging buffer: no copy from a temporary.
inline void append_hex(StagedAppend& out, uint64_t v) { out.commit(write_hex(out.room(18), v)); }

// Left-aligned in a column of `width` (at least one space follows).
inline void append_padded(std::string& out, uint64_t v, size_t width) {
  char line[48];  // the number and its padding in one append
  const size_t digits = static_cast<size_t>(write_decimal(line, v) - line);
  const size_t pad = digits < width ? width - digits : 1;
  if (digits + pad > sizeof line) {
    out.append(line, digits);
    out.append(pad, ' ');
    return;
  }
  std::memset(line + digits, ' ', pad);
  out.append(line, digits + pad);
}

// How many bytes from `p` on are printable ASCII other than `"` and `\`:
// the bytes that both C-style (strace) and JSON escaping copy as they are.
// Sixteen at a time where SSE2 is there (every x86_64).
inline size_t plain_ascii_run(const char* p, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f), quote = _mm_set1_epi8('"'),
                backslash = _mm_set1_epi8('\\');
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    // A signed compare: bytes from 0x80 on are negative, below 0x20 like the control bytes.
    const __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del)),
                                         _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    if (const int mask = _mm_movemask_epi8(special); mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask));
  }
#endif
  for (; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') break;
  }
  return i;
}

}  // namespace traceloop::tools
