#pragma once
// Number formatting straight into a std::string, for the per-event hot paths
// (fmt::format_to through a back_insert_iterator buffers and copies; these
// write in place). Output is identical to fmt's "{}" and "{:#x}".

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace traceloop::tools {

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
      flushed_ += s.size();
      return;
    }
    copy(room(s.size()), s.data(), s.size());
    used_ += s.size();
  }
  void flush() {
    out_.append(buf_, used_);
    flushed_ += used_;
    used_ = 0;
  }
  // Bytes written through it so far, flushed or not (for column widths).
  size_t written() const { return flushed_ + used_; }

 private:
  // Most pieces are a few bytes (a number, a name): two fixed-size copies
  // that may overlap are a pair of moves, where memcpy of a variable size
  // is a call that then chooses how to copy.
  [[gnu::always_inline]] static void copy(char* to, const char* from, size_t n) {
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

  std::string& out_;
  size_t used_ = 0;
  size_t flushed_ = 0;
  char buf_[kSize];
};

inline void append_decimal(std::string& out, int64_t v) {
  const fmt::format_int f(v);
  out.append(f.data(), f.size());
}

inline void append_decimal(std::string& out, uint64_t v) {
  const fmt::format_int f(v);
  out.append(f.data(), f.size());
}

// Straight into the staging buffer: no copy from a temporary.
inline void append_decimal(StagedAppend& out, int64_t v) {
  out.commit(fmt::format_to(out.room(20), FMT_COMPILE("{}"), v));
}

inline void append_decimal(StagedAppend& out, uint64_t v) {
  out.commit(fmt::format_to(out.room(20), FMT_COMPILE("{}"), v));
}

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

// "0x1f"; 0 is "0x0" like fmt's {:#x}.
inline void append_hex(std::string& out, uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char buf[18];
  char* end = buf + sizeof buf;
  char* p = end;
  do {
    *--p = kDigits[v & 15];
    v >>= 4;
  } while (v != 0);
  *--p = 'x';
  *--p = '0';
  out.append(p, static_cast<size_t>(end - p));
}

// Left-aligned in a column of `width` (at least one space follows).
inline void append_padded(std::string& out, uint64_t v, size_t width) {
  const fmt::format_int f(v);
  const size_t pad = f.size() < width ? width - f.size() : 1;
  char line[48];  // the number and its padding in one append
  if (f.size() + pad > sizeof line) {
    out.append(f.data(), f.size());
    out.append(pad, ' ');
    return;
  }
  std::memcpy(line, f.data(), f.size());
  std::memset(line + f.size(), ' ', pad);
  out.append(line, f.size() + pad);
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
