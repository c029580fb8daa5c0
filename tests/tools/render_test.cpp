// Renderer details the goldens do not cover: colors, the container column,
// loss text, timestamps, JSON validity of hostile strings, terminal detection.

#include "tools/lib/decoder/json_string.h"
#include "tools/lib/decoder/render.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/tools/show_fixtures.h"
#include "tools/lib/decoder/output.h"
#include "tools/lib/decoder/text_append.h"

namespace traceloop::tools {
namespace {

using testing::EventBuilder;

class RenderTest : public ::testing::Test {
 protected:
  RenderTest() : metadata_(testing::test_metadata()), decoder_(metadata_), builder_(metadata_.catalogue) {}

  std::string render(const RenderOptions& options, bool with_header = false) {
    auto r = make_renderer(options, decoder_, metadata_);
    std::string out;
    if (with_header) r->header(out);
    for (const auto& e : builder_.events()) r->event(out, e.view());
    return out;
  }

  format::TraceMetadata metadata_;
  Decoder decoder_;
  EventBuilder builder_;
};

TEST_F(RenderTest, ColorOnlyWhenAsked) {
  builder_.call("close", {9}, -9);
  RenderOptions plain;
  EXPECT_EQ(render(plain).find('\x1b'), std::string::npos);
  RenderOptions color;
  color.color = true;
  const auto out = render(color);
  EXPECT_NE(out.find("\x1b[31m-1 EBADF (Bad file descriptor)\x1b[0m"), std::string::npos) << out;
  color.format = OutputFormat::strace;
  EXPECT_NE(render(color).find("\x1b[31m-1 EBADF"), std::string::npos);
}

TEST_F(RenderTest, ContainerColumnWithSeveralContainers) {
  format::ContainerInfo other;
  other.id = "abcdef0123456789";
  metadata_.containers.push_back(other);
  builder_.call("close", {3}, 0);
  builder_.in_container(1).call("close", {4}, 0);
  const auto out = render(RenderOptions{}, true);
  EXPECT_EQ(out.rfind("CONTAINER", 0), 0u) << out;
  EXPECT_NE(out.find("\nmypod "), std::string::npos) << out;
  EXPECT_NE(out.find("\nabcdef012345 "), std::string::npos) << out;
  RenderOptions off;
  off.container_column = false;
  EXPECT_EQ(render(off, true).find("CONTAINER"), std::string::npos);
}

TEST_F(RenderTest, WideNumbersKeepColumnsApart) {
  builder_.as(123456789, "x").on_cpu(1234).call("close", {3}, 0);
  RenderOptions table;
  table.header = false;
  EXPECT_EQ(render(table).rfind("1234 123456789 x", 0), 0u) << render(table);
  std::string hex;
  append_hex(hex, 0);
  append_hex(hex, 0xdeadbeef);
  append_decimal(hex, int64_t{-5});
  EXPECT_EQ(hex, "0x00xdeadbeef-5");
}

// The table keeps the last row's COMM column: a name that changes, comes
// back, needs escaping or overflows its column is still written as its own.
TEST_F(RenderTest, CommColumnFollowsEachRowsThread) {
  const std::vector<std::string> comms = {"sh", "a\nb", "sh", "sh", "", "sixteen-or-more-bytes", "s", "sh"};
  for (size_t i = 0; i < comms.size(); ++i) builder_.as(static_cast<uint32_t>(100 + i), comms[i]).call("close", {3}, 0);
  RenderOptions table;
  table.header = false;
  const std::string out = render(table);
  std::vector<std::string> rows;
  for (size_t start = 0; start < out.size();) {
    const size_t end = out.find('\n', start);
    rows.push_back(out.substr(start, end - start));
    start = end + 1;
  }
  ASSERT_EQ(rows.size(), comms.size()) << out;
  for (size_t i = 0; i < comms.size(); ++i) {
    std::string escaped;
    append_escaped(escaped, comms[i]);
    const std::string column = escaped + std::string(escaped.size() < 16 ? 16 - escaped.size() : 1, ' ');
    EXPECT_EQ(rows[i].substr(4, 8 + column.size() + 5), fmt::format("{:<8}{}close", 100 + i, column)) << rows[i];
  }
}

// The table keeps the CPU, PID and COMM columns by pid and cpu in a few
// slots: threads that take turns, pids and cpus that share a slot, a name
// that changes under the same pid and cpu, wide numbers: every row still
// shows its own.
TEST_F(RenderTest, ThreadColumnsFollowEachRow) {
  struct Row {
    uint32_t cpu, pid;
    std::string comm;
  };
  const std::vector<Row> rows = {{0, 100, "sh"},   {0, 132, "ls"},   {0, 100, "sh"},      {1, 100, "sh"},  {32, 100, "sh"},
                                 {0, 100, "sh2"},  {0, 100, "sh"},   {7, 107, "x"},       {0, 132, "ls"},
                                 {1, 100, "a\nb"}, {1234, 100, "sh"}, {0, 123456789, "big"}, {0, 100, "sh"},
                                 {3, 4, ""},       {3, 4, "sixteen-or-more-bytes"}, {3, 4, ""}};
  for (const auto& r : rows) builder_.as(r.pid, r.comm).on_cpu(r.cpu).call("close", {3}, 0);
  RenderOptions table;
  table.header = false;
  const std::string out = render(table);
  const auto padded = [](std::string text, size_t width) {
    return text + std::string(text.size() < width ? width - text.size() : 1, ' ');
  };
  size_t start = 0;
  for (const auto& r : rows) {
    const size_t end = out.find('\n', start);
    ASSERT_NE(end, std::string::npos) << out;
    std::string comm;
    append_escaped(comm, r.comm);
    const std::string expected =
        padded(std::to_string(r.cpu), 4) + padded(std::to_string(r.pid), 8) + padded(comm, 16) + "close";
    EXPECT_EQ(out.substr(start, expected.size()), expected) << out.substr(start, end - start);
    start = end + 1;
  }
}

TEST_F(RenderTest, LossText) {
  std::string out;
  append_loss_text(out, format::LossMarker{5, 0, 2, 0, 0});
  EXPECT_EQ(out, "\u2026 5 events lost on CPU 2 \u2026");
  out.clear();
  append_loss_text(out, format::LossMarker{1, 40, -1, 0, 0});
  EXPECT_EQ(out, "\u2026 1 event lost, 40 events overwritten \u2026");
}

TEST_F(RenderTest, Timestamps) {
  builder_.call("close", {3}, 0);  // enter at 5.00001 s after boot, 2.5 us long
  const auto e = builder_.last();
  uint64_t prev = 0;
  std::string out;
  append_timestamp(out, TimestampMode::wall_seconds, e, metadata_.boot_to_wall_ns, 0, prev);
  EXPECT_EQ(out, "03:00:05 ");
  out.clear();
  append_timestamp(out, TimestampMode::wall_seconds, e, metadata_.boot_to_wall_ns, 3600, prev);
  EXPECT_EQ(out, "04:00:05 ");
  out.clear();
  append_timestamp(out, TimestampMode::wall_micros, e, metadata_.boot_to_wall_ns, 0, prev);
  EXPECT_EQ(out, "03:00:05.000010 ");
  out.clear();
  append_timestamp(out, TimestampMode::epoch_micros, e, metadata_.boot_to_wall_ns, 0, prev);
  EXPECT_EQ(out, "1795316405.000010 ");
  out.clear();
  prev = e.enter_ns - 1500;
  append_timestamp(out, TimestampMode::relative, e, metadata_.boot_to_wall_ns, 0, prev);
  EXPECT_EQ(out, "     0.000001 ");
  EXPECT_EQ(prev, e.enter_ns);
  out.clear();
  append_duration(out, e);
  EXPECT_EQ(out, " <0.000002>");
}

// A container's names in JSON: a C1 control (U+009B CSI, as UTF-8) is
// escaped, invalid UTF-8 becomes U+FFFD, valid text stays as it is.
TEST(JsonString, C1ControlsAreEscapedAndInvalidUtf8IsReplaced) {
  EXPECT_EQ(json_string("a\xC2\x9B" "31m"), R"("a\u009b31m")");
  EXPECT_EQ(json_string("caf\xC3\xA9"), "\"caf\xC3\xA9\"");
  EXPECT_EQ(json_string("x\xff\xfey"), R"("x\ufffd\ufffdy")");
  EXPECT_EQ(json_string("\xE2\x82"), R"("\ufffd\ufffd")");  // a sequence cut short
}

TEST_F(RenderTest, JsonStaysValidForHostileBytes) {
  builder_.as(7, std::string("a\"b\\\x1b\xff", 6)).call("write", {1, 0x1000, 3}, 3).data(1, "\x1b\"\n");
  RenderOptions json;
  json.format = OutputFormat::json;
  const auto out = render(json);
  // 0xff is no UTF-8: the exact bytes in base64 (never \u00ff, which claims
  // the Latin-1 'ÿ'); valid text is a JSON string of the bytes themselves.
  EXPECT_NE(out.find(R"("comm":{"base64":"YSJiXBv/","truncated":false})"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("value":"\u001b\"\n")"), std::string::npos) << out;
  for (char c : out) EXPECT_TRUE((c >= 0x20 && c < 0x7f) || c == '\n') << int(c);
}

TEST(OutputTest, ColorWantedOnlyOnTerminalsWithoutNoColor) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  EXPECT_FALSE(color_wanted(fds[1]));  // a pipe is not a terminal
  close(fds[0]);
  close(fds[1]);
  setenv("NO_COLOR", "1", 1);
  EXPECT_FALSE(color_wanted(STDOUT_FILENO));
  unsetenv("NO_COLOR");
}

TEST(OutputTest, OutputFormatNames) {
  EXPECT_EQ(output_format_from_name("strace"), OutputFormat::strace);
  EXPECT_EQ(output_format_from_name("json"), OutputFormat::json);
  EXPECT_EQ(output_format_from_name("table"), OutputFormat::table);
  EXPECT_FALSE(output_format_from_name("xml").has_value());
}

}  // namespace
}  // namespace traceloop::tools
