#pragma once
// A small, bounded JSON reader for the OCI runtime's state.json and the
// bundle's config.json. Those files are written by whoever made the bundle,
// so the reader refuses oversized input and deep nesting instead of trusting
// it, and never recurses more than max_depth levels.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "format/result.h"

namespace traceloop::daemon {

struct JsonLimits {
  size_t max_bytes = 1u << 20;
  int max_depth = 64;
};

class JsonValue {
 public:
  enum class Kind : uint8_t { null, boolean, number, string, array, object };
  using Members = std::vector<std::pair<std::string, JsonValue>>;

  Kind kind() const { return kind_; }
  bool is_object() const { return kind_ == Kind::object; }
  bool is_string() const { return kind_ == Kind::string; }

  // Member lookup on objects; nullptr when absent or not an object.
  const JsonValue* find(std::string_view key) const;
  // The string of a string value; nullopt otherwise.
  std::optional<std::string_view> string() const;
  // The integer of a number value that is integral and fits; nullopt otherwise.
  std::optional<int64_t> integer() const;
  const Members& members() const { return members_; }
  const std::vector<JsonValue>& items() const { return items_; }

 private:
  friend class JsonParser;
  Kind kind_ = Kind::null;
  bool boolean_ = false;
  double number_ = 0;
  std::string text_;  // string value, or the number's literal
  std::vector<JsonValue> items_;
  Members members_;
};

Result<JsonValue> parse_json(std::string_view text, const JsonLimits& limits = {});

// Reads a regular file (not following a symlink in its last component) of at
// most limits.max_bytes and parses it.
Result<JsonValue> read_json_file(const std::filesystem::path& path, const JsonLimits& limits = {});

}  // namespace traceloop::daemon
