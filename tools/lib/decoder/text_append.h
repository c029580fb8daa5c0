#pragma once
// Number formatting straight into a std::string, for the per-event hot paths
// (fmt::format_to through a back_insert_iterator buffers and copies; these
// write in place). Output is identical to fmt's "{}" and "{:#x}".

#include <fmt/format.h>

#include <cstdint>
#include <string>

namespace traceloop::tools {

inline void append_decimal(std::string& out, int64_t v) {
  const fmt::format_int f(v);
  out.append(f.data(), f.size());
}

inline void append_decimal(std::string& out, uint64_t v) {
  const fmt::format_int f(v);
  out.append(f.data(), f.size());
}

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
  out.append(f.data(), f.size());
  out.append(f.size() < width ? width - f.size() : 1, ' ');
}

}  // namespace traceloop::tools
