#include "tools/lib/decoder/value_json.h"

#include <arpa/inet.h>
#include <sys/wait.h>

#include <cstring>
#include <optional>

#include "format/utf8.h"
#include "tools/lib/decoder/decode.h"
#include "tools/lib/decoder/flag_sets.h"
#include "tools/lib/decoder/flag_text_cache.h"
#include "tools/lib/decoder/json_string.h"
#include "tools/lib/decoder/text_append.h"

namespace traceloop::tools {

using namespace std::string_view_literals;  // appends of literals need no strlen

namespace {

void append_base64(JsonBuffer& out, std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char* p = out.room((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                       static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    p[0] = kAlphabet[v >> 18];
    p[1] = kAlphabet[(v >> 12) & 63];
    p[2] = kAlphabet[(v >> 6) & 63];
    p[3] = kAlphabet[v & 63];
    p += 4;
  }
  if (const size_t rest = bytes.size() - i; rest > 0) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    p[0] = kAlphabet[v >> 18];
    p[1] = kAlphabet[(v >> 12) & 63];
    p[2] = rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    p[3] = '=';
    p += 4;
  }
  out.commit(p);
}

bool is_name(std::string_view text) {
  return !text.empty() && (text[0] == '_' || (text[0] >= 'A' && text[0] <= 'Z') || (text[0] >= 'a' && text[0] <= 'z'));
}

// Names from this build's tables (flags, signals, errnos): identifiers, or
// a number in hex, which JSON takes as they are. `Out`: a JsonBuffer, or a
// StagedAppend in front of a string.
template <typename Out>
void append_name(Out& out, std::string_view name) {
  out.put('"');
  out.append(name);
  out.put('"');
}

template <typename Out>
void append_name_or_null(Out& out, std::string_view text) {
  if (is_name(text))
    append_name(out, text);
  else
    out.append("null"sv);
}

// {"KEY":NAME_OR_NULL,"raw":RAW}: an enum, a constant, a signal. RAW is
// written signed or unsigned as given.
template <typename Out, typename Raw>
void append_named_number(Out& json, std::string_view key, std::string_view name, Raw raw) {
  json.append("{\""sv);
  json.append(key);
  json.append("\":"sv);
  append_name_or_null(json, name);
  json.append(",\"raw\":"sv);
  append_decimal(json, raw);
  json.put('}');
}

// ["NAME",...] from `text`, names joined by '|' (empty parts and a bare "0"
// left out).
template <typename Out>
void append_name_list(Out& json, std::string_view text) {
  json.put('[');
  bool first = true;
  while (!text.empty()) {
    const size_t bar = text.find('|');
    const std::string_view name = text.substr(0, bar);
    text = bar == std::string_view::npos ? std::string_view{} : text.substr(bar + 1);
    if (name.empty() || name == "0") continue;
    if (!first) json.put(',');
    first = false;
    append_name(json, name);
  }
  json.put(']');
}

// {"KEY":["NAME",...],"raw":RAW} from `text`, names joined by '|'.
template <typename Out>
void append_names(Out& json, std::string_view key, std::string_view text, uint64_t raw) {
  json.append("{\""sv);
  json.append(key);
  json.append("\":"sv);
  append_name_list(json, text);
  json.append(",\"raw\":"sv);
  append_decimal(json, raw);
  json.put('}');
}

// A flag set's value: {"enum":...} for a pure enum, else {"flags":[...]}.
template <typename Out>
void append_flags_json(Out& out, const FlagSet& set, uint64_t raw, std::string& scratch) {
  scratch.clear();
  append_flags(scratch, set, raw);
  if (set.enum_mask == ~0ull) {
    append_named_number(out, "enum"sv, scratch, raw);
    return;
  }
  append_names(out, "flags"sv, scratch, raw);
}

// {"flags":["S_IFREG",...],"raw":RAW,"permissions":"0755"}
template <typename Out>
void append_mode_json(Out& out, uint64_t mode, std::string& scratch) {
  scratch.clear();
  append_mode(scratch, mode);
  // "S_IFREG|S_ISUID|0755": the names, then the permission bits in octal.
  const size_t bar = scratch.rfind('|');
  const std::string_view text = scratch;
  const std::string_view permissions = bar == std::string::npos ? text : text.substr(bar + 1);
  out.append("{\"flags\":"sv);
  append_name_list(out, bar == std::string::npos ? std::string_view{} : text.substr(0, bar));
  out.append(",\"raw\":"sv);
  append_decimal(out, mode);
  // Octal digits: nothing to escape.
  out.append(",\"permissions\":\""sv);
  out.append(permissions);
  out.append("\"}"sv);
}

// The key of modes' JSON in a FlagTextCache: a set of its own.
constexpr FlagSet kModeKey = [] {
  FlagSet set;
  set.name = "mode";
  return set;
}();

}  // namespace

void append_json_bytes(JsonBuffer& out, std::string_view bytes, bool truncated) {
  const size_t mark = out.size();
  if (truncated) out.append("{\"text\":"sv);
  if (append_json_string_if_utf8(out, bytes)) {
    if (truncated) out.append(",\"truncated\":true}"sv);
    return;
  }
  out.truncate(mark);
  out.append("{\"base64\":\""sv);
  append_base64(out, bytes);
  out.append(truncated ? "\",\"truncated\":true}"sv : "\",\"truncated\":false}"sv);
}

void append_json_bytes(std::string& out, std::string_view bytes, bool truncated) {
  if (!truncated) {  // text, the common case: no buffer to allocate
    const size_t mark = out.size();
    if (append_json_string_if_utf8(out, bytes)) return;
    out.resize(mark);
  }
  JsonBuffer json;
  append_json_bytes(json, bytes, truncated);
  out.append(json.view());
}

void JsonValueWriter::begin_nested_value() {
  if (depth_ > 0) {
    const uint64_t bit = uint64_t{1} << (depth_ - 1);
    if (has_items_ & bit) out_.put(',');
    has_items_ |= bit;
  }
  if (field_pending_) {
    // The decoders' own field names, quoted, with the colon.
    char* p = out_.room(field_.size() + 3);
    *p++ = '"';
    std::memcpy(p, field_.data(), field_.size());
    p += field_.size();
    *p++ = '"';
    *p++ = ':';
    out_.commit(p);
    field_pending_ = false;
  }
}

void JsonValueWriter::signed_integer(int64_t value, Meaning meaning) {
  begin_value();
  // A return value whatever its kind when the call made an fd (fcntl's F_DUPFD).
  const std::optional<std::string_view> path =
      fds_.lookup != nullptr && (meaning == Meaning::fd || result_) ? fds_.path(value, result_) : std::nullopt;
  if (path) {
    out_.append("{\"fd\":"sv);
    append_decimal(out_, value);
    out_.append(",\"path\":"sv);
    append_json_bytes(out_, *path, false);
    out_.put('}');
  } else {
    append_decimal(out_, value);
  }
  end_value();
}

void JsonValueWriter::unsigned_integer(uint64_t value, Meaning) {
  begin_value();
  append_decimal(out_, value);
  end_value();
}

void JsonValueWriter::hex_integer(uint64_t value, Meaning meaning) {
  begin_value();
  if (meaning != Meaning::address) {
    append_decimal(out_, value);
  } else if (value == 0) {
    out_.append("null"sv);
  } else {
    // {"address":"0x7ffd4a1c"}, the digits straight into the buffer.
    out_.append("{\"address\":\""sv);
    char* end = write_hex(out_.room(20), value);
    *end++ = '"';
    *end++ = '}';
    out_.commit(end);
  }
  end_value();
}

void JsonValueWriter::network_integer(uint64_t host_value, unsigned) {
  begin_value();
  append_decimal(out_, host_value);
  end_value();
}

void JsonValueWriter::flags(const FlagSet& set, uint64_t raw) {
  begin_value();
  if (flag_texts_ == nullptr) {
    append_flags_json(out_, set, raw, scratch_);
  } else {
    out_.append(flag_texts_->get(set, raw, [&](std::string& text) {
      StagedAppend staged(text);
      append_flags_json(staged, set, raw, scratch_);
      staged.flush();
    }));
  }
  end_value();
}

void JsonValueWriter::constant(std::string_view name, int64_t raw) {
  begin_value();
  append_named_number(out_, "enum"sv, name, raw);
  end_value();
}

void JsonValueWriter::signal(int64_t number) {
  begin_value();
  scratch_.clear();
  append_signal(scratch_, number);
  append_named_number(out_, "signal"sv, scratch_, number);
  end_value();
}

void JsonValueWriter::signal_set(uint64_t mask) {
  begin_value();
  out_.append("{\"signals\":["sv);
  bool first = true;
  for (int bit = 0; bit < 64; ++bit) {
    if ((mask & (uint64_t{1} << bit)) == 0) continue;
    if (!first) out_.put(',');
    first = false;
    scratch_.clear();
    append_signal(scratch_, bit + 1);
    append_name(out_, scratch_);
  }
  out_.append("],\"raw\":"sv);
  append_decimal(out_, mask);
  out_.put('}');
  end_value();
}

void JsonValueWriter::mode(uint64_t mode) {
  begin_value();
  if (flag_texts_ == nullptr) {
    append_mode_json(out_, mode, scratch_);
  } else {
    out_.append(flag_texts_->get(kModeKey, mode, [&](std::string& text) {
      StagedAppend staged(text);
      append_mode_json(staged, mode, scratch_);
      staged.flush();
    }));
  }
  end_value();
}

void JsonValueWriter::device(uint64_t major, uint64_t minor) {
  begin_value();
  out_.append("{\"major\":"sv);
  append_decimal(out_, major);
  out_.append(",\"minor\":"sv);
  append_decimal(out_, minor);
  out_.put('}');
  end_value();
}

void JsonValueWriter::wait_status(int status) {
  begin_value();
  scratch_.clear();
  if (WIFEXITED(status)) {
    out_.append("{\"exited\":"sv);
    append_decimal(out_, int64_t{WEXITSTATUS(status)});
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
    out_.append(WCOREDUMP(status) ? ",\"core_dumped\":true"sv : ",\"core_dumped\":false"sv);
  }
  out_.append(",\"raw\":"sv);
  append_decimal(out_, int64_t{status});
  out_.put('}');
  end_value();
}

void JsonValueWriter::ip_address(int family, std::string_view address) {
  begin_value();
  char text[INET6_ADDRSTRLEN] = {};
  const bool v6 = family == AF_INET6;
  if (address.size() >= (v6 ? 16u : 4u) && inet_ntop(v6 ? AF_INET6 : AF_INET, address.data(), text, sizeof text))
    append_json_string(out_, text);
  else
    append_json_bytes(out_, address, false);
  end_value();
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
    out_.append(truncated ? "\",\"truncated\":true}"sv : "\",\"truncated\":false}"sv);
  } else {
    append_json_bytes(out_, bytes, truncated);
  }
  if (value.form == StringForm::abstract) out_.put('}');
  end_value();
}

void JsonValueWriter::begin_struct() {
  begin_value();
  out_.put('{');
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
  out_.put('}');
  end_value();
}

void JsonValueWriter::begin_array() {
  begin_value();
  if (depth_ < 64) ++depth_;
  array_start_[depth_ - 1] = out_.size();
  array_count_[depth_ - 1] = 0;
  out_.put('[');
  has_items_ &= ~(uint64_t{1} << (depth_ - 1));
}

void JsonValueWriter::end_array(bool cut) {
  if (depth_ == 0) return;
  has_items_ &= ~(uint64_t{1} << (depth_ - 1));
  const size_t start = array_start_[depth_ - 1];
  const uint64_t count = array_count_[depth_ - 1];
  --depth_;
  field_pending_ = false;
  out_.put(']');
  if (cut && start < out_.size()) {
    out_.insert(start, "{\"array\":"sv);
    out_.append(",\"truncated\":true"sv);
    if (count != 0) {
      out_.append(",\"count\":"sv);
      append_decimal(out_, count);
    }
    out_.put('}');
  }
  end_value();
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
  out_.put('}');
  end_value();
}

}  // namespace traceloop::tools
