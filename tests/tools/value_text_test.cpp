// TextValueWriter's strings under strace's -x and -xx.
#include "tools/lib/decoder/value_text.h"

#include <gtest/gtest.h>

#include "tests/tools/show_fixtures.h"
#include "tools/lib/decoder/decode.h"

namespace traceloop::tools {
namespace {

std::string text(std::string_view bytes, StringHex hex, StringForm form = StringForm::text, size_t limit = 0) {
  std::string out;
  TextValueWriter writer(out, TextValueWriter::Position::argument, hex);
  writer.string({bytes, limit, false, form});
  return out;
}

TEST(TextValueWriter, StringsAsPrintedByDefault) {
  EXPECT_EQ(text("/etc/passwd", StringHex::none), "\"/etc/passwd\"");
  EXPECT_EQ(text("a\tb\n", StringHex::none), "\"a\\tb\\n\"");
}

TEST(TextValueWriter, XPutsNonAsciiStringsWhollyInHex) {
  // Printable ASCII and \t\n\v\f\r stay text, as strace -x leaves them.
  EXPECT_EQ(text("/etc/passwd", StringHex::non_ascii), "\"/etc/passwd\"");
  EXPECT_EQ(text("a\tb\n", StringHex::non_ascii), "\"a\\tb\\n\"");
  // A byte beyond ASCII, or another control byte: the whole string in hex.
  EXPECT_EQ(text("caf\xc3\xa9", StringHex::non_ascii), "\"\\x63\\x61\\x66\\xc3\\xa9\"");
  EXPECT_EQ(text(std::string_view("a\0b", 3), StringHex::non_ascii), "\"\\x61\\x00\\x62\"");
  EXPECT_EQ(text("\x1b[0m", StringHex::non_ascii), "\"\\x1b\\x5b\\x30\\x6d\"");
  // Only the part shown counts (-s).
  EXPECT_EQ(text("abcd\xff", StringHex::non_ascii, StringForm::text, 4), "\"abcd\"...");
}

TEST(TextValueWriter, XxPutsEveryStringInHex) {
  EXPECT_EQ(text("ab", StringHex::all), "\"\\x61\\x62\"");
  EXPECT_EQ(text("ab", StringHex::all, StringForm::abstract), "@\"\\x61\\x62\"");
  EXPECT_EQ(text("ab", StringHex::none, StringForm::abstract), "@\"ab\"");
}

TEST(TextValueWriter, DecoderPassesTheOptionOn) {
  const auto metadata = testing::test_metadata();
  testing::EventBuilder b(metadata.catalogue);
  b.call("openat", {static_cast<uint64_t>(-100), 0x1000, 0}, 3).str(1, "/tmp/\xe2\x82\xac");
  DecodeOptions options;
  options.strings_in_hex = StringHex::non_ascii;
  const Decoder decoder(metadata, options);
  std::string out;
  decoder.append_args(out, b.last(), ArgStyle::strace);
  EXPECT_EQ(out, "AT_FDCWD, \"\\x2f\\x74\\x6d\\x70\\x2f\\xe2\\x82\\xac\", O_RDONLY");
  const Decoder plain(metadata);
  out.clear();
  plain.append_args(out, b.last(), ArgStyle::strace);
  EXPECT_EQ(out, "AT_FDCWD, \"/tmp/\\342\\202\\254\", O_RDONLY");  // strace's octal escapes without -x
}

}  // namespace
}  // namespace traceloop::tools
