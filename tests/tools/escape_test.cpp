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
#include <vector>

#include "format/utf8.h"
#include "tools/lib/decoder/decode.h"
#include "tools/lib/decoder/flag_sets.h"
#include "tools/lib/decoder/json_string.h"
#include "tools/lib/decoder/text_append.h"
#include "tests/tools/reference_json.h"

namespace traceloop::tools {
namespace {

using testing_reference::reference_json;

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

// Each escaped byte is written as a fixed 4-byte store of which its escape's
// size counts: every byte value, followed by the end of the bytes, by octal
// digits (the three-digit form), by a digit that is not octal, by plain
// text and by another escape, written where the staging buffer is nearly
// full and where a stretch of escapes ends.
TEST(Escape, EveryByteBeforeEveryKindOfNextByte) {
  for (int c = 0; c < 256; ++c) {
    for (const std::string_view next : {"", "0", "7", "8", "9", "a", "\x01", "\xff", "\\"}) {
      for (const size_t before : {size_t{0}, size_t{63}, size_t{64}, size_t{130}}) {
        std::string bytes(before, '\0');  // escapes: `before` of them fill part of a stretch
        bytes += static_cast<char>(c);
        bytes += next;
        for (const size_t staged_fill : {size_t{0}, StagedAppend::kSize - 3, StagedAppend::kSize - 1}) {
          std::string out;
          StagedAppend staged(out);
          for (size_t i = 0; i < staged_fill; ++i) staged.put('.');
          append_escaped(staged, bytes);
          staged.flush();
          ASSERT_EQ(out, std::string(staged_fill, '.') + reference_escaped(bytes))
              << "byte " << c << " before " << next << " after " << before << " escapes";
        }
      }
    }
  }
}

// The quoting into a caller's StagedAppend is the quoting into a string.
TEST(Escape, QuotingIntoAStagedAppendIsQuotingIntoAString) {
  std::mt19937 random(11);
  for (size_t length = 0; length < 700; length += 1 + length / 8) {
    const std::string bytes = random_bytes(random, length);
    for (const size_t limit : {size_t{0}, size_t{32}}) {
      for (const bool truncated : {false, true}) {
        std::string direct = "kept|", staged_out = "kept|";
        append_quoted(direct, bytes, limit, truncated);
        StagedAppend staged(staged_out);
        append_quoted(staged, bytes, limit, truncated);
        staged.flush();
        ASSERT_EQ(staged_out, direct) << "length " << length;
        direct = staged_out = "kept|";
        append_quoted_hex(direct, bytes, limit, truncated);
        StagedAppend hex(staged_out);
        append_quoted_hex(hex, bytes, limit, truncated);
        hex.flush();
        ASSERT_EQ(staged_out, direct) << "length " << length;
      }
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

// written() is where the next byte lands in `out`: it holds across flushes,
// long pieces sent straight to `out`, and what a caller appended to `out`
// itself after a flush (a value written directly), so columns are measured
// without flushing first.
TEST(StagedAppend, WrittenIsThePositionInTheOutput) {
  std::string out = "x";
  StagedAppend staged(out);
  EXPECT_EQ(staged.written(), 1u);
  std::string expected = "x";
  for (int i = 0; i < 300; ++i) {  // beyond the buffer: flushed on the way
    staged.append("ab");
    expected += "ab";
  }
  staged.append(std::string(400, 'c'));  // a long piece goes straight to `out`
  expected += std::string(400, 'c');
  EXPECT_EQ(staged.written(), 1u + 600u + 400u);
  const size_t start = staged.written();
  append_decimal(staged, uint64_t{12345});
  staged.flush();
  out.append("-6");  // a value appended directly: part of the column
  pad_column(staged, start, 10);
  append_padded(staged, uint64_t{7}, 1);  // wider than its column: one space still
  EXPECT_EQ(staged.written(), 1u + 600u + 400u + 10u + 2u);
  staged.flush();
  EXPECT_EQ(out, expected + "12345-6   7 ");
  EXPECT_EQ(staged.written(), out.size());
}

TEST(StagedAppend, PadsColumnsWiderThanItsSpaces) {
  std::string out;
  StagedAppend staged(out);
  pad_column(staged, 0, 75);
  staged.flush();
  EXPECT_EQ(out, std::string(75, ' '));
}

// The decimal writer splits numbers into 8-digit lanes: every digit count,
// both sides of each power of ten, the extremes of both signs and random
// values of every bit width must read as std::to_string writes them, through
// each way in (string, staging buffer, padded column).
TEST(TextAppend, DecimalsAreToStringsDecimals) {
  std::vector<uint64_t> unsigned_values = {0, 1, 9, 10, 11, 99, 100, 101, UINT32_MAX, INT64_MAX, UINT64_MAX - 1, UINT64_MAX};
  uint64_t power = 1;
  for (int digits = 1; digits <= 19; ++digits) {
    power *= 10;
    for (const uint64_t v : {power - 1, power, power + 1, power / 2, power * 9 / 10 - 1}) unsigned_values.push_back(v);
  }
  std::mt19937_64 random(7);
  for (unsigned bits = 1; bits <= 64; ++bits)
    for (int k = 0; k < 50; ++k) unsigned_values.push_back(random() >> (64 - bits));
  std::vector<int64_t> signed_values = {0, -1, -9, -10, -99, -100, -4095, -2, INT64_MIN, INT64_MIN + 1, INT64_MAX, INT32_MIN};
  for (const uint64_t v : unsigned_values) {
    signed_values.push_back(static_cast<int64_t>(v));
    signed_values.push_back(-static_cast<int64_t>(v & INT64_MAX));
  }

  std::string out, staged_out;
  StagedAppend staged(staged_out);
  std::string expected;
  // The same text into a string and through the staging buffer, signed or not.
  const auto check_decimal = [&](auto v) {
    out.clear();
    append_decimal(out, v);
    EXPECT_EQ(out, std::to_string(v));
    append_decimal(staged, v);
    staged.put(' ');
    expected += std::to_string(v) + ' ';
  };
  for (const uint64_t v : unsigned_values) {
    check_decimal(v);
    out.clear();
    append_padded(out, v, 8);
    const std::string text = std::to_string(v);
    EXPECT_EQ(out, text + std::string(text.size() < 8 ? 8 - text.size() : 1, ' '));
    // Room for 20 bytes is all it takes: the 21st is left alone.
    char room[21];
    room[20] = 'x';
    EXPECT_EQ(std::string_view(room, static_cast<size_t>(write_decimal(room, v) - room)), text);
    EXPECT_EQ(room[20], 'x');
  }
  for (const int64_t v : signed_values) check_decimal(v);
  staged.flush();
  EXPECT_EQ(staged_out, expected);
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
  // The longest text (a file type, every special bit, 64 bits of octal) fits
  // the room a staging buffer gives write_mode.
  const uint64_t longest = (~0ull & ~0170000ull) | 0100000ull;
  out.clear();
  append_mode(out, longest);
  EXPECT_EQ(out, "S_IFREG|S_ISUID|S_ISGID|S_ISVTX|" + fmt::format("{:#o}", longest & ~0177000ull));
  EXPECT_LE(out.size(), kModeTextMax);
  std::string staged_out;
  StagedAppend staged(staged_out);
  staged.commit(write_mode(staged.room(kModeTextMax), longest));
  staged.flush();
  EXPECT_EQ(staged_out, out);
}

}  // namespace
}  // namespace traceloop::tools
