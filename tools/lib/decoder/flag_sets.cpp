// Flag and enum tables: generated from the uapi headers of each architecture
// (format/syscalls/flag_sets.inc, written by scripts/gen_syscall_catalogue.py
// from the names in format/syscalls/annotations.txt). Sets whose values differ
// between x86_64 and aarch64 (open flags, mmap bits, ptrace requests) are per
// architecture; the trace's own architecture chooses.

#include "tools/lib/decoder/flag_sets.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>

#include "format/syscalls/uapi_constants.h"

namespace traceloop::tools {
namespace {

#include "format/syscalls/flag_sets.inc"

const FlagName* find_value(std::span<const FlagName> names, uint64_t value) {
  for (const auto& n : names)
    if (n.value == value) return &n;
  return nullptr;
}

// A set every architecture shares, found while compiling.
constexpr const FlagSet& generic_set(std::string_view name) {
  for (const auto& s : kGenericSets)
    if (s.name == name) return s;
  throw "no such generated set";  // never reached: a compile-time error
}
constexpr const FlagSet& kFileTypes = generic_set("file_type");
constexpr const FlagSet& kModeSpecialBits = generic_set("mode_special");

// Signal names by number below SIGRTMIN ("" where none).
constexpr auto kSignalNames = [] {
  std::array<std::string_view, uapi::kSigrtmin> names{};
  for (const auto& s : k_signal_values)
    if (s.value < names.size()) names[s.value] = s.name;
  return names;
}();
constexpr uint64_t kMaxSignal = 64;  // the width of a kernel sigset_t on both architectures

}  // namespace

const FlagSet* find_flag_set(std::string_view name, format::Arch arch) {
  const std::span<const FlagSet> arch_sets =
      arch == format::Arch::aarch64 ? std::span<const FlagSet>(kAarch64Sets) : std::span<const FlagSet>(kX86_64Sets);
  for (const auto& s : arch_sets)
    if (s.name == name) return &s;
  for (const auto& s : kGenericSets)
    if (s.name == name) return &s;
  return nullptr;
}

void append_flags(std::string& out, const FlagSet& set, uint64_t value) {
  auto it = std::back_inserter(out);
  if (set.enum_mask == ~0ull) {
    if (const auto* n = find_value(set.values, value)) {
      out.append(n->name);
    } else if (set.enum_in_decimal) {
      fmt::format_to(it, "{}", static_cast<int64_t>(value));
    } else {
      fmt::format_to(it, "{:#x}", value);
    }
    return;
  }
  const size_t start = out.size();
  auto sep = [&] {
    if (out.size() > start) out.push_back('|');
  };
  uint64_t rest = value;
  if (set.enum_mask != 0) {
    const uint64_t part = value & set.enum_mask;
    if (const auto* n = find_value(set.values, part)) {
      out.append(n->name);
      rest &= ~set.enum_mask;
      if (set.suffix_bit != 0 && (rest & set.suffix_bit)) {
        out.append(set.suffix);
        rest &= ~set.suffix_bit;
      }
    }
  }
  uint64_t signal = 0;
  if (set.signal_in_low_byte) {
    signal = rest & uapi::kCsignal;
    rest &= ~uapi::kCsignal;
  }
  for (const auto& bit : set.bits) {
    if (bit.value != 0 && (rest & bit.value) == bit.value) {
      sep();
      out.append(bit.name);
      rest &= ~bit.value;
    }
  }
  if (signal != 0) {
    sep();
    append_signal(out, static_cast<int64_t>(signal));
  }
  if (rest != 0) {
    sep();
    fmt::format_to(it, "{:#x}", rest);
  }
  if (out.size() == start) {
    if (!set.zero_name.empty())
      out.append(set.zero_name);
    else
      out.push_back('0');
  }
}

void append_flags(std::string& out, std::string_view set_name, format::Arch arch, uint64_t value) {
  if (const auto* set = find_flag_set(set_name, arch)) {
    append_flags(out, *set, value);
  } else {
    fmt::format_to(std::back_inserter(out), "{:#x}", value);
  }
}

std::string_view signal_short_name(int signal) {
  if (signal >= 1 && static_cast<uint64_t>(signal) < kSignalNames.size() && !kSignalNames[signal].empty())
    return kSignalNames[signal].substr(3);
  return {};
}

void append_signal(std::string& out, int64_t signal) {
  const auto n = static_cast<uint64_t>(signal);
  if (signal >= 1 && n < kSignalNames.size() && !kSignalNames[n].empty()) {
    out.append(kSignalNames[n]);
  } else if (n == uapi::kSigrtmin) {
    out.append("SIGRTMIN");
  } else if (n > uapi::kSigrtmin && n <= kMaxSignal) {
    fmt::format_to(std::back_inserter(out), "SIGRT_{}", n - uapi::kSigrtmin);
  } else {
    fmt::format_to(std::back_inserter(out), "{}", signal);
  }
}

void append_sigset(std::string& out, uint64_t mask) {
  // strace prints the complement when more than half the signals are set.
  const bool invert = __builtin_popcountll(mask) > static_cast<int>(kMaxSignal / 2);
  if (invert) {
    out.push_back('~');
    mask = ~mask;
  }
  out.push_back('[');
  bool first = true;
  for (uint64_t sig = 1; sig <= kMaxSignal; ++sig) {
    if (!(mask & (uint64_t{1} << (sig - 1)))) continue;
    if (!first) out.push_back(' ');
    first = false;
    if (sig < kSignalNames.size() && !kSignalNames[sig].empty())
      out.append(kSignalNames[sig].substr(3));
    else if (sig == uapi::kSigrtmin)
      out.append("RTMIN");
    else if (sig > uapi::kSigrtmin)
      fmt::format_to(std::back_inserter(out), "RT_{}", sig - uapi::kSigrtmin);
    else
      fmt::format_to(std::back_inserter(out), "{}", sig);
  }
  out.push_back(']');
}

namespace {

constexpr size_t longest_mode_text() {
  size_t type = 0, special = 0;
  for (const auto& n : kFileTypes.values) type = std::max(type, n.name.size() + 1);
  for (const auto& b : kModeSpecialBits.bits) special += b.name.size() + 1;
  return type + special + 23;  // a 0 and the 22 octal digits of 64 bits
}
static_assert(longest_mode_text() <= kModeTextMax);

char* append_name(char* out, std::string_view name) {
  std::memcpy(out, name.data(), name.size());
  out[name.size()] = '|';
  return out + name.size() + 1;
}

}  // namespace

char* write_mode(char* out, uint64_t mode) {
  const uint64_t type = mode & uapi::kSIfmt;
  if (type != 0) {
    if (const auto* n = find_value(kFileTypes.values, type)) {
      out = append_name(out, n->name);
      mode &= ~uapi::kSIfmt;
      // With a file type (stat results) strace names the special bits too.
      for (const auto& s : kModeSpecialBits.bits) {
        if (mode & s.value) {
          out = append_name(out, s.name);
          mode &= ~s.value;
        }
      }
    }
  }
  if (mode == 0 && type == 0) {
    *out = '0';  // the original tool and the SPEC print mode=0
    return out + 1;
  }
  // fmt's "{:#03o}" written directly (every stat result has a mode): a 0
  // prefix unless the value is 0, zeros up to 3 characters.
  char digits[24];
  char* end = digits + sizeof digits;
  char* p = end;
  do {
    *--p = static_cast<char>('0' + (mode & 7));
    mode >>= 3;
  } while (mode != 0);
  if (*p != '0') *--p = '0';
  while (end - p < 3) *--p = '0';
  const auto n = static_cast<size_t>(end - p);
  std::memcpy(out, p, n);
  return out + n;
}

void append_mode(std::string& out, uint64_t mode) {
  char text[kModeTextMax];
  out.append(text, static_cast<size_t>(write_mode(text, mode) - text));
}

}  // namespace traceloop::tools
