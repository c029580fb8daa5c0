#include "tools/lib/decoder/value_text.h"

#include <arpa/inet.h>
#include <sys/wait.h>
#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "tools/lib/decoder/decode.h"
#include "tools/lib/decoder/fd_tracker.h"
#include "tools/lib/decoder/flag_sets.h"
#include "tools/lib/decoder/text_append.h"

namespace traceloop::tools {

// Inlined into every value: most are neither in a structure nor named.
[[gnu::always_inline]] inline void TextValueWriter::begin_value() {
  if (depth_ > 0) {
    const uint64_t bit = uint64_t{1} << (depth_ - 1);
    if (has_items_ & bit) out_.append(", ");
    has_items_ |= bit;
  }
  if (field_pending_) {
    out_.append(field_);
    out_.push_back('=');
    field_pending_ = false;
  }
}

void TextValueWriter::open(char bracket) {
  begin_value();
  out_.push_back(bracket);
  // Nesting deeper than 64 levels (never made by the decoder) shares the
  // deepest level's separator bit.
  if (depth_ < 64) ++depth_;
  has_items_ &= ~(uint64_t{1} << (depth_ - 1));
}

void TextValueWriter::close(bool elided, char bracket) {
  if (depth_ == 0) return;
  const uint64_t bit = uint64_t{1} << (depth_ - 1);
  if (elided) out_.append(has_items_ & bit ? ", ..." : "...");
  has_items_ &= ~bit;
  --depth_;
  field_pending_ = false;
  out_.push_back(bracket);
}

[[gnu::noinline]] void TextValueWriter::annotate_fd(int64_t fd) {
  const auto path = fds_->path(fd, position_ == Position::return_value);
  if (!path) return;
  out_.push_back('<');
  append_fd_path(out_, *path);
  out_.push_back('>');
}

void TextValueWriter::signed_integer(int64_t value, Meaning meaning) {
  begin_value();
  append_decimal(out_, value);
  // A return value is annotated whatever its kind when the call made an fd
  // (fcntl's F_DUPFD returns a plain int).
  if (fds_ != nullptr) [[unlikely]]
    if (meaning == Meaning::fd || position_ == Position::return_value) annotate_fd(value);
}

void TextValueWriter::unsigned_integer(uint64_t value, Meaning meaning) {
  begin_value();
  if (meaning == Meaning::rlimit && value != 0 && value % 1024 == 0) {
    append_decimal(out_, value / 1024);
    out_.append("*1024");
    return;
  }
  append_decimal(out_, value);
}

void TextValueWriter::hex_integer(uint64_t value, Meaning meaning) {
  begin_value();
  if (meaning == Meaning::address && value == 0) {
    out_.append("NULL");
  } else if (meaning == Meaning::hex_word) {
    fmt::format_to(std::back_inserter(out_), "{:08x}", value);
  } else {
    append_hex(out_, value);
  }
}

void TextValueWriter::network_integer(uint64_t host_value, unsigned bytes) {
  begin_value();
  out_.append(bytes == 2 ? "htons(" : "htonl(");
  append_decimal(out_, host_value);
  out_.push_back(')');
}

void TextValueWriter::flags(const FlagSet& set, uint64_t raw) {
  begin_value();
  if (position_ == Position::return_value) {
    append_hex(out_, raw);
    out_.append(" (flags ");
    append_flags(out_, set, raw);
    out_.push_back(')');
    return;
  }
  append_flags(out_, set, raw);
}

void TextValueWriter::constant(std::string_view name, int64_t raw) {
  begin_value();
  out_.append(name);
  // strace -y names the working directory a relative path starts from.
  if (fds_ != nullptr) [[unlikely]]
    if (name == "AT_FDCWD") annotate_fd(raw);
}

void TextValueWriter::signal(int64_t number) {
  begin_value();
  append_signal(out_, number);
}

void TextValueWriter::signal_set(uint64_t mask) {
  begin_value();
  append_sigset(out_, mask);
}

void TextValueWriter::mode(uint64_t mode) {
  begin_value();
  append_mode(out_, mode);
}

void TextValueWriter::device(uint64_t major, uint64_t minor) {
  begin_value();
  fmt::format_to(std::back_inserter(out_), "makedev({:#x}, {:#x})", major, minor);
}

void TextValueWriter::wait_status(int status) {
  begin_value();
  const int low = status & 0x7f;
  auto it = std::back_inserter(out_);
  if (WIFEXITED(status)) {
    fmt::format_to(it, "{{WIFEXITED(s) && WEXITSTATUS(s) == {}}}", WEXITSTATUS(status));
  } else if (WIFSTOPPED(status)) {
    out_.append("{WIFSTOPPED(s) && WSTOPSIG(s) == ");
    append_signal(out_, WSTOPSIG(status));
    out_.push_back('}');
  } else if (WIFCONTINUED(status)) {
    out_.append("{WIFCONTINUED(s)}");
  } else {
    out_.append("{WIFSIGNALED(s) && WTERMSIG(s) == ");
    append_signal(out_, low);
    if (WCOREDUMP(status)) out_.append(" && WCOREDUMP(s)");
    out_.push_back('}');
  }
}

void TextValueWriter::ip_address(int family, std::string_view address) {
  char text[INET6_ADDRSTRLEN] = {};
  const bool v6 = family == AF_INET6;
  if (address.size() < (v6 ? 16u : 4u) || inet_ntop(v6 ? AF_INET6 : AF_INET, address.data(), text, sizeof text) == nullptr) {
    begin_value();
    append_quoted(out_, address, 0, false);
    return;
  }
  if (v6) {
    // strace names the field inside the call: inet_pton(AF_INET6, "::1", &sin6_addr).
    const std::string_view name = field_pending_ ? field_ : std::string_view("addr");
    field_pending_ = false;
    begin_value();
    fmt::format_to(std::back_inserter(out_), "inet_pton(AF_INET6, \"{}\", &{})", text, name);
    return;
  }
  begin_value();
  fmt::format_to(std::back_inserter(out_), "inet_addr(\"{}\")", text);
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
  if (value.form == StringForm::abstract) out_.push_back('@');
  if (hex) {
    append_quoted_hex(out_, value.bytes, value.limit, value.truncated);
  } else {
    append_quoted(out_, value.bytes, value.limit, value.truncated);
  }
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
    out_.resize(counted_from_);  // the elements: the count stands for them
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
    out_.append("NULL");
  else
    append_hex(out_, count.address);
  auto it = std::back_inserter(out_);
  if (count.elements == CountedElements::vars)
    fmt::format_to(it, " /* {} var{} */", count.count, count.count == 1 ? "" : "s");
  else
    fmt::format_to(it, " /* {} entries */", count.count);
  ++depth_;
  has_items_ &= ~(uint64_t{1} << (depth_ - 1));
  counted_depth_ = depth_;
  counted_from_ = out_.size();
}

void TextValueWriter::error(int errno_number) {
  begin_value();
  const auto name = errno_name(errno_number);
  auto it = std::back_inserter(out_);
  if (name.empty())
    fmt::format_to(it, "-1 ERRNO_{} (Unknown error {})", errno_number, errno_number);
  else
    fmt::format_to(it, "-1 {} ({})", name, errno_message(errno_number));
}

}  // namespace traceloop::tools
