#pragma once
// The value model written as typed JSON (schemas/tl-show.schema.json):
//   integers              numbers
//   addresses             {"address":"0x7ffd4a1c"}, NULL is null
//   flags                 {"flags":["O_RDONLY","O_CLOEXEC"],"raw":524288}
//   enums, constants      {"enum":"AF_INET","raw":2} (null for a number without a name)
//   signals               {"signal":"SIGCHLD","raw":17}
//   strings               "text" when valid UTF-8; {"base64":"...","truncated":false} for
//                         other bytes; {"text":"...","truncated":true} when cut
//   structures            {"st_mode":{...},"st_size":5}
//   arrays                [...]; {"array":[...],"truncated":true} when cut
//   errors                {"errno":"ENOENT","code":-2}
//   fds (-y, -yy)         {"fd":3,"path":"/etc/passwd"} when what the fd refers to is known, else 3

#include <array>
#include <cstdint>
#include <string>

#include "tools/lib/decoder/fd_annotation.h"
#include "tools/lib/decoder/json_buffer.h"
#include "tools/lib/decoder/value.h"

namespace traceloop::tools {

class FlagTextCache;

class JsonValueWriter final : public ValueSink {
 public:
  // With `fds`, an fd whose target is known is written with its path;
  // `result`: the value is the call's return value. With `flag_texts`, a
  // flag value's (or a mode's) JSON is made once per (set, value) while the
  // cache keeps it (it must outlive the writer). Written into `out`, a line
  // being written (json_buffer.h).
  explicit JsonValueWriter(JsonBuffer& out, FdContext fds = {}, bool result = false,
                           FlagTextCache* flag_texts = nullptr)
      : out_(out), fds_(fds), result_(result), flag_texts_(flag_texts) {}
  // Into a string: each value is appended to `out` once complete.
  explicit JsonValueWriter(std::string& out, FdContext fds = {}, bool result = false,
                           FlagTextCache* flag_texts = nullptr)
      : out_(own_), target_(&out), fds_(fds), result_(result), flag_texts_(flag_texts) {}

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
  // Before each value: the comma and the field's key, when there are.
  void begin_value() {
    if (depth_ != 0 || field_pending_) begin_nested_value();
  }
  void begin_nested_value();
  // A value is complete: a writer into a string appends it there.
  void end_value() {
    if (target_ != nullptr && depth_ == 0) {
      target_->append(own_.view());
      own_.clear();
    }
  }

  JsonBuffer own_;  // a string's writer's line (before out_, which may refer to it)
  JsonBuffer& out_;
  std::string* target_ = nullptr;
  FdContext fds_;
  bool result_ = false;
  FlagTextCache* flag_texts_ = nullptr;
  std::string_view field_;
  bool field_pending_ = false;
  uint64_t has_items_ = 0;
  unsigned depth_ = 0;
  // Where each open array starts, to wrap it when it turns out cut.
  // Both are set as arrays open and left uninitialised before: a writer is
  // made per value, and clearing a kilobyte for each cost more than writing
  // most values.
  std::array<size_t, 64> array_start_;
  // The length in user memory of each open counted array (0: not counted),
  // written beside a cut array's elements.
  std::array<uint64_t, 64> array_count_;
  std::string scratch_;
};

// A string value as the writer writes it: a JSON string when `bytes` is
// complete valid UTF-8, else an object with its exact bytes.
void append_json_bytes(std::string& out, std::string_view bytes, bool truncated);
void append_json_bytes(JsonBuffer& out, std::string_view bytes, bool truncated);

}  // namespace traceloop::tools
