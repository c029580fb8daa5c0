#include "recorder/daemon/json_reader.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace traceloop::daemon {
namespace {

TEST(JsonReader, ParsesObjectsArraysStringsNumbers) {
  auto v = parse_json(R"({"id":"abc","pid":4242,"neg":-7,"f":1.5,"ok":true,"n":null,
                          "labels":["a=b","bundle=/x"],"nested":{"k":"\u00e9\n\"q\""}})");
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(*v->find("id")->string(), "abc");
  EXPECT_EQ(*v->find("pid")->integer(), 4242);
  EXPECT_EQ(*v->find("neg")->integer(), -7);
  EXPECT_FALSE(v->find("f")->integer().has_value());
  EXPECT_EQ(v->find("labels")->items().size(), 2u);
  EXPECT_EQ(*v->find("nested")->find("k")->string(), "\xc3\xa9\n\"q\"");
  EXPECT_EQ(v->find("missing"), nullptr);
  EXPECT_EQ(v->find("id")->find("x"), nullptr);
}

TEST(JsonReader, DecodesSurrogatePairs) {
  auto v = parse_json(R"("\ud83d\ude00")");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v->string(), "\xf0\x9f\x98\x80");
  EXPECT_FALSE(parse_json(R"("\ud83d")").ok());
}

TEST(JsonReader, RejectsMalformedInput) {
  for (const char* bad : {"", "{", "{\"a\"}", "{\"a\":1,}", "[1 2]", "\"unterminated", "tru", "01x", "{\"a\":1} x",
                          "\"bad \\q escape\"", "\"ctl \x01\"", "-", "1e999"}) {
    auto v = parse_json(bad);
    EXPECT_FALSE(v.ok()) << "accepted: " << bad;
    if (!v.ok()) {
      EXPECT_NE(v.error().message.find("JSON"), std::string::npos) << v.error().message;
    }
  }
}

TEST(JsonReader, RefusesDeepNesting) {
  std::string deep(100000, '[');
  auto v = parse_json(deep);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("nesting too deep"), std::string::npos);
  std::string ok_depth = std::string(10, '[') + std::string(10, ']');
  EXPECT_TRUE(parse_json(ok_depth).ok());
}

TEST(JsonReader, RefusesOversizedDocumentsAndFiles) {
  JsonLimits limits;
  limits.max_bytes = 100;
  EXPECT_FALSE(parse_json("\"" + std::string(200, 'a') + "\"", limits).ok());

  testing::TempDir dir;
  {
    std::ofstream out(dir / "big.json");
    out << "{\"a\":\"" << std::string(2u << 20, 'x') << "\"}";
  }
  auto v = read_json_file(dir / "big.json");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("exceeds the limit"), std::string::npos) << v.error().message;
}

TEST(JsonReader, DoesNotFollowSymlinksOrReadDevices) {
  testing::TempDir dir;
  { std::ofstream(dir / "real.json") << "{}"; }
  std::filesystem::create_symlink(dir / "real.json", dir / "link.json");
  EXPECT_TRUE(read_json_file(dir / "real.json").ok());
  EXPECT_FALSE(read_json_file(dir / "link.json").ok());
  EXPECT_FALSE(read_json_file("/dev/zero").ok());
  EXPECT_FALSE(read_json_file(dir / "absent.json").ok());
}

}  // namespace
}  // namespace traceloop::daemon
