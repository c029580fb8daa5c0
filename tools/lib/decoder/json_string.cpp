#include "tools/lib/decoder/json_string.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "format/utf8.h"
#include "tools/lib/decoder/json_buffer.h"
#include "tools/lib/decoder/text_append.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace traceloop::tools {


namespace {

// How each ASCII byte is written in a JSON string: `length` bytes of
// `text`, 0 for a byte written as it is.
struct JsonEscape {
  char text[8];
  uint8_t length;
};
constexpr std::array<JsonEscape, 128> make_json_escapes() {
  constexpr char kHex[] = "0123456789abcdef";
  std::array<JsonEscape, 128> table{};
  for (int c = 0; c < 128; ++c) {
    auto& e = table[static_cast<size_t>(c)];
    if (c == '"' || c == '\\') {
      e = {{'\\', static_cast<char>(c)}, 2};
    } else if (c == '\n' || c == '\t' || c == '\r') {
      e = {{'\\', c == '\n' ? 'n' : c == '\t' ? 't' : 'r'}, 2};
    } else if (c < 0x20 || c == 0x7f) {
      e = {{'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]}, 6};
    }
  }
  return table;
}
constexpr auto kJsonEscapes = make_json_escapes();
constexpr char kEightZeros[] = R"(\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000)";
static_assert(sizeof kEightZeros == 48 + 1);

#if defined(__SSE2__)
// Bit k set for each byte k of `v` JSON escapes (or that is not ASCII).
inline unsigned special_bytes(__m128i v) {
  const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f), quote = _mm_set1_epi8('"'),
                backslash = _mm_set1_epi8('\\');
  // A signed compare: bytes from 0x80 on are negative, below 0x20 like the control bytes.
  const __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del)),
                                       _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
  return static_cast<unsigned>(_mm_movemask_epi8(special));
}

inline unsigned special_in_16(const char* p) {
  return special_bytes(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline unsigned special_in_8(const char* p) {
  return special_bytes(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))) & 0xffu;
}
inline unsigned special_in_4(const char* p) {
  int32_t word;
  std::memcpy(&word, p, 4);
  return special_bytes(_mm_cvtsi32_si128(word)) & 0xfu;
}
#endif

// kStrict: stop at the first byte that is not UTF-8 (returns false, `out`
// holding a partial string the caller drops) instead of replacing it.
// Written through a pointer into a staging buffer (StagedAppend) or the
// line itself (JsonBuffer): a binary buffer is mostly escapes, six bytes
// each, and appending them one at a time to a string cost more than the rest
// of the line.
template <bool kStrict, typename Staged>
bool write_json(Staged& staged, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Bytes written per stretch: each makes at most 6, and an escape is copied
  // as 8 (a single store) before the pointer moves on by its length.
  constexpr size_t kStretch = 64;
  static_assert(kStretch * 6 + 2 <= StagedAppend::kSize);
  staged.put('"');
  const size_t size = bytes.size();
  size_t i = 0;
  while (i < size) {
    // Printable ASCII in runs: the common case, appended at once.
    const size_t run = i + json_plain_run(bytes.data() + i, size - i);
    if (run != i) staged.append(bytes.substr(i, run - i));
    i = run;
    if (i == size) break;
    // Then the bytes to escape, up to the next plain one.
    char* p = staged.room(kStretch * 6 + 2);
    const size_t stop = std::min(size, i + kStretch);
    while (i < stop) {
      // Zero bytes (binary buffers are mostly zeros) eight at a time: 48
      // bytes of \u0000 in three stores.
      if (uint64_t word; bytes[i] == 0 && stop - i >= 8 && (std::memcpy(&word, bytes.data() + i, 8), word == 0)) {
        std::memcpy(p, kEightZeros, 48);
        p += 48;
        i += 8;
        continue;
      }
      const auto c = static_cast<unsigned char>(bytes[i]);
      if (c < 0x80) {
        const JsonEscape& e = kJsonEscapes[c];
        if (e.length == 0) break;
        std::memcpy(p, e.text, sizeof e.text);
        p += e.length;
        ++i;
        continue;
      }
      if (const size_t n = format::utf8_length(bytes, i); n > 0) {
        // C1 controls (U+0080..U+009F, two bytes) are escaped like C0 ones:
        // the same characters, but none reaches a terminal raw.
        if (format::is_c1_control(bytes, i, n)) {
          const auto code = static_cast<unsigned char>(bytes[i + 1]);
          std::memcpy(p, "\\u00", 4);
          p[4] = kHex[code >> 4];
          p[5] = kHex[code & 15];
          p += 6;
        } else {
          std::memcpy(p, bytes.data() + i, n);
          p += n;
        }
        i += n;
        continue;
      }
      if constexpr (kStrict) {
        staged.commit(p);
        return false;
      }
      // Not UTF-8: the replacement character, as a JSON reader would show
      // it anyway. A \u00XX escape would claim the Latin-1 character XX.
      std::memcpy(p, "\\ufffd", 6);
      p += 6;
      ++i;
    }
    staged.commit(p);
  }
  staged.put('"');
  return true;
}

template <bool kStrict>
bool append_json(std::string& out, std::string_view bytes) {
  StagedAppend staged(out);
  const bool ok = write_json<kStrict>(staged, bytes);
  staged.flush();
  return ok;
}

}  // namespace

void append_json_string(std::string& out, std::string_view bytes) { append_json<false>(out, bytes); }

bool append_json_string_if_utf8(std::string& out, std::string_view bytes) { return append_json<true>(out, bytes); }

void append_json_string(JsonBuffer& out, std::string_view bytes) { write_json<false>(out, bytes); }

bool append_json_string_if_utf8(JsonBuffer& out, std::string_view bytes) { return write_json<true>(out, bytes); }

size_t json_plain_run(const char* p, size_t n) {
#if defined(__SSE2__)
  if (n >= 16) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
      if (const unsigned mask = special_in_16(p + i); mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask));
    if (i == n) return n;
    // The last bytes in a block that ends with them, overlapping those seen.
    const unsigned mask = special_in_16(p + n - 16) >> (16 - (n - i));
    return mask != 0 ? i + static_cast<size_t>(__builtin_ctz(mask)) : n;
  }
  if (n >= 8) {
    const unsigned mask = special_in_8(p) | special_in_8(p + n - 8) << (n - 8);
    return mask != 0 ? static_cast<size_t>(__builtin_ctz(mask)) : n;
  }
  if (n >= 4) {
    const unsigned mask = special_in_4(p) | special_in_4(p + n - 4) << (n - 4);
    return mask != 0 ? static_cast<size_t>(__builtin_ctz(mask)) : n;
  }
#endif
  size_t i = 0;
  for (; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') break;
  }
  return i;
}

std::string json_string(std::string_view bytes) {
  std::string out;
  append_json_string(out, bytes);
  return out;
}

}  // namespace traceloop::tools
