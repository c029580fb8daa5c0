#include "tools/lib/decoder/json_string.h"

#include "format/utf8.h"

namespace traceloop::tools {


namespace {

// kStrict: stop at the first byte that is not UTF-8 (returns false, `out`
// holding a partial string the caller drops) instead of replacing it.
template <bool kStrict>
bool append_json(std::string& out, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t i = 0;
  while (i < bytes.size()) {
    // Printable ASCII in runs: the common case, appended at once.
    size_t run = i;
    while (run < bytes.size()) {
      const auto c = static_cast<unsigned char>(bytes[run]);
      if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') break;
      ++run;
    }
    out.append(bytes.data() + i, run - i);
    i = run;
    if (i == bytes.size()) break;
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '\t') {
      out.append("\\t");
    } else if (c == '\r') {
      out.append("\\r");
    } else if (const size_t n = c >= 0x80 ? format::utf8_length(bytes, i) : 0; n > 0) {
      // C1 controls (U+0080..U+009F, two bytes) are escaped like C0 ones:
      // the same characters, but none reaches a terminal raw.
      if (format::is_c1_control(bytes, i, n)) {
        const auto code = static_cast<unsigned char>(bytes[i + 1]);
        out.append("\\u00");
        out.push_back(kHex[code >> 4]);
        out.push_back(kHex[code & 15]);
      } else {
        out.append(bytes.substr(i, n));
      }
      i += n;
      continue;
    } else if (c >= 0x80) {
      if constexpr (kStrict) return false;
      // Not UTF-8: the replacement character, as a JSON reader would show
      // it anyway. A \u00XX escape would claim the Latin-1 character XX.
      out.append("\\ufffd");
    } else {
      out.append("\\u00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
    ++i;
  }
  out.push_back('"');
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
