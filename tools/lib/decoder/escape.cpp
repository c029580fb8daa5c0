// C-style escaping of untrusted bytes, as strace prints them: printable ASCII
// as is, \t \n \v \f \r \" \\ by name, every other byte (control bytes, ESC,
// DEL, non-ASCII) in octal. A trace is untrusted input: nothing it holds may
// reach the reader's terminal as a control sequence.

#include <array>
#include <cstdint>

#include "tools/lib/decoder/decode.h"

namespace traceloop::tools {
namespace {

// 0: copy as is; otherwise the escape letter, or 'o' for octal.
constexpr std::array<char, 256> make_escape_table() {
  std::array<char, 256> table{};
  for (int c = 0; c < 256; ++c) table[static_cast<size_t>(c)] = (c >= 0x20 && c < 0x7f) ? 0 : 'o';
  table['"'] = '"';
  table['\\'] = '\\';
  table['\t'] = 't';
  table['\n'] = 'n';
  table['\v'] = 'v';
  table['\f'] = 'f';
  table['\r'] = 'r';
  return table;
}
constexpr auto kEscape = make_escape_table();

inline bool is_octal_digit(char c) { return c >= '0' && c <= '7'; }

}  // namespace

void append_escaped(std::string& out, std::string_view bytes) {
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    // Copy the run of plain bytes in one go.
    size_t run = i;
    while (run < n && kEscape[static_cast<uint8_t>(bytes[run])] == 0) ++run;
    out.append(bytes.data() + i, run - i);
    if (run == n) break;
    const auto c = static_cast<uint8_t>(bytes[run]);
    const char kind = kEscape[c];
    if (kind != 'o') {
      out.push_back('\\');
      out.push_back(kind);
    } else {
      // Minimal octal digits unless the next byte is a digit that would be read as part of it.
      const bool pad = run + 1 < n && is_octal_digit(bytes[run + 1]);
      out.push_back('\\');
      if (pad || c >= 0100) out.push_back(static_cast<char>('0' + (c >> 6)));
      if (pad || c >= 010) out.push_back(static_cast<char>('0' + ((c >> 3) & 7)));
      out.push_back(static_cast<char>('0' + (c & 7)));
    }
    i = run + 1;
  }
}

void append_quoted(std::string& out, std::string_view bytes, size_t limit, bool truncated) {
  bool cut = truncated;
  if (limit != 0 && bytes.size() > limit) {
    bytes = bytes.substr(0, limit);
    cut = true;
  }
  out.push_back('"');
  append_escaped(out, bytes);
  out.push_back('"');
  if (cut) out.append("...");
}

}  // namespace traceloop::tools

namespace traceloop::tools {

void append_quoted_hex(std::string& out, std::string_view bytes, size_t limit, bool truncated) {
  static constexpr char kDigits[] = "0123456789abcdef";
  bool cut = truncated;
  if (limit != 0 && bytes.size() > limit) {
    bytes = bytes.substr(0, limit);
    cut = true;
  }
  out.push_back('"');
  for (const char ch : bytes) {
    const auto c = static_cast<uint8_t>(ch);
    out.push_back('\\');
    out.push_back('x');
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  out.push_back('"');
  if (cut) out.append("...");
}

}  // namespace traceloop::tools
