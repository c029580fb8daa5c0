// C-style escaping of untrusted bytes, as strace prints them: printable ASCII
// as is, \t \n \v \f \r \" \\ by name, every other byte (control bytes, ESC,
// DEL, non-ASCII) in octal. A trace is untrusted input: nothing it holds may
// reach the reader's terminal as a control sequence.

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "tools/lib/decoder/decode.h"
#include "tools/lib/decoder/text_append.h"

namespace traceloop::tools {
namespace {

// A byte's escape, written as 4 bytes of which `size` count: `\t`, `\"`,
// `\0`, `\33`, `\177`; `size` 0 for a byte copied as is. `digits_follow`:
// the three-digit form, for when an octal digit comes next (else it would
// read as part of the escape).
struct Escape {
  std::array<char, 4> text{};
  uint8_t size = 0;
  std::array<char, 4> digits_follow{};
  uint8_t digits_follow_size = 0;
};

constexpr std::array<Escape, 256> make_escape_table() {
  std::array<Escape, 256> table{};
  for (int c = 0; c < 256; ++c) {
    Escape& e = table[static_cast<size_t>(c)];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') continue;
    char letter = 0;
    switch (c) {
      case '"': letter = '"'; break;
      case '\\': letter = '\\'; break;
      case '\t': letter = 't'; break;
      case '\n': letter = 'n'; break;
      case '\v': letter = 'v'; break;
      case '\f': letter = 'f'; break;
      case '\r': letter = 'r'; break;
      default: break;
    }
    e.text[0] = '\\';
    if (letter != 0) {
      e.text[1] = letter;
      e.size = 2;
      e.digits_follow = e.text;
      e.digits_follow_size = 2;
      continue;
    }
    const char d0 = static_cast<char>('0' + (c >> 6)), d1 = static_cast<char>('0' + ((c >> 3) & 7)),
               d2 = static_cast<char>('0' + (c & 7));
    e.digits_follow = {'\\', d0, d1, d2};
    e.digits_follow_size = 4;
    // Minimal octal digits.
    if (c >= 0100) {
      e.text = {'\\', d0, d1, d2};
      e.size = 4;
    } else if (c >= 010) {
      e.text = {'\\', d1, d2, 0};
      e.size = 3;
    } else {
      e.text = {'\\', d2, 0, 0};
      e.size = 2;
    }
  }
  return table;
}
constexpr auto kEscapes = make_escape_table();

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
    // time: room for 4 bytes each is asked once per stretch, and each is
    // written as 4 bytes of which its size count.
    constexpr size_t kStretch = 64;
    static_assert(kStretch * 4 <= StagedAppend::kSize);
    char* p = staged.room(kStretch * 4);
    const size_t stop = std::min(n, run + kStretch);
    for (i = run; i < stop; ++i) {
      const Escape& e = kEscapes[static_cast<uint8_t>(bytes[i])];
      if (e.size == 0) break;
      if (i + 1 < n && is_octal_digit(bytes[i + 1])) [[unlikely]] {
        std::memcpy(p, e.digits_follow.data(), 4);
        p += e.digits_follow_size;
      } else {
        std::memcpy(p, e.text.data(), 4);
        p += e.size;
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

void append_quoted(StagedAppend& staged, std::string_view bytes, size_t limit, bool truncated) {
  bool cut = truncated;
  if (limit != 0 && bytes.size() > limit) {
    bytes = bytes.substr(0, limit);
    cut = true;
  }
  staged.put('"');
  escape_into(staged, bytes);
  staged.put('"');
  if (cut) staged.append("...");
}

void append_quoted(std::string& out, std::string_view bytes, size_t limit, bool truncated) {
  StagedAppend staged(out);
  append_quoted(staged, bytes, limit, truncated);
  staged.flush();
}

}  // namespace traceloop::tools

namespace traceloop::tools {

void append_quoted_hex(StagedAppend& staged, std::string_view bytes, size_t limit, bool truncated) {
  static constexpr char kDigits[] = "0123456789abcdef";
  bool cut = truncated;
  if (limit != 0 && bytes.size() > limit) {
    bytes = bytes.substr(0, limit);
    cut = true;
  }
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
}

void append_quoted_hex(std::string& out, std::string_view bytes, size_t limit, bool truncated) {
  StagedAppend staged(out);
  append_quoted_hex(staged, bytes, limit, truncated);
  staged.flush();
}

}  // namespace traceloop::tools
