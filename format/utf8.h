#pragma once
// UTF-8 validation for the outputs that carry untrusted bytes (JSON, the
// daemon's list): which byte sequences are well-formed text.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace traceloop::format {

// Length of the well-formed UTF-8 sequence of two to four bytes starting at
// s[i] (no overlong forms, surrogates or code points beyond U+10FFFF); 0 when
// s[i] starts none (ASCII included).
inline size_t utf8_length(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) n = 3;
  else if (c >= 0xf0 && c <= 0xf4) n = 4;
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  const auto c1 = static_cast<unsigned char>(s[i + 1]);
  if (c == 0xe0 && c1 < 0xa0) return 0;  // overlong
  if (c == 0xed && c1 >= 0xa0) return 0;  // surrogates
  if (c == 0xf0 && c1 < 0x90) return 0;  // overlong
  if (c == 0xf4 && c1 >= 0x90) return 0;  // beyond U+10FFFF
  return n;
}

// A C1 control (U+0080..U+009F): 8-bit terminal commands such as CSI.
inline bool is_c1_control(std::string_view s, size_t i, size_t n) {
  return n == 2 && static_cast<unsigned char>(s[i]) == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0;
}

}  // namespace traceloop::format
