// TextValueWriter's strings under strace's -x and -xx.
#include "tools/lib/decoder/value_text.h"

#include <gtest/gtest.h>

#include <sys/socket.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "format/syscalls/uapi_constants.h"
#include "tests/tools/show_fixtures.h"
#include "tools/lib/decoder/decode.h"
#include "tools/lib/decoder/flag_sets.h"
#include "tools/lib/decoder/flag_text_cache.h"
#include "tools/lib/decoder/value_json.h"

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

// Writers given a FlagTextCache write every flag value as they do without
// one: every set of the catalogue, values that come back, and more values
// than the cache has slots (entries replaced, sets sharing a slot), as an
// argument and as a return value, in text and in JSON.
TEST(FlagTextCache, WritersNameFlagsAsWithoutIt) {
  const auto arch = format::Arch::x86_64;
  std::set<std::string_view> names;
  for (const auto& s : format::builtin_catalogue(arch).syscalls())
    for (const auto& p : s.params)
      if (!p.flag_set.empty()) names.insert(p.flag_set);
  std::vector<const FlagSet*> sets;
  for (const auto name : names)
    if (const FlagSet* set = find_flag_set(name, arch)) sets.push_back(set);
  ASSERT_GT(sets.size(), 20u);
  std::mt19937_64 random(3);
  std::vector<std::pair<const FlagSet*, uint64_t>> values;
  for (int round = 0; round < 3; ++round)  // the same values again: hits
    for (const FlagSet* set : sets)
      for (const uint64_t raw : {uint64_t{0}, uint64_t{1}, uint64_t{2}, uint64_t{0x80000}, ~uint64_t{0}})
        values.emplace_back(set, raw);
  for (int k = 0; k < 3000; ++k) {
    const uint64_t raw = random() >> (random() % 64);
    values.emplace_back(sets[random() % sets.size()], raw);
  }
  FlagTextCache text_cache, json_cache;
  for (const auto& [set, raw] : values) {
    for (const auto position : {TextValueWriter::Position::argument, TextValueWriter::Position::return_value}) {
      std::string plain, cached;
      TextValueWriter(plain, position).flags(*set, raw);
      TextValueWriter(cached, position, StringHex::none, nullptr, false, &text_cache).flags(*set, raw);
      ASSERT_EQ(cached, plain) << set->name << " " << raw;
    }
    std::string plain, cached;
    JsonValueWriter(plain).flags(*set, raw);
    JsonValueWriter(cached, {}, false, &json_cache).flags(*set, raw);
    ASSERT_EQ(cached, plain) << set->name << " " << raw;
  }
}

// Every value, in and out of structures and arrays, with the values that
// helpers append to the string directly (modes, signals, counted arrays,
// devices) between those gathered in the staging buffer.
void describe_every_kind(ValueSink& sink, const FlagSet& set) {
  sink.signed_integer(-12, Meaning::none);
  sink.begin_struct();
  sink.field("st_mode");
  sink.mode(0100644);
  sink.field("st_size");
  sink.unsigned_integer(5, Meaning::none);
  sink.field("st_rdev");
  sink.device(8, 1);
  sink.field("sa_mask");
  sink.signal_set(0x10002);
  sink.end_struct(true);
  sink.begin_array();
  sink.signal(17);
  sink.hex_integer(0x7f00, Meaning::address);
  sink.hex_integer(0, Meaning::address);
  sink.hex_integer(0xff, Meaning::hex_word);
  sink.flags(set, 0x80002);
  sink.end_array(true);
  sink.begin_counted_array({0x7ffd1000, 3, CountedElements::vars});
  sink.string({"A=1"});
  sink.string({"B=2"});
  sink.end_array(false);
  sink.unsigned_integer(4096, Meaning::rlimit);
  sink.signed_integer(250, Meaning::clock_ticks);
  sink.network_integer(80, 2);
  sink.constant("AT_FDCWD", -100);
  sink.wait_status(0x100);
  sink.ip_address(AF_INET, std::string_view("\x7f\0\0\1", 4));
  sink.string({"caf\xc3\xa9\n", 4, true});
  sink.error(2);
  sink.error(4000);
}

// A clock_t (siginfo's si_utime, struct tms) as strace writes it: a nonzero
// count of ticks is followed by its seconds, at USER_HZ ticks a second.
TEST(TextValueWriter, ClockTicksAreFollowedByTheirSeconds) {
  auto ticks = [](int64_t value) {
    std::string out;
    TextValueWriter writer(out, TextValueWriter::Position::argument, StringHex::none);
    writer.signed_integer(value, Meaning::clock_ticks);
    return out;
  };
  ASSERT_EQ(uapi::kUserHz, 100u) << "the expectations below count 100 ticks a second";
  EXPECT_EQ(ticks(0), "0");
  EXPECT_EQ(ticks(1), "1 /* 0.01 s */");
  EXPECT_EQ(ticks(10), "10 /* 0.10 s */");
  EXPECT_EQ(ticks(250), "250 /* 2.50 s */");
  EXPECT_EQ(ticks(123456), "123456 /* 1234.56 s */");
  // Other times stay plain numbers.
  std::string plain;
  TextValueWriter(plain, TextValueWriter::Position::argument, StringHex::none).signed_integer(250, Meaning::time);
  EXPECT_EQ(plain, "250");
}

TEST(TextValueWriter, StagedWritesWhatDirectWrites) {
  const FlagSet* set = find_flag_set("open_flags", format::Arch::x86_64);
  ASSERT_NE(set, nullptr);
  for (const auto position : {TextValueWriter::Position::argument, TextValueWriter::Position::return_value}) {
    for (const bool verbose : {false, true}) {
      std::string direct = "row|";
      {
        TextValueWriter writer(direct, position, StringHex::none, nullptr, verbose);
        describe_every_kind(writer, *set);
      }
      // Staged text before and after the writer's, and a buffer nearly full
      // when it starts: the pieces must land in order.
      for (const size_t fill : {size_t{0}, StagedAppend::kSize - 2}) {
        std::string out = "row|";
        StagedAppend staged(out);
        const std::string filler(fill, '.');
        staged.append(filler);
        {
          TextValueWriter writer(staged, out, position, StringHex::none, nullptr, verbose);
          describe_every_kind(writer, *set);
        }
        staged.append("|end");
        staged.flush();
        std::string expected = direct;
        expected.insert(4, filler);
        ASSERT_EQ(out, expected + "|end") << "fill " << fill;
      }
    }
  }
}

// A lookup that answers what a test sets, storage reused like a tracker's.
class SetPaths final : public FdPathLookup {
 public:
  std::optional<std::string_view> path_of(uint32_t, int64_t fd, bool) const override {
    if (fd < 0 || static_cast<size_t>(fd) >= paths.size() || paths[static_cast<size_t>(fd)].empty()) return std::nullopt;
    return paths[static_cast<size_t>(fd)];
  }
  std::vector<std::string> paths = std::vector<std::string>(64);
};

// Writers given an FdTextCache annotate every fd as they do without one:
// fds that share a slot, a path that changes under the same fd (same length
// too, in the same storage), paths that need escaping, fds with no path.
TEST(FdTextCache, WritersAnnotateFdsAsWithoutIt) {
  SetPaths lookup;
  const FdContext fds{&lookup, 1, false};
  FdTextCache cache;
  std::mt19937 random(5);
  static constexpr std::string_view kPaths[] = {"/etc/passwd", "/etc/group1", "/tmp/a\nb", "/tmp/<x>\"q\"",
                                                "pipe:[12]",   "socket:[34]", "/lib/\xff\x01" "7", ""};
  for (int round = 0; round < 2000; ++round) {
    const size_t fd = random() % 40;  // 3, 19 and 35 share a slot
    if (random() % 3 == 0) lookup.paths[fd] = kPaths[random() % std::size(kPaths)];
    for (const auto position : {TextValueWriter::Position::argument, TextValueWriter::Position::return_value}) {
      std::string plain, cached;
      TextValueWriter(plain, position, StringHex::none, &fds).signed_integer(static_cast<int64_t>(fd), Meaning::fd);
      TextValueWriter(cached, position, StringHex::none, &fds, false, nullptr, &cache)
          .signed_integer(static_cast<int64_t>(fd), Meaning::fd);
      ASSERT_EQ(cached, plain) << "fd " << fd << " round " << round;
    }
  }
}

// The table's PARAMS column is padded to the same width whether a value in
// it went through the staging or straight to the output (a device number is
// written with fmt, directly): RET starts at the same column.
TEST(StagedAppend, TableColumnsAlignWhateverPathAValueTook) {
  std::string staged_row, direct_row;
  for (auto* row : {&staged_row, &direct_row}) {
    StagedAppend staged(*row);
    const size_t start = staged.written();
    {
      TextValueWriter writer(staged, *row);
      if (row == &direct_row)
        writer.device(8, 1);
      else
        writer.string({"makedev(0x8, 0x1)", 0, false, StringForm::text});
    }
    pad_column(staged, start, 30);
    staged.put('|');
    staged.flush();
  }
  EXPECT_EQ(staged_row.find('|'), direct_row.find('|')) << staged_row << "\n" << direct_row;
  EXPECT_EQ(direct_row, "makedev(0x8, 0x1)             |");
}

}  // namespace
}  // namespace traceloop::tools
