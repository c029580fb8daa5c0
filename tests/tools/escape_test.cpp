// The escapers write through a stack buffer, sixteen bytes and stretches of
// escapes at a time: their output must be what the plain byte-at-a-time
// rules give, at every length and boundary (runs that cross 16-byte chunks,
// escapes that cross a stretch, output beyond the staging buffer's size).
// The references below are those rules written the simple way.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>

#include "format/utf8.h"
#include "tools/lib/decoder/decode.h"
#include "tools/lib/decoder/flag_sets.h"
#include "tools/lib/decoder/json_string.h"
#include "tools/lib/decoder/text_append.h"

namespace traceloop::tools {
namespace {

// strace's C-style escaping, one byte at a time.
std::string reference_escaped(std::string_view bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\t': out += "\\t"; continue;
      case '\n': out += "\\n"; continue;
      case '\v': out += "\\v"; continue;
      case '\f': out += "\\f"; continue;
      case '\r': out += "\\r"; continue;
      default: break;
    }
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      continue;
    }
    const bool pad = i + 1 < bytes.size() && bytes[i + 1] >= '0' && bytes[i + 1] <= '7';
    out += '\\';
    if (pad || c >= 0100) out += static_cast<char>('0' + (c >> 6));
    if (pad || c >= 010) out += static_cast<char>('0' + ((c >> 3) & 7));
    out += static_cast<char>('0' + (c & 7));
  }
  return out;
}

// JSON string escaping, one byte (or UTF-8 sequence) at a time; empty
// optional when `strict` and the bytes are not UTF-8.
std::optional<std::string> reference_json(std::string_view bytes, bool strict) {
  std::string out = "\"";
  for (size_t i = 0; i < bytes.size();) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\u{:04x}", c);
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (const size_t n = format::utf8_length(bytes, i); n > 0) {
      if (format::is_c1_control(bytes, i, n))
        out += fmt::format("\\u{:04x}", static_cast<unsigned char>(bytes[i + 1]));
      else
        out.append(bytes.substr(i, n));
      i += n;
      continue;
    } else {
      if (strict) return std::nullopt;
      out += "\\ufffd";
    }
    ++i;
  }
  return out + "\"";
}

// Bytes weighted towards what the escapers treat apart: plain text, NULs,
// octal digits after an escape, quotes, DEL, UTF-8 (valid, C1, cut short).
std::string random_bytes(std::mt19937& random, size_t length) {
  static constexpr std::string_view kPieces[] = {
      "a", "path/", "0", "7", "8", "\"", "\\", "\n", "\t", "\x1b", std::string_view("\0", 1), "\x7f",
      "\xc3\xa9", "\xc2\x9b", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xe2\x82", "\xff", "\x80", " "};
  std::string s;
  while (s.size() < length) s += kPieces[random() % std::size(kPieces)];
  s.resize(length);
  return s;
}

TEST(Escape, StraceEscapingMatchesTheByteAtATimeRules) {
  std::mt19937 random(7);
  for (size_t length = 0; length < 1500; length += 1 + length / 16) {
    for (int round = 0; round < 4; ++round) {
      const std::string bytes = random_bytes(random, length);
      std::string out = "kept|";  // appended to, never replaced
      append_escaped(out, bytes);
      ASSERT_EQ(out, "kept|" + reference_escaped(bytes)) << "length " << length;
      out.clear();
      append_quoted(out, bytes, 32, false);
      const std::string_view shown = std::string_view(bytes).substr(0, 32);
      ASSERT_EQ(out, "\"" + reference_escaped(shown) + "\"" + (bytes.size() > 32 ? "..." : ""));
    }
  }
}

TEST(Escape, PlainRunsEndAtEveryPositionOfA16ByteChunk) {
  for (size_t at = 0; at < 40; ++at) {
    for (const char special : {'"', '\\', '\x7f', '\x1f', '\x80', '\0'}) {
      std::string bytes(40, 'x');
      bytes[at] = special;
      std::string out;
      append_escaped(out, bytes);
      EXPECT_EQ(out, reference_escaped(bytes)) << "at " << at;
    }
  }
}

TEST(Escape, HexQuotingOfLongBuffersIsWhole) {
  const std::string bytes(700, '\xab');
  std::string out;
  append_quoted_hex(out, bytes, 0, true);
  std::string expected = "\"";
  for (size_t i = 0; i < bytes.size(); ++i) expected += "\\xab";
  EXPECT_EQ(out, expected + "\"...");
}

TEST(Escape, JsonEscapingMatchesTheByteAtATimeRules) {
  std::mt19937 random(11);
  for (size_t length = 0; length < 1500; length += 1 + length / 16) {
    for (int round = 0; round < 4; ++round) {
      const std::string bytes = random_bytes(random, length);
      ASSERT_EQ(json_string(bytes), *reference_json(bytes, false)) << "length " << length;
      std::string out = "kept|";
      const bool utf8 = append_json_string_if_utf8(out, bytes);
      const auto strict = reference_json(bytes, true);
      ASSERT_EQ(utf8, strict.has_value()) << "length " << length;
      if (utf8) {
        ASSERT_EQ(out, "kept|" + *strict);
      }
      ASSERT_EQ(out.substr(0, 5), "kept|");  // a failed attempt leaves what was there
    }
  }
}

// A binary buffer in JSON is mostly \u0000: thousands of bytes of escapes,
// far beyond one staging buffer.
TEST(Escape, JsonEscapesOfALongBinaryBuffer) {
  const std::string bytes(2000, '\0');
  std::string expected = "\"";
  for (size_t i = 0; i < bytes.size(); ++i) expected += "\\u0000";
  EXPECT_EQ(json_string(bytes), expected + "\"");
}

TEST(StagedAppend, CountsWhatItWroteAcrossFlushes) {
  std::string out = "x";
  StagedAppend staged(out);
  std::string expected = "x";
  for (int i = 0; i < 300; ++i) {  // beyond the buffer: flushed on the way
    staged.append("ab");
    expected += "ab";
  }
  staged.append(std::string(400, 'c'));  // a long piece goes straight to `out`
  expected += std::string(400, 'c');
  const size_t start = staged.written();
  append_decimal(staged, uint64_t{12345});
  pad_column(staged, start, 8);
  append_padded(staged, uint64_t{7}, 1);  // wider than its column: one space still
  staged.flush();
  EXPECT_EQ(staged.written(), 600u + 400u + 8u + 2u);
  EXPECT_EQ(out, expected + "12345   7 ");
}

TEST(StagedAppend, PadsColumnsWiderThanItsSpaces) {
  std::string out;
  StagedAppend staged(out);
  pad_column(staged, 0, 75);
  staged.flush();
  EXPECT_EQ(out, std::string(75, ' '));
}

// append_mode writes the permission bits as fmt's "{:#03o}" did.
TEST(Escape, ModeBitsAreWrittenAsFmtsAlternateOctal) {
  for (uint64_t mode : {1ull, 5ull, 7ull, 010ull, 0644ull, 0755ull, 07777ull, 0170000ull, 0xffffffffull, ~0ull}) {
    std::string out;
    append_mode(out, mode);
    EXPECT_EQ(out, fmt::format("{:#03o}", mode)) << mode;  // no file type named: all in octal
  }
  std::string out;
  append_mode(out, 0);
  EXPECT_EQ(out, "0");
  out.clear();
  append_mode(out, 0100644);
  EXPECT_EQ(out, "S_IFREG|0644");
  out.clear();
  append_mode(out, 0100000);
  EXPECT_EQ(out, "S_IFREG|000");
}

}  // namespace
}  // namespace traceloop::tools
