#pragma once
// The value model written as strace writes it: `O_RDONLY|O_CLOEXEC`,
// `"/etc/passwd"`, `{st_mode=S_IFREG|0644, st_size=5, ...}`, `[3, 4]`,
// `-1 ENOENT (No such file or directory)`. The table and strace formats and
// tl-grep's fields all read this text.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "tools/lib/decoder/fd_annotation.h"
#include "tools/lib/decoder/text_append.h"
#include "tools/lib/decoder/value.h"

namespace traceloop::tools {

// strace's -x and -xx: strings with a byte that is not printable ASCII (nor
// \t\n\v\f\r) wholly in \xNN form, or every string so.
enum class StringHex : uint8_t { none, non_ascii, all };

class FlagTextCache;

// The text of fd annotations written lately (`</etc/passwd>`), by fd number
// and the path's bytes: under -y most calls name an fd, its path repeats
// from one call to the next, and escaping it writes byte by byte.
class FdTextCache {
 public:
  std::string_view get(int64_t fd, std::string_view path);

 private:
  struct Entry {
    bool known = false;
    std::string path, text;
  };
  std::array<Entry, 16> entries_;
};

class TextValueWriter final : public ValueSink {
 public:
  // Appends to `out`. A return value's flags read `0x8002 (flags O_RDWR|O_LARGEFILE)`.
  enum class Position : uint8_t { argument, return_value };
  // With `fds`, fd numbers are followed by what they refer to: `3</etc/passwd>`.
  // (`fds` null: plain numbers, at no cost; it must outlive the writer.)
  // `verbose` (strace -v): counted arrays in full rather than as `0x7ffd1000 /* 37 vars */`.
  // With `flag_texts`, flag values are named once per (set, value) while the
  // cache keeps them (it must outlive the writer).
  // Each value's text is in `out` when the call that wrote it returns.
  // With `fd_texts`, fd annotations are escaped once while the cache keeps them.
  explicit TextValueWriter(std::string& out, Position position = Position::argument,
                           StringHex hex = StringHex::none, const FdContext* fds = nullptr, bool verbose = false,
                           FlagTextCache* flag_texts = nullptr, FdTextCache* fd_texts = nullptr)
      : TextValueWriter(nullptr, out, position, hex, fds, verbose, flag_texts, fd_texts) {}
  // Gathers the text in `staged`, which must append to `out`, for its owner
  // to flush with the rest of a row: a row's dozen values then cost one
  // append to `out` rather than one each. (The rare values written by
  // helpers that take a std::string flush `staged` and append to `out`.)
  TextValueWriter(StagedAppend& staged, std::string& out, Position position = Position::argument,
                  StringHex hex = StringHex::none, const FdContext* fds = nullptr, bool verbose = false,
                  FlagTextCache* flag_texts = nullptr, FdTextCache* fd_texts = nullptr)
      : TextValueWriter(&staged, out, position, hex, fds, verbose, flag_texts, fd_texts) {}
  TextValueWriter(const TextValueWriter&) = delete;
  TextValueWriter& operator=(const TextValueWriter&) = delete;

  void signed_integer(int64_t value, Meaning meaning) override;
  void unsigned_integer(uint64_t value, Meaning meaning) override;
  void hex_integer(uint64_t value, Meaning meaning) override;
  void network_integer(uint64_t host_value, unsigned bytes) override;
  void flags(const FlagSet& set, uint64_t raw) override;
  void constant(std::string_view name, int64_t raw) override;
  void signal(int64_t number) override;
  void signal_set(uint64_t mask) override;
  void mode(uint64_t mode) override;
  void device(uint64_t major, uint64_t minor) override;
  void wait_status(int status) override;
  void ip_address(int family, std::string_view address) override;
  void string(const StringValue& value) override;
  void begin_struct() override;
  void field(std::string_view name) override;
  void end_struct(bool abbreviated) override;
  void begin_array() override;
  void end_array(bool cut) override;
  void begin_counted_array(const ArrayCount& count) override;
  void error(int errno_number) override;

 private:
  // Before every value: the separator inside a structure or array, and the
  // pending field name.
  void begin_value();
  // After every value: a writer without a caller's StagedAppend hands its text on.
  void end_value() {
    if (&text_ == &own_) own_.flush();
  }
  // What was gathered, into `out_`, before a helper appends to it directly.
  std::string& direct() {
    text_.flush();
    return out_;
  }
  void open(char bracket);
  void close(bool elided, char bracket);

  void annotate_fd(int64_t fd);
  void append_flag_names(const FlagSet& set, uint64_t raw);

  // `staged` null: own_. (Named here, once the constructor has begun: a
  // public one delegating with own_ would name it before, which is undefined.)
  TextValueWriter(StagedAppend* staged, std::string& out, Position position, StringHex hex, const FdContext* fds,
                  bool verbose, FlagTextCache* flag_texts, FdTextCache* fd_texts)
      : text_(staged != nullptr ? *staged : own_),
        out_(out),
        own_(out),
        position_(position),
        hex_(hex),
        fds_(fds),
        verbose_(verbose),
        flag_texts_(flag_texts),
        fd_texts_(fd_texts) {}

  StagedAppend& text_;
  std::string& out_;  // where text_ appends
  StagedAppend own_;  // text_ when the caller gave none
  Position position_;
  StringHex hex_;
  const FdContext* fds_;
  bool verbose_;
  FlagTextCache* flag_texts_;
  FdTextCache* fd_texts_;
  // An abbreviated counted array: its depth (0: none) and where its elements,
  // written and then dropped, start.
  unsigned counted_depth_ = 0;
  size_t counted_from_ = 0;
  std::string_view field_;
  bool field_pending_ = false;
  // Bit d set: the structure or array at depth d holds an item already.
  uint64_t has_items_ = 0;
  unsigned depth_ = 0;
};

}  // namespace traceloop::tools
