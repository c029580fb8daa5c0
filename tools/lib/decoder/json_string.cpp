#include "tools/lib/decoder/json_string.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "format/utf8.h"
#include "tools/lib/decoder/text_append.h"

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

// kStrict: stop at the first byte that is not UTF-8 (returns false, `out`
// holding a partial string the caller drops) instead of replacing it.
// Written through a StagedAppend with a pointer: a binary buffer is mostly
// escapes, six bytes each, and appending them one at a time to `out` cost
// more than the rest of the line.
template <bool kStrict>
bool append_json(std::string& out, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Bytes written per stretch: each makes at most 6, and an escape is copied
  // as 8 (a single store) before the pointer moves on by its length.
  constexpr size_t kStretch = 64;
  static_assert(kStretch * 6 + 2 <= StagedAppend::kSize);
  StagedAppend staged(out);
  staged.put('"');
  const size_t size = bytes.size();
  size_t i = 0;
  while (i < size) {
    // Printable ASCII in runs: the common case, appended at once.
    const size_t run = i + plain_ascii_run(bytes.data() + i, size - i);
    if (run != i) staged.append(bytes.substr(i, run - i));
    i = run;
    if (i == size) break;
    // Then the bytes to escape, up to the next plain one.
    char* p = staged.room(kStretch * 6 + 2);
    const size_t stop = std::min(size, i + kStretch);
    while (i < stop) {
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
        staged.flush();
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
  staged.flush();
  return true;
}

}  // namespace

void append_json_string(std::string& out, std::string_view bytes) { append_json<false>(out, bytes); }

bool append_json_string_if_utf8(std::string& out, std::string_view bytes) { return append_json<true>(out, bytes); }

std::string json_string(std::string_view bytes) {
  std::string out;
  append_json_string(out, bytes);
  return out;
}

}  // namespace traceloop::tools
