// JSON strings are scanned for plain ASCII sixteen, eight or four bytes at a
// time in blocks that may overlap, and written straight into a line buffer:
// the output must be what the byte-at-a-time rules give at every length and
// position (runs ending at a buffer's end, invalid UTF-8 right after a run,
// control characters, sequences of four bytes across a block's edge), and no
// scan may read a byte beyond the string.

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "format/utf8.h"
#include "tools/lib/decoder/flag_text_cache.h"
#include "tools/lib/decoder/json_buffer.h"
#include "tools/lib/decoder/json_string.h"
#include "tools/lib/decoder/value_json.h"
#include "tests/tools/reference_json.h"

namespace traceloop::tools {
namespace {

using testing_reference::reference_json;

bool plain(unsigned char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; }

size_t reference_run(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size() && plain(static_cast<unsigned char>(bytes[i]))) ++i;
  return i;
}

// Both writers (into a string and into a line buffer) give the reference,
// and a strict attempt that fails is told.
void expect_json(std::string_view bytes, const std::string& context) {
  const auto lenient = reference_json(bytes, false);
  const auto strict = reference_json(bytes, true);
  EXPECT_EQ(json_string(bytes), *lenient) << context;
  JsonBuffer line;
  line.append("x");
  append_json_string(line, bytes);
  EXPECT_EQ(line.view(), "x" + *lenient) << context;
  std::string out = "kept|";
  EXPECT_EQ(append_json_string_if_utf8(out, bytes), strict.has_value()) << context;
  if (strict) {
    EXPECT_EQ(out, "kept|" + *strict) << context;
  }
  line.clear();
  EXPECT_EQ(append_json_string_if_utf8(line, bytes), strict.has_value()) << context;
  if (strict) {
    EXPECT_EQ(line.view(), *strict) << context;
  }
}

// Strings placed so that their last byte is the last readable one: a scan
// that reads past the end faults.
class GuardedBytes {
 public:
  GuardedBytes() {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    void* p = mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
    base_ = static_cast<char*>(p);
    if (mprotect(base_ + page_, page_, PROT_NONE) != 0) throw std::runtime_error("mprotect failed");
  }
  ~GuardedBytes() { munmap(base_, 2 * page_); }
  GuardedBytes(const GuardedBytes&) = delete;
  GuardedBytes& operator=(const GuardedBytes&) = delete;

  std::string_view place(std::string_view bytes) {
    char* at = base_ + page_ - bytes.size();
    std::memcpy(at, bytes.data(), bytes.size());
    return {at, bytes.size()};
  }

 private:
  size_t page_ = 0;
  char* base_ = nullptr;
};

const char kSpecials[] = {'"', '\\', '\x7f', '\x1f', '\0', '\n', '\x80', '\xff', '\xc2'};

TEST(JsonPlainRun, EndsAtEverySpecialByteAtEveryPositionAndLength) {
  GuardedBytes guard;
  for (size_t length = 0; length <= 70; ++length) {
    const std::string all_plain(length, 'a');
    EXPECT_EQ(json_plain_run(guard.place(all_plain).data(), length), length) << "length " << length;
    for (size_t at = 0; at < length; ++at) {
      for (const char special : kSpecials) {
        std::string bytes(length, 'a');
        bytes[at] = special;
        const std::string_view placed = guard.place(bytes);
        ASSERT_EQ(json_plain_run(placed.data(), length), at) << "length " << length << " at " << at;
      }
    }
  }
}

TEST(JsonPlainRun, RandomBytesAgreeWithTheByteRule) {
  std::mt19937 random(3);
  GuardedBytes guard;
  for (int round = 0; round < 20000; ++round) {
    std::string bytes(random() % 48, 'a');
    for (auto& c : bytes) c = static_cast<char>(random() % 8 == 0 ? random() % 256 : 'a' + random() % 26);
    const std::string_view placed = guard.place(bytes);
    ASSERT_EQ(json_plain_run(placed.data(), placed.size()), reference_run(bytes)) << "round " << round;
  }
}

TEST(JsonString, AsciiRunsEndingAtTheStringsEnd) {
  GuardedBytes guard;
  for (size_t length = 0; length <= 70; ++length) {
    expect_json(guard.place(std::string(length, 'p')), "plain " + std::to_string(length));
    // A control character or a quote as the last byte, after a run.
    for (const char last : {'\x01', '"', '\x7f', '\t'}) {
      std::string bytes(length, 'p');
      bytes += last;
      expect_json(guard.place(bytes), "last byte after " + std::to_string(length));
    }
  }
}

TEST(JsonString, InvalidUtf8RightAfterARun) {
  const char* const bads[] = {"\xff", "\x80", "\xc3", "\xe2\x82", "\xed\xa0\x80",  // stray, cut, a surrogate
                              "\xf0\x82\x82\xac", "\xf4\x90\x80\x80"};             // overlong, beyond U+10FFFF
  for (size_t run = 0; run <= 40; ++run) {
    for (const char* bad : bads) {
      const std::string bytes = std::string(run, 'r') + bad + "tail";
      expect_json(bytes, "invalid after " + std::to_string(run));
      EXPECT_EQ(reference_json(bytes, true), std::nullopt);
    }
  }
  EXPECT_EQ(json_string("abc\xff"), R"("abc\ufffd")");
}

TEST(JsonString, ControlCharactersAndC1) {
  std::string all;
  for (int c = 0; c < 0x20; ++c) all += static_cast<char>(c);
  all += "\x7f";
  expect_json(all, "C0 and DEL");
  EXPECT_EQ(json_string(std::string("a\0b", 3)), R"("a\u0000b")");
  EXPECT_EQ(json_string("\x1b[31m"), R"("\u001b[31m")");
  for (size_t run = 0; run <= 20; ++run) expect_json(std::string(run, 'c') + "\xc2\x9b" + "x", "C1 after a run");
}

TEST(JsonString, FourByteSequencesAcrossBlockEdges) {
  const std::string smile = "\xf0\x9f\x98\x80";  // U+1F600
  for (size_t run = 0; run <= 40; ++run) {
    const std::string bytes = std::string(run, 'f') + smile + std::string(run % 7, 'g') + smile;
    expect_json(bytes, "four bytes after " + std::to_string(run));
    std::string out;
    EXPECT_TRUE(append_json_string_if_utf8(out, bytes));
    EXPECT_EQ(out, "\"" + bytes + "\"");
    // Cut short: the sequence is no longer UTF-8.
    expect_json(bytes.substr(0, run + 3), "cut four bytes after " + std::to_string(run));
  }
}

// Zero bytes are written eight at a time: runs of every length, starting
// anywhere (across the 64-byte stretches of escapes too), then other bytes.
TEST(JsonString, RunsOfZeroBytes) {
  const std::string afters[] = {"", "a", "\x01", "\xff", std::string(1, '\0') + "\x01"};
  for (size_t before = 0; before < 20; before += 3) {
    for (size_t zeros = 0; zeros <= 140; ++zeros) {
      for (const std::string& after : afters) {
        const std::string bytes = std::string(before, '\x02') + std::string(zeros, '\0') + after;
        expect_json(bytes, "zeros " + std::to_string(zeros) + " after " + std::to_string(before));
      }
    }
  }
}

TEST(JsonString, RandomBytesAtEveryLength) {
  std::mt19937 random(5);
  for (size_t length = 0; length < 700; length += 1 + length / 32) {
    for (int round = 0; round < 8; ++round) {
      std::string bytes(length, 'a');
      for (auto& c : bytes) {
        const unsigned r = random() % 16;
        c = static_cast<char>(r < 10 ? 'a' + random() % 26 : r < 12 ? random() % 0x20 : 0x80 + random() % 0x80);
      }
      expect_json(bytes, "random " + std::to_string(length));
    }
  }
}

TEST(JsonBuffer, GrowsInsertsAndCutsBack) {
  JsonBuffer line;
  std::string expected;
  for (int i = 0; i < 5000; ++i) {  // beyond the first allocation
    line.append("piece,");
    expected += "piece,";
  }
  append_decimal(line, int64_t{-42});
  expected += "-42";
  EXPECT_EQ(line.view(), expected);
  line.insert(6, "[in]");
  expected.insert(6, "[in]");
  EXPECT_EQ(line.view(), expected);
  line.truncate(10);
  EXPECT_EQ(line.view(), "piece,[in]");
  line.pop_back();
  line.put('!');
  EXPECT_EQ(line.view(), "piece,[in!");
  line.clear();
  EXPECT_EQ(line.view(), "");
}

// A writer into a string appends each value once complete; one into a line
// buffer writes into it: both give the same JSON, cut arrays included.
TEST(JsonValueWriter, StringAndLineWritersAgree) {
  const auto describe = [](ValueSink& sink) {
    sink.begin_struct();
    sink.field("list");
    sink.begin_counted_array(ArrayCount{0x1000, 5, CountedElements::entries});
    sink.unsigned_integer(1, Meaning::none);
    sink.begin_array();
    sink.string(StringValue{"x\xff", 0, false, StringForm::text});
    sink.end_array(true);
    sink.end_array(true);
    sink.field("addr");
    sink.hex_integer(0x7ffd4a1c, Meaning::address);
    sink.end_struct(false);
  };
  std::string text = "kept|";
  JsonValueWriter into_string(text);
  describe(into_string);
  JsonBuffer line;
  line.append("kept|");
  JsonValueWriter into_line(line);
  describe(into_line);
  const std::string expected =
      R"(kept|{"list":{"array":[1,{"array":[{"base64":"eP8=","truncated":false}],"truncated":true}],)"
      R"("truncated":true,"count":5},"addr":{"address":"0x7ffd4a1c"}})";
  EXPECT_EQ(text, expected);
  EXPECT_EQ(line.view(), expected);
}

// Modes' JSON is kept in the flag cache like flags: the same text, whichever
// value was in the slot before.
TEST(JsonValueWriter, ModesCachedAndNotAgree) {
  FlagTextCache cache;
  for (int round = 0; round < 2; ++round) {
    for (const uint64_t mode : {0ull, 0644ull, 0100755ull, 0104755ull, 040000ull, 0170000ull, 07777ull, 0100000ull}) {
      std::string plain, cached;
      JsonValueWriter(plain).mode(mode);
      JsonValueWriter(cached, {}, false, &cache).mode(mode);
      EXPECT_EQ(cached, plain) << mode;
    }
  }
  std::string json;
  JsonValueWriter(json).mode(0104755);
  EXPECT_EQ(json, R"({"flags":["S_IFREG","S_ISUID"],"raw":35309,"permissions":"0755"})");
}

}  // namespace
}  // namespace traceloop::tools
