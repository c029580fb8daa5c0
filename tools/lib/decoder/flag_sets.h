#pragma once
// Symbolic names of flag and enum arguments, by the set names the catalogue
// uses (format/syscalls/annotations.txt: "open_flags", "mmap_prot", ...).
// Values that differ between architectures (open flags) come per arch.
// Internal to the decoder; exposed for its tests.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "format/catalogue.h"

namespace traceloop::tools {

struct FlagName {
  uint64_t value;
  std::string_view name;
};

struct FlagSet {
  std::string_view name;
  // Part of the value that is one enumerated value (O_ACCMODE, MAP_TYPE,
  // the socket type, ...); ~0 for pure enums, 0 for pure bit sets.
  uint64_t enum_mask = 0;
  std::span<const FlagName> values;  // names of the enumerated part
  std::span<const FlagName> bits;    // multi-bit entries first where they overlap
  std::string_view zero_name;        // printed for 0 when nothing else is ("PROT_NONE")
  bool enum_in_decimal = false;      // unknown enum values in decimal (else hex)
  bool signal_in_low_byte = false;   // clone: CSIGNAL in the low byte, printed last
  // A bit that renames the enumerated value instead of being listed
  // (futex: FUTEX_WAIT + FUTEX_PRIVATE_FLAG = FUTEX_WAIT_PRIVATE).
  uint64_t suffix_bit = 0;
  std::string_view suffix;
};

// nullptr when the set is unknown (callers print hex).
const FlagSet* find_flag_set(std::string_view name, format::Arch arch);

// "O_RDONLY|O_CLOEXEC", "PROT_NONE", "MAP_PRIVATE|MAP_ANONYMOUS|0x40000000".
void append_flags(std::string& out, const FlagSet& set, uint64_t value);
// By name; unknown sets print the value in hex (never fails).
void append_flags(std::string& out, std::string_view set_name, format::Arch arch, uint64_t value);

// "SIGCHLD", "SIGRTMIN", "SIGRT_3"; numbers outside 1..64 in decimal.
void append_signal(std::string& out, int64_t signal);
// Name without "SIG" ("CHLD"), empty for unknown numbers.
std::string_view signal_short_name(int signal);
// Signal set as strace prints it: "[INT QUIT]", "~[RTMIN RT_1]" when most are set.
void append_sigset(std::string& out, uint64_t mask);
// Mode bits in octal ("0644"), with the file type when present ("S_IFREG|0644").
void append_mode(std::string& out, uint64_t mode);
// The longest text of a mode: a file type, every special bit, 22 octal digits.
inline constexpr size_t kModeTextMax = 64;
// append_mode's text written at `out`, which has room for kModeTextMax bytes
// (a caller's staging buffer); returns its end.
char* write_mode(char* out, uint64_t mode);

}  // namespace traceloop::tools
