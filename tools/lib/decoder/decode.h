#pragma once
// Decoding of one event into text: syscall name, arguments, return value, in
// strace's vocabulary (errno names, symbolic flags, abbreviated structures).
// Always decodes with the trace's own catalogue: its arch() selects the
// structure layouts and flag values (an aarch64 file decodes right on x86_64).
// Everything appends to a caller-owned std::string so a render loop reuses one
// buffer and allocates nothing per event. Untrusted bytes are always escaped.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "format/catalogue.h"
#include "format/event.h"
#include "format/metadata.h"
#include "tools/lib/decoder/fd_annotation.h"
#include "tools/lib/decoder/value.h"
#include "tools/lib/decoder/value_text.h"

namespace traceloop::tools {

struct DecodeOptions {
  // Maximum bytes of a string or buffer shown before `...` (strace -s); 0: unlimited.
  size_t string_limit = 32;
  // Maximum elements shown of an array (argv, dirents, pollfds) before `...`; 0: unlimited.
  size_t array_limit = 64;
  // strace -x / -xx: strings in \xNN form.
  StringHex strings_in_hex = StringHex::none;
  // -y/-yy: fd numbers in the text are followed by what they refer to, as
  // `fd_paths` says just before the event decoded (which must be the event
  // it looks at). Null: plain numbers.
  const FdPathLookup* fd_paths = nullptr;
  bool fd_paths_detailed = false;
  // The fd context of an event's values (lookup null without -y).
  FdContext fds_of(const format::Event& event) const { return {fd_paths, event.pid, fd_paths_detailed}; }
  // strace -v: execve's envp and getdents' entries in full in the text,
  // rather than as `0x7ffd1000 /* 37 vars */` (JSON always has them in full).
  bool verbose = false;
};

// strace:  AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC
// table:   dfd=AT_FDCWD, filename="/etc/passwd", flags=O_RDONLY|O_CLOEXEC
enum class ArgStyle { strace, table };

// Not thread-safe (a bounded name cache for hostile syscall numbers); one per
// thread. `metadata` must outlive the decoder.
class Decoder {
 public:
  explicit Decoder(const format::TraceMetadata& metadata, DecodeOptions options = {});
  ~Decoder();
  Decoder(Decoder&&) noexcept;
  Decoder& operator=(Decoder&&) noexcept;

  const format::Catalogue& catalogue() const;
  const DecodeOptions& options() const;
  // The catalogue entry of the event, nullptr for numbers it does not know.
  const format::SyscallSpec* spec(const format::Event& event) const;

  // Name, or "syscall_<nr>" for numbers the catalogue does not know.
  std::string_view syscall_name(const format::Event& event) const;
  std::string_view syscall_name(uint32_t nr) const;

  // All arguments, comma separated, in the given style.
  void append_args(std::string& out, const format::Event& event, ArgStyle style) const;
  // The same gathered in `staged`, which appends to `out`, for a renderer
  // that flushes a whole row at once.
  void append_args(StagedAppend& staged, std::string& out, const format::Event& event, ArgStyle style) const;
  // Number of parameters the catalogue lists for the event (arg_count when unknown).
  size_t param_count(const format::Event& event) const;
  // Parameter name ("arg<i>" when unknown).
  std::string_view param_name(const format::Event& event, size_t index) const;
  // One argument described to a sink (the typed value model), and as text.
  void describe_arg(ValueSink& sink, const format::Event& event, size_t index) const;
  void append_arg(std::string& out, const format::Event& event, size_t index) const;

  // The value a call returned: its error, or the value (flags, hex or a
  // number as the syscall returns). False, with nothing described, for calls
  // that have not returned or never return.
  bool describe_return(ValueSink& sink, const format::Event& event) const;

  // "0", "3", "0x7f12a000", "-1 ENOENT (No such file or directory)", "X" for
  // calls that never return, "unfinished" for calls still in flight when the
  // trace was taken.
  void append_return(std::string& out, const format::Event& event) const;
  void append_return(StagedAppend& staged, std::string& out, const format::Event& event) const;

  // Decoded text of one field, for tl-grep --field and filters: "syscall",
  // "comm", "pid", "tid", "cpu", "ret" (as append_return), "errno" (ENOENT or
  // empty), "path" (first path-like argument, unquoted and unescaped raw
  // bytes), "args" (strace style), or a parameter name of the event's syscall
  // (decoded like append_arg). Returns false (out untouched) when the event
  // has no such field.
  // The name is resolved once into a Field; field() then compares no names
  // (a parameter's index is found once per syscall number).
  class Field {
   public:
    // Implicit: a one-off lookup may pass the name itself.
    Field(std::string_view name);  // NOLINT(google-explicit-constructor)
    const std::string& name() const { return name_; }

   private:
    friend class Decoder;
    enum class Kind : uint8_t { syscall, comm, pid, tid, cpu, ret, errno_name, args, path, param };
    std::string name_;
    Kind kind_;
    mutable std::vector<int8_t> param_index_;  // by syscall number: -2 not looked up, -1 none
  };
  bool field(std::string& out, const format::Event& event, const Field& field) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// errno helpers: name ("ENOENT") and message ("No such file or directory"),
// empty when the number has no name. Numbers are the Linux ones (identical on
// x86_64 and aarch64).
std::string_view errno_name(int err);
std::string_view errno_message(int err);
// Reverse lookup: "ENOENT" -> 2, 0 when unknown.
int errno_from_name(std::string_view name);

// C-style escaping of untrusted bytes into `"..."` with `...` after the quote
// when cut by `limit` (0: unlimited) or when `truncated` says the source was
// longer than the bytes. Never emits a raw control byte or invalid UTF-8.
void append_quoted(std::string& out, std::string_view bytes, size_t limit, bool truncated);
void append_quoted(StagedAppend& out, std::string_view bytes, size_t limit, bool truncated);
// Every byte as \xNN (random data: getrandom), same quoting rules.
void append_quoted_hex(std::string& out, std::string_view bytes, size_t limit, bool truncated);
void append_quoted_hex(StagedAppend& out, std::string_view bytes, size_t limit, bool truncated);
// The escaping alone, without quotes or limit (JSON uses its own).
void append_escaped(std::string& out, std::string_view bytes);

}  // namespace traceloop::tools
