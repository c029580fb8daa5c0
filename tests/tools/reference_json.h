#pragma once
// JSON string escaping as a reference for the fast escapers' tests: one byte
// (or UTF-8 sequence) at a time.

#include <optional>
#include <string>
#include <string_view>

#include "format/utf8.h"

namespace traceloop::tools::testing_reference {

// The rules one byte at a time; nullopt in strict mode for bytes that are not UTF-8.
inline std::optional<std::string> reference_json(std::string_view bytes, bool strict) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < bytes.size();) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c == '\n') {
      out += "\\n", ++i;
    } else if (c == '\t') {
      out += "\\t", ++i;
    } else if (c == '\r') {
      out += "\\r", ++i;
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c), ++i;
    } else if (const size_t n = format::utf8_length(bytes, i); n > 0) {
      if (format::is_c1_control(bytes, i, n)) {
        const auto code = static_cast<unsigned char>(bytes[i + 1]);
        out += "\\u00";
        out += kHex[code >> 4];
        out += kHex[code & 15];
      } else {
        out.append(bytes.substr(i, n));
      }
      i += n;
    } else {
      if (strict) return std::nullopt;
      out += "\\ufffd", ++i;
    }
  }
  return out + "\"";
}

}  // namespace traceloop::tools::testing_reference
