// C-style escaping of untrusted bytes, as strace prints them: printable ASCII
// as is, \t \n \v \f \r \" \\ by name, every other byte (control bytes, ESC,
// DEL, non-ASCII) in octal. A trace is untrusted input: nothing it holds may
// reach the reader's terminal as a control sequence.

#include <algorithm>
#include <array>
#include <cstdint>

#include "tools/lib/decoder/decode.h"
#include "tools/lib/decoder/text_append.h"

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

// The escaping, gathered on the stack: one append to `out` per string in
// the common case, whatever the bytes need.
void escape_into(StagedAppend& staged, std::string_view bytes) {
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    // Copy the run of plain bytes in one go.
    const size_t run = i + plain_ascii_run(bytes.data() + i, n - i);
    if (run != i) staged.append(bytes.substr(i, run - i));
    if (run == n) break;
    // Then the bytes to escape, up to the next plain one, a stretch at a
    // time: room for 4 bytes each is asked once per stretch.
    constexpr size_t kStretch = 64;
    static_assert(kStretch * 4 <= StagedAppend::kSize);
    char* p = staged.room(kStretch * 4);
    const size_t stop = std::min(n, run + kStretch);
    for (i = run; i < stop; ++i) {
      const auto c = static_cast<uint8_t>(bytes[i]);
      const char kind = kEscape[c];
      if (kind == 0) break;
      *p++ = '\\';
      if (kind != 'o') {
        *p++ = kind;
      } else {
        // Minimal octal digits unless the next byte is a digit that would be read as part of it.
        const bool pad = i + 1 < n && is_octal_digit(bytes[i + 1]);
        if (pad || c >= 0100) *p++ = static_cast<char>('0' + (c >> 6));
        if (pad || c >= 010) *p++ = static_cast<char>('0' + ((c >> 3) & 7));
        *p++ = static_cast<char>('0' + (c & 7));
      }
    }
    staged.commit(p);
  }
}

}  // namespace

void append_escaped(std::string& out, std::string_view bytes) {
  StagedAppend staged(out);
  escape_into(staged, bytes);
  staged.flush();
}

void append_escaped(StagedAppend& staged, std::string_view bytes) { escape_into(staged, bytes); }

void append_quoted(std::string& out, std::string_view bytes, size_t limit, bool truncated) {
  bool cut = truncated;
  if (limit != 0 && bytes.size() > limit) {
    bytes = bytes.substr(0, limit);
    cut = true;
  }
  StagedAppend staged(out);
  staged.put('"');
  escape_into(staged, bytes);
  staged.put('"');
  if (cut) staged.append("...");
  staged.flush();
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
  StagedAppend staged(out);
  staged.put('"');
  for (const char ch : bytes) {
    const auto c = static_cast<uint8_t>(ch);
    char* p = staged.room(4);
    p[0] = '\\';
    p[1] = 'x';
    p[2] = kDigits[c >> 4];
    p[3] = kDigits[c & 15];
    staged.commit(p + 4);
  }
  staged.put('"');
  if (cut) staged.append("...");
  staged.flush();
}

}  // namespace traceloop::tools
