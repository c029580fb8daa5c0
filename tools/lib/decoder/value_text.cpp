#include "tools/lib/decoder/value_text.h"

#include <arpa/inet.h>
#include <sys/wait.h>
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <iterator>

#include "format/syscalls/uapi_constants.h"
#include "tools/lib/decoder/decode.h"
#include "tools/lib/decoder/fd_tracker.h"
#include "tools/lib/decoder/flag_sets.h"
#include "tools/lib/decoder/flag_text_cache.h"
#include "tools/lib/decoder/text_append.h"

namespace traceloop::tools {

namespace {

// strace's comment after a nonzero clock_t: ` /* 0.01 s */`, the seconds
// with as many decimals as a tick needs (the digits of USER_HZ - 1: two at
// 100 a second).
constexpr uint64_t kTickDecimals = [] {
  uint64_t digits = 0;
  for (uint64_t v = uapi::kUserHz - 1; v > 0; v /= 10) ++digits;
  return digits;
}();
void append_clock_seconds(StagedAppend& out, uint64_t ticks) {
  uint64_t scale = 1;
  for (uint64_t i = 0; i < kTickDecimals; ++i) scale *= 10;
  const uint64_t fraction = ((ticks % uapi::kUserHz) * scale * 2 + uapi::kUserHz) / (2 * uapi::kUserHz);
  out.append(" /* ");
  append_decimal(out, static_cast<int64_t>(ticks / uapi::kUserHz));
  out.put('.');
  for (uint64_t digit = scale / 10; digit > 1 && fraction < digit; digit /= 10) out.put('0');
  append_decimal(out, static_cast<int64_t>(fraction));
  out.append(" s */");
}

}  // namespace

std::string_view FdTextCache::get(int64_t fd, std::string_view path) {
  Entry& e = entries_[static_cast<uint64_t>(fd) % entries_.size()];
  if (!e.known || e.path != path) {
    e.known = false;  // not valid while being made (an append may throw)
    e.path.assign(path);
    e.text.assign(1, '<');
    append_fd_path(e.text, path);
    e.text.push_back('>');
    e.known = true;
  }
  return e.text;
}

// Inlined into every value: most are neither in a structure nor named.
[[gnu::always_inline]] inline void TextValueWriter::begin_value() {
  if (depth_ > 0) {
    const uint64_t bit = uint64_t{1} << (depth_ - 1);
    if (has_items_ & bit) text_.append(", ");
    has_items_ |= bit;
  }
  if (field_pending_) {
    text_.append(field_);
    text_.put('=');
    field_pending_ = false;
  }
}

void TextValueWriter::open(char bracket) {
  begin_value();
  text_.put(bracket);
  // Nesting deeper than 64 levels (never made by the decoder) shares the
  // deepest level's separator bit.
  if (depth_ < 64) ++depth_;
  has_items_ &= ~(uint64_t{1} << (depth_ - 1));
  end_value();
}

void TextValueWriter::close(bool elided, char bracket) {
  if (depth_ == 0) return;
  const uint64_t bit = uint64_t{1} << (depth_ - 1);
  if (elided) text_.append(has_items_ & bit ? ", ..." : "...");
  has_items_ &= ~bit;
  --depth_;
  field_pending_ = false;
  text_.put(bracket);
  end_value();
}

[[gnu::noinline]] void TextValueWriter::annotate_fd(int64_t fd) {
  const auto path = fds_->path(fd, position_ == Position::return_value);
  if (!path) return;
  if (fd_texts_ != nullptr) {
    text_.append(fd_texts_->get(fd, *path));
    return;
  }
  std::string& out = direct();
  out.push_back('<');
  append_fd_path(out, *path);
  out.push_back('>');
}

void TextValueWriter::signed_integer(int64_t value, Meaning meaning) {
  begin_value();
  append_decimal(text_, value);
  if (meaning == Meaning::clock_ticks && value > 0) [[unlikely]]
    append_clock_seconds(text_, static_cast<uint64_t>(value));
  // A return value is annotated whatever its kind when the call made an fd
  // (fcntl's F_DUPFD returns a plain int).
  if (fds_ != nullptr) [[unlikely]]
    if (meaning == Meaning::fd || position_ == Position::return_value) annotate_fd(value);
  end_value();
}

void TextValueWriter::unsigned_integer(uint64_t value, Meaning meaning) {
  begin_value();
  if (meaning == Meaning::rlimit && value != 0 && value % 1024 == 0) {
    append_decimal(text_, value / 1024);
    text_.append("*1024");
  } else {
    append_decimal(text_, value);
  }
  end_value();
}

void TextValueWriter::hex_integer(uint64_t value, Meaning meaning) {
  begin_value();
  if (meaning == Meaning::address && value == 0) {
    text_.append("NULL");
  } else if (meaning == Meaning::hex_word) {
    fmt::format_to(std::back_inserter(direct()), "{:08x}", value);
  } else {
    append_hex(text_, value);
  }
  end_value();
}

void TextValueWriter::network_integer(uint64_t host_value, unsigned bytes) {
  begin_value();
  text_.append(bytes == 2 ? "htons(" : "htonl(");
  append_decimal(text_, host_value);
  text_.put(')');
  end_value();
}

void TextValueWriter::append_flag_names(const FlagSet& set, uint64_t raw) {
  if (flag_texts_ == nullptr) {
    append_flags(direct(), set, raw);
    return;
  }
  text_.append(flag_texts_->get(set, raw, [&](std::string& text) { append_flags(text, set, raw); }));
}

void TextValueWriter::flags(const FlagSet& set, uint64_t raw) {
  begin_value();
  if (position_ == Position::return_value) {
    append_hex(text_, raw);
    text_.append(" (flags ");
    append_flag_names(set, raw);
    text_.put(')');
  } else {
    append_flag_names(set, raw);
  }
  end_value();
}

void TextValueWriter::constant(std::string_view name, int64_t raw) {
  begin_value();
  if (position_ == Position::return_value) {  // strace: "1 (SUID_DUMP_USER)"
    append_decimal(text_, raw);
    text_.append(" (");
    text_.append(name);
    text_.put(')');
  } else {
    text_.append(name);
    // strace -y names the working directory a relative path starts from.
    if (fds_ != nullptr) [[unlikely]]
      if (name == "AT_FDCWD") annotate_fd(raw);
  }
  end_value();
}

void TextValueWriter::signal(int64_t number) {
  begin_value();
  append_signal(direct(), number);
  end_value();
}

void TextValueWriter::signal_set(uint64_t mask) {
  begin_value();
  append_sigset(direct(), mask);
  end_value();
}

void TextValueWriter::mode(uint64_t mode) {
  begin_value();
  text_.commit(write_mode(text_.room(kModeTextMax), mode));
  end_value();
}

void TextValueWriter::device(uint64_t major, uint64_t minor) {
  begin_value();
  fmt::format_to(std::back_inserter(direct()), "makedev({:#x}, {:#x})", major, minor);
  end_value();
}

void TextValueWriter::wait_status(int status) {
  begin_value();
  std::string& out = direct();
  const int low = status & 0x7f;
  auto it = std::back_inserter(out);
  if (WIFEXITED(status)) {
    fmt::format_to(it, "{{WIFEXITED(s) && WEXITSTATUS(s) == {}}}", WEXITSTATUS(status));
  } else if (WIFSTOPPED(status)) {
    out.append("{WIFSTOPPED(s) && WSTOPSIG(s) == ");
    append_signal(out, WSTOPSIG(status));
    out.push_back('}');
  } else if (WIFCONTINUED(status)) {
    out.append("{WIFCONTINUED(s)}");
  } else {
    out.append("{WIFSIGNALED(s) && WTERMSIG(s) == ");
    append_signal(out, low);
    if (WCOREDUMP(status)) out.append(" && WCOREDUMP(s)");
    out.push_back('}');
  }
  end_value();
}

void TextValueWriter::ip_address(int family, std::string_view address) {
  char text[INET6_ADDRSTRLEN] = {};
  const bool v6 = family == AF_INET6;
  if (address.size() < (v6 ? 16u : 4u) || inet_ntop(v6 ? AF_INET6 : AF_INET, address.data(), text, sizeof text) == nullptr) {
    begin_value();
    append_quoted(text_, address, 0, false);
    end_value();
    return;
  }
  if (v6) {
    // strace names the field inside the call: inet_pton(AF_INET6, "::1", &sin6_addr).
    const std::string_view name = field_pending_ ? field_ : std::string_view("addr");
    field_pending_ = false;
    begin_value();
    fmt::format_to(std::back_inserter(direct()), "inet_pton(AF_INET6, \"{}\", &{})", text, name);
    end_value();
    return;
  }
  begin_value();
  fmt::format_to(std::back_inserter(direct()), "inet_addr(\"{}\")", text);
  end_value();
}

namespace {

// strace -x: the shown part holds a byte beyond ASCII or a control
// character other than \t\n\v\f\r.
bool wants_hex(std::string_view bytes, size_t limit) {
  if (limit > 0 && bytes.size() > limit) bytes = bytes.substr(0, limit);
  return std::any_of(bytes.begin(), bytes.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c > 0x7e || (c < ' ' && (c < '\t' || c > '\r'));
  });
}

}  // namespace

void TextValueWriter::string(const StringValue& value) {
  begin_value();
  const bool hex = value.form == StringForm::binary || hex_ == StringHex::all ||
                   (hex_ == StringHex::non_ascii && wants_hex(value.bytes, value.limit));
  if (value.form == StringForm::abstract) text_.put('@');
  if (hex) {
    append_quoted_hex(text_, value.bytes, value.limit, value.truncated);
  } else {
    append_quoted(text_, value.bytes, value.limit, value.truncated);
  }
  end_value();
}

void TextValueWriter::begin_struct() { open('{'); }

void TextValueWriter::field(std::string_view name) {
  field_ = name;
  field_pending_ = true;
}

void TextValueWriter::end_struct(bool abbreviated) { close(abbreviated, '}'); }

void TextValueWriter::begin_array() { open('['); }

void TextValueWriter::end_array(bool cut) {
  if (counted_depth_ != 0 && depth_ == counted_depth_) {
    direct().resize(counted_from_);  // the elements: the count stands for them
    has_items_ &= ~(uint64_t{1} << (depth_ - 1));
    --depth_;
    counted_depth_ = 0;
    field_pending_ = false;
    return;
  }
  close(cut, ']');
}

void TextValueWriter::begin_counted_array(const ArrayCount& count) {
  if (verbose_ || counted_depth_ != 0 || depth_ >= 64) {
    open('[');
    return;
  }
  begin_value();
  if (count.address == 0)
    text_.append("NULL");
  else
    append_hex(text_, count.address);
  std::string& out = direct();
  auto it = std::back_inserter(out);
  if (count.elements == CountedElements::vars)
    fmt::format_to(it, " /* {} var{} */", count.count, count.count == 1 ? "" : "s");
  else
    fmt::format_to(it, " /* {} entries */", count.count);
  ++depth_;
  has_items_ &= ~(uint64_t{1} << (depth_ - 1));
  counted_depth_ = depth_;
  counted_from_ = out.size();
  end_value();
}

void TextValueWriter::error(int errno_number) {
  begin_value();
  const auto name = errno_name(errno_number);
  if (name.empty()) {
    fmt::format_to(std::back_inserter(direct()), "-1 ERRNO_{} (Unknown error {})", errno_number, errno_number);
  } else {
    text_.append("-1 ");
    text_.append(name);
    text_.append(" (");
    text_.append(errno_message(errno_number));
    text_.put(')');
  }
  end_value();
}

}  // namespace traceloop::tools
