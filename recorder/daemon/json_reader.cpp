#include "recorder/daemon/json_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

namespace traceloop::daemon {

const JsonValue* JsonValue::find(std::string_view key) const {
  if (kind_ != Kind::object) return nullptr;
  for (const auto& [k, v] : members_)
    if (k == key) return &v;
  return nullptr;
}

std::optional<std::string_view> JsonValue::string() const {
  if (kind_ != Kind::string) return std::nullopt;
  return std::string_view(text_);
}

std::optional<int64_t> JsonValue::integer() const {
  if (kind_ != Kind::number) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), v);
  if (ec == std::errc() && end == text_.data() + text_.size()) return v;
  return std::nullopt;
}

class JsonParser {
 public:
  JsonParser(std::string_view text, const JsonLimits& limits) : text_(text), limits_(limits) {}

  Result<JsonValue> parse() {
    JsonValue root;
    if (!value(root, 0)) return Error{error_};
    skip_space();
    if (pos_ != text_.size()) return fail_result("trailing characters");
    return root;
  }

 private:
  Result<JsonValue> fail_result(const char* what) {
    fail(what);
    return Error{error_};
  }
  bool fail(const char* what) {
    if (error_.empty()) error_ = std::string("malformed JSON at byte ") + std::to_string(pos_) + ": " + what;
    return false;
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return fail("unknown literal");
    pos_ += word.size();
    return true;
  }

  bool value(JsonValue& out, int depth) {
    if (depth > limits_.max_depth) return fail("nesting too deep");
    skip_space();
    if (pos_ >= text_.size()) return fail("unexpected end");
    char c = text_[pos_];
    switch (c) {
      case '{': return object(out, depth + 1);
      case '[': return array(out, depth + 1);
      case '"': out.kind_ = JsonValue::Kind::string; return string(out.text_);
      case 't': out.kind_ = JsonValue::Kind::boolean; out.boolean_ = true; return literal("true");
      case 'f': out.kind_ = JsonValue::Kind::boolean; return literal("false");
      case 'n': return literal("null");
      default: return number(out);
    }
  }

  bool object(JsonValue& out, int depth) {
    out.kind_ = JsonValue::Kind::object;
    ++pos_;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != '"') return fail("expected a member name");
      std::string key;
      if (!string(key)) return false;
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != ':') return fail("expected ':'");
      ++pos_;
      out.members_.emplace_back(std::move(key), JsonValue{});
      if (!value(out.members_.back().second, depth)) return false;
      skip_space();
      if (pos_ >= text_.size()) return fail("unexpected end in object");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }

  bool array(JsonValue& out, int depth) {
    out.kind_ = JsonValue::Kind::array;
    ++pos_;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      out.items_.emplace_back();
      if (!value(out.items_.back(), depth)) return false;
      skip_space();
      if (pos_ >= text_.size()) return fail("unexpected end in array");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }

  bool hex4(uint32_t& out) {
    if (pos_ + 4 > text_.size()) return fail("short \\u escape");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      char h = text_[pos_++];
      out <<= 4;
      if (h >= '0' && h <= '9') out |= static_cast<uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') out |= static_cast<uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') out |= static_cast<uint32_t>(h - 'A' + 10);
      else return fail("bad \\u escape");
    }
    return true;
  }

  static void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool string(std::string& out) {
    ++pos_;  // opening quote
    for (;;) {
      if (pos_ >= text_.size()) return fail("unterminated string");
      char c = text_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in string");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) return fail("unterminated escape");
      char e = text_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00) {
            uint32_t low = 0;
            if (text_.substr(pos_, 2) != "\\u") return fail("lone surrogate");
            pos_ += 2;
            if (!hex4(low)) return false;
            if (low < 0xDC00 || low >= 0xE000) return fail("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return fail("lone surrogate");
          }
          put_utf8(out, cp);
          break;
        }
        default: return fail("unknown escape");
      }
    }
  }

  bool number(JsonValue& out) {
    size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    size_t digits = pos_;
    while (pos_ < text_.size() && std::strchr("0123456789.eE+-", text_[pos_]) != nullptr && text_[pos_] != '\0') ++pos_;
    if (pos_ == digits) return fail("unexpected character");
    out.kind_ = JsonValue::Kind::number;
    out.text_ = std::string(text_.substr(start, pos_ - start));
    // Validated by conversion: a malformed literal is an error, not a zero.
    double v = 0;
    auto [end, ec] = std::from_chars(out.text_.data(), out.text_.data() + out.text_.size(), v);
    if (ec != std::errc() || end != out.text_.data() + out.text_.size() || !std::isfinite(v)) return fail("bad number");
    out.number_ = v;
    return true;
  }

  std::string_view text_;
  const JsonLimits& limits_;
  size_t pos_ = 0;
  std::string error_;
};

Result<JsonValue> parse_json(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes)
    return Error{"JSON document of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                 std::to_string(limits.max_bytes)};
  return JsonParser(text, limits).parse();
}

Result<JsonValue> read_json_file(const std::filesystem::path& path, const JsonLimits& limits) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return Error{path.string() + ": " + std::strerror(errno)};
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return Error{path.string() + ": not a regular file"};
  if (static_cast<uint64_t>(st.st_size) > limits.max_bytes)
    return Error{path.string() + ": " + std::to_string(st.st_size) + " bytes exceeds the limit of " +
                 std::to_string(limits.max_bytes)};
  std::string text;
  text.resize(static_cast<size_t>(st.st_size) + 1);  // one more: notices a file that grew
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{path.string() + ": " + std::strerror(errno)};
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > limits.max_bytes) return Error{path.string() + ": exceeds the size limit"};
  text.resize(got);
  auto parsed = parse_json(text, limits);
  if (!parsed.ok()) return Error{path.string() + ": " + parsed.error().message};
  return parsed;
}

}  // namespace traceloop::daemon
