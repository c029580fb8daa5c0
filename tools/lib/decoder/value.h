#pragma once
// The typed value model: what a decoded argument, structure field or return
// value IS (a number and what it stands for, a set of flags, the exact bytes
// of a string, a structure of named fields...), kept apart from how an
// output writes it. The decoder describes each value to a ValueSink; every
// output is one sink:
//   TextValueWriter (value_text.h)   strace's text, for the table and strace formats;
//   JsonValueWriter (value_json.h)   typed JSON (schemas/tl-show.schema.json);
//   tl-diff's normaliser             a hash of the event with run-specific values masked.
// Nothing is built in memory: a sink formats or hashes as it is told, so
// describing an event allocates nothing.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace traceloop::tools {

struct FlagSet;

// What an integer stands for, beyond its number: a consumer treats every fd,
// pid or address alike whatever call it came from (tl-diff masks addresses
// and renumbers fds and pids; strace writes some in its own notation).
enum class Meaning : uint8_t {
  none,       // a count, a size, an option's value
  fd,         // a file descriptor
  pid,        // a process, thread or process group id
  id,         // a user or group id
  address,    // a user-space address; 0 is NULL
  time,       // seconds, microseconds or nanoseconds of a clock
  clock_ticks,  // CPU time in clock_t ticks (USER_HZ a second): strace adds the seconds
  rlimit,     // a resource limit (strace writes multiples of 1024 as N*1024)
  hex_word,   // a 32-bit mask strace writes as 8 hex digits (netlink groups)
};

// How string bytes are meant.
enum class StringForm : uint8_t {
  text,      // a C string or a text buffer: strace escapes it
  binary,    // random or opaque bytes: strace writes every byte as \xNN
  abstract,  // an abstract unix socket name (leading NUL dropped): strace writes @"name"
};

struct StringValue {
  std::string_view bytes;
  size_t limit = 0;        // bytes shown before `...` (strace -s); 0: unlimited
  bool truncated = false;  // the source was longer than `bytes` (the capture was cut)
  StringForm form = StringForm::text;
};

// An array strace shows as its address and length unless -v (abbreviated):
// `0x7ffd1000 /* 37 vars */` (execve's envp), `0x5633e000 /* 4 entries */`
// (getdents' records).
enum class CountedElements : uint8_t { vars, entries };
struct ArrayCount {
  uint64_t address = 0;
  uint64_t count = 0;  // elements in user memory: more than those described when the capture was cut
  CountedElements elements = CountedElements::vars;
};

class ValueSink {
 public:
  virtual ~ValueSink() = default;

  // Numbers: written in decimal (signed, unsigned) or in hex.
  virtual void signed_integer(int64_t value, Meaning meaning) = 0;
  virtual void unsigned_integer(uint64_t value, Meaning meaning) = 0;
  virtual void hex_integer(uint64_t value, Meaning meaning) = 0;
  // A number kept in network byte order by its structure, given in host order
  // (strace: htons(80), htonl(0)); `bytes` is 2 or 4.
  virtual void network_integer(uint64_t host_value, unsigned bytes) = 0;
  // A value of a flag or enum set: its names and its raw value.
  virtual void flags(const FlagSet& set, uint64_t raw) = 0;
  // A value that one symbolic name stands for (AT_FDCWD, SIG_IGN, UTIME_NOW,
  // RLIM64_INFINITY, DT_REG, CLD_EXITED).
  virtual void constant(std::string_view name, int64_t raw) = 0;
  virtual void signal(int64_t number) = 0;
  virtual void signal_set(uint64_t mask) = 0;
  // File type and permission bits (st_mode, open's mode).
  virtual void mode(uint64_t mode) = 0;
  virtual void device(uint64_t major, uint64_t minor) = 0;
  // A wait(2) status word.
  virtual void wait_status(int status) = 0;
  // An IPv4 or IPv6 address (`family` AF_INET or AF_INET6) in network order.
  virtual void ip_address(int family, std::string_view address) = 0;
  virtual void string(const StringValue& value) = 0;

  // Structures: field() names the value that follows.
  virtual void begin_struct() = 0;
  virtual void field(std::string_view name) = 0;
  // `abbreviated`: some fields were left out on purpose (strace's `, ...`).
  virtual void end_struct(bool abbreviated) = 0;
  virtual void begin_array() = 0;
  // `cut`: elements were left out (array limit, short capture).
  virtual void end_array(bool cut) = 0;
  // An array whose length is known (ArrayCount); its elements follow, up to
  // end_array(). By default a plain array: only strace's text abbreviates.
  virtual void begin_counted_array(const ArrayCount& count) {
    (void)count;
    begin_array();
  }

  // Return values only: a failed call's error (errno > 0).
  virtual void error(int errno_number) = 0;
};

}  // namespace traceloop::tools
