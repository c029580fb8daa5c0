#include "tools/lib/decoder/value_json.h"

#include <arpa/inet.h>
#include <sys/wait.h>

#include <fmt/format.h>

#include <cstring>
#include <iterator>

#include "format/utf8.h"
#include "tools/lib/decoder/decode.h"
#include "tools/lib/decoder/flag_sets.h"
#include "tools/lib/decoder/json_string.h"
#include "tools/lib/decoder/text_append.h"

namespace traceloop::tools {

using namespace std::string_view_literals;  // appends of literals need no strlen

namespace {

void append_base64(std::string& out, std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                       static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (const size_t rest = bytes.size() - i; rest > 0) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
}

bool is_name(std::string_view text) {
  return !text.empty() && (text[0] == '_' || (text[0] >= 'A' && text[0] <= 'Z') || (text[0] >= 'a' && text[0] <= 'z'));
}

// Names from this build's tables (flags, signals, errnos): identifiers, or
// a number in hex, which JSON takes as they are.
void append_name(std::string& out, std::string_view name) {
  char quoted[64];  // with its quotes in one append: a few per argument
  if (name.size() + 2 > sizeof quoted) {
    out.push_back('"');
    out.append(name);
    out.push_back('"');
    return;
  }
  quoted[0] = '"';
  std::memcpy(quoted + 1, name.data(), name.size());
  quoted[name.size() + 1] = '"';
  out.append(quoted, name.size() + 2);
}

void append_name_or_null(std::string& out, std::string_view text) {
  if (is_name(text))
    append_name(out, text);
  else
    out.append("null"sv);
}

}  // namespace

void append_json_bytes(std::string& out, std::string_view bytes, bool truncated) {
  const size_t mark = out.size();
  if (truncated) out.append("{\"text\":"sv);
  if (append_json_string_if_utf8(out, bytes)) {
    if (truncated) out.append(",\"truncated\":true}"sv);
    return;
  }
  out.resize(mark);
  {
    out.append("{\"base64\":\""sv);
    append_base64(out, bytes);
    out.append(truncated ? "\",\"truncated\":true}" : "\",\"truncated\":false}");
  }
}

void JsonValueWriter::begin_value() {
  if (depth_ > 0) {
    const uint64_t bit = uint64_t{1} << (depth_ - 1);
    if (has_items_ & bit) out_.push_back(',');
    has_items_ |= bit;
  }
  if (field_pending_) {
    append_name(out_, field_);  // the decoders' own field names
    out_.push_back(':');
    field_pending_ = false;
  }
}

void JsonValueWriter::signed_integer(int64_t value, Meaning meaning) {
  begin_value();
  // A return value whatever its kind when the call made an fd (fcntl's F_DUPFD).
  if (fds_.lookup != nullptr && (meaning == Meaning::fd || result_)) {
    if (const auto path = fds_.path(value, result_)) {
      out_.append("{\"fd\":");
      append_decimal(out_, value);
      out_.append(",\"path\":");
      append_json_bytes(out_, *path, false);
      out_.push_back('}');
      return;
    }
  }
  append_decimal(out_, value);
}

void JsonValueWriter::unsigned_integer(uint64_t value, Meaning) {
  begin_value();
  append_decimal(out_, value);
}

void JsonValueWriter::hex_integer(uint64_t value, Meaning meaning) {
  begin_value();
  if (meaning != Meaning::address) {
    append_decimal(out_, value);
  } else if (value == 0) {
    out_.append("null"sv);
  } else {
    out_.append("{\"address\":\""sv);
    append_hex(out_, value);
    out_.append("\"}"sv);
  }
}

void JsonValueWriter::network_integer(uint64_t host_value, unsigned) {
  begin_value();
  append_decimal(out_, host_value);
}

void JsonValueWriter::names(std::string_view key, std::string_view text, uint64_t raw) {
  out_.append("{\""sv);
  out_.append(key);
  out_.append("\":["sv);
  bool first = true;
  while (!text.empty()) {
    const size_t bar = text.find('|');
    const std::string_view name = text.substr(0, bar);
    text = bar == std::string_view::npos ? std::string_view{} : text.substr(bar + 1);
    if (name.empty() || name == "0") continue;
    if (!first) out_.push_back(',');
    first = false;
    append_name(out_, name);
  }
  out_.append("],\"raw\":"sv);
  append_decimal(out_, raw);
  out_.push_back('}');
}

void JsonValueWriter::flags(const FlagSet& set, uint64_t raw) {
  begin_value();
  scratch_.clear();
  append_flags(scratch_, set, raw);
  if (set.enum_mask == ~0ull) {
    out_.append("{\"enum\":"sv);
    append_name_or_null(out_, scratch_);
    out_.append(",\"raw\":"sv);
    append_decimal(out_, raw);
    out_.push_back('}');
    return;
  }
  names("flags", scratch_, raw);
}

void JsonValueWriter::constant(std::string_view name, int64_t raw) {
  begin_value();
  out_.append("{\"enum\":"sv);
  append_name_or_null(out_, name);
  out_.append(",\"raw\":"sv);
  append_decimal(out_, raw);
  out_.push_back('}');
}

void JsonValueWriter::signal(int64_t number) {
  begin_value();
  scratch_.clear();
  append_signal(scratch_, number);
  out_.append("{\"signal\":"sv);
  append_name_or_null(out_, scratch_);
  out_.append(",\"raw\":"sv);
  append_decimal(out_, number);
  out_.push_back('}');
}

void JsonValueWriter::signal_set(uint64_t mask) {
  begin_value();
  out_.append("{\"signals\":["sv);
  bool first = true;
  for (int bit = 0; bit < 64; ++bit) {
    if ((mask & (uint64_t{1} << bit)) == 0) continue;
    if (!first) out_.push_back(',');
    first = false;
    scratch_.clear();
    append_signal(scratch_, bit + 1);
    append_name(out_, scratch_);
  }
  out_.append("],\"raw\":"sv);
  append_decimal(out_, mask);
  out_.push_back('}');
}

void JsonValueWriter::mode(uint64_t mode) {
  begin_value();
  scratch_.clear();
  append_mode(scratch_, mode);
  // "S_IFREG|S_ISUID|0755": the names, then the permission bits in octal.
  const size_t bar = scratch_.rfind('|');
  const std::string_view text = scratch_;
  const std::string_view permissions = bar == std::string::npos ? text : text.substr(bar + 1);
  names("flags", bar == std::string::npos ? std::string_view{} : text.substr(0, bar), mode);
  out_.pop_back();
  out_.append(",\"permissions\":"sv);
  append_json_string(out_, permissions);
  out_.push_back('}');
}

void JsonValueWriter::device(uint64_t major, uint64_t minor) {
  begin_value();
  fmt::format_to(std::back_inserter(out_), "{{\"major\":{},\"minor\":{}}}", major, minor);
}

void JsonValueWriter::wait_status(int status) {
  begin_value();
  auto it = std::back_inserter(out_);
  scratch_.clear();
  if (WIFEXITED(status)) {
    fmt::format_to(it, "{{\"exited\":{}", WEXITSTATUS(status));
  } else if (WIFSTOPPED(status)) {
    append_signal(scratch_, WSTOPSIG(status));
    out_.append("{\"stopped\":"sv);
    append_json_string(out_, scratch_);
  } else if (WIFCONTINUED(status)) {
    out_.append("{\"continued\":true"sv);
  } else {
    append_signal(scratch_, WTERMSIG(status));
    out_.append("{\"signaled\":"sv);
    append_json_string(out_, scratch_);
    out_.append(WCOREDUMP(status) ? ",\"core_dumped\":true" : ",\"core_dumped\":false");
  }
  fmt::format_to(it, ",\"raw\":{}}}", status);
}

void JsonValueWriter::ip_address(int family, std::string_view address) {
  begin_value();
  char text[INET6_ADDRSTRLEN] = {};
  const bool v6 = family == AF_INET6;
  if (address.size() >= (v6 ? 16u : 4u) && inet_ntop(v6 ? AF_INET6 : AF_INET, address.data(), text, sizeof text))
    append_json_string(out_, text);
  else
    append_json_bytes(out_, address, false);
}

void JsonValueWriter::string(const StringValue& value) {
  begin_value();
  const bool cut = value.limit != 0 && value.bytes.size() > value.limit;
  const std::string_view bytes = cut ? value.bytes.substr(0, value.limit) : value.bytes;
  const bool truncated = cut || value.truncated;
  if (value.form == StringForm::abstract) out_.append("{\"abstract\":"sv);
  if (value.form == StringForm::binary) {
    out_.append("{\"base64\":\""sv);
    append_base64(out_, bytes);
    out_.append(truncated ? "\",\"truncated\":true}" : "\",\"truncated\":false}");
  } else {
    append_json_bytes(out_, bytes, truncated);
  }
  if (value.form == StringForm::abstract) out_.push_back('}');
}

void JsonValueWriter::begin_struct() {
  begin_value();
  out_.push_back('{');
  if (depth_ < 64) ++depth_;
  has_items_ &= ~(uint64_t{1} << (depth_ - 1));
}

void JsonValueWriter::field(std::string_view name) {
  field_ = name;
  field_pending_ = true;
}

void JsonValueWriter::end_struct(bool) {
  if (depth_ == 0) return;
  has_items_ &= ~(uint64_t{1} << (depth_ - 1));
  --depth_;
  field_pending_ = false;
  out_.push_back('}');
}

void JsonValueWriter::begin_array() {
  begin_value();
  if (depth_ < 64) ++depth_;
  array_start_[depth_ - 1] = out_.size();
  array_count_[depth_ - 1] = 0;
  out_.push_back('[');
  has_items_ &= ~(uint64_t{1} << (depth_ - 1));
}

void JsonValueWriter::end_array(bool cut) {
  if (depth_ == 0) return;
  has_items_ &= ~(uint64_t{1} << (depth_ - 1));
  const size_t start = array_start_[depth_ - 1];
  const uint64_t count = array_count_[depth_ - 1];
  --depth_;
  field_pending_ = false;
  out_.push_back(']');
  if (cut && start < out_.size()) {
    out_.insert(start, "{\"array\":");
    out_.append(",\"truncated\":true"sv);
    if (count != 0) {
      out_.append(",\"count\":"sv);
      append_decimal(out_, count);
    }
    out_.push_back('}');
  }
}

// JSON keeps every element it has; a cut array also says how many there were.
void JsonValueWriter::begin_counted_array(const ArrayCount& count) {
  begin_array();
  array_count_[depth_ - 1] = count.count;
}

void JsonValueWriter::error(int errno_number) {
  begin_value();
  out_.append("{\"errno\":"sv);
  append_name_or_null(out_, errno_name(errno_number));
  out_.append(",\"code\":"sv);
  append_decimal(out_, -static_cast<int64_t>(errno_number));
  out_.push_back('}');
}

}  // namespace traceloop::tools
