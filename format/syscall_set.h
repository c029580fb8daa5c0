#pragma once
// strace's syscall-set expressions, the value of `-e trace=`: names and
// numbers, classes (%file, %network, ...), /regex (POSIX extended, as strace
// matches it), comma lists, `!` before the whole set, `all` and `none`, and
// `?` before a token that may name nothing. The recorder decides with it
// what the kernel records, the tools what they show: one parser for both.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/catalogue.h"
#include "format/result.h"

namespace traceloop::format {

// strace's syscall classes (`-e trace=%file`, ...): bits of a mask. Which
// syscalls are in which class is declared by the `class` lines of
// format/syscalls/annotations.txt, and generated into the built-in tables.
inline constexpr uint32_t kClassDesc = 1u << 0;        // %desc
inline constexpr uint32_t kClassFile = 1u << 1;        // %file
inline constexpr uint32_t kClassIpc = 1u << 2;         // %ipc
inline constexpr uint32_t kClassNetwork = 1u << 3;     // %network, %net
inline constexpr uint32_t kClassProcess = 1u << 4;     // %process
inline constexpr uint32_t kClassSignal = 1u << 5;      // %signal
inline constexpr uint32_t kClassMemory = 1u << 6;      // %memory
inline constexpr uint32_t kClassCreds = 1u << 7;       // %creds
inline constexpr uint32_t kClassClock = 1u << 8;       // %clock
inline constexpr uint32_t kClassStat = 1u << 9;        // %stat
inline constexpr uint32_t kClassLstat = 1u << 10;      // %lstat
inline constexpr uint32_t kClassFstat = 1u << 11;      // %fstat
inline constexpr uint32_t kClassStatLike = 1u << 12;   // %%stat
inline constexpr uint32_t kClassStatfs = 1u << 13;     // %statfs
inline constexpr uint32_t kClassFstatfs = 1u << 14;    // %fstatfs
inline constexpr uint32_t kClassStatfsLike = 1u << 15; // %%statfs
inline constexpr uint32_t kClassPure = 1u << 16;       // %pure

// The classes (a mask of kClass*) of syscall `nr` in the built-in table of
// `arch`; 0 for a number it does not know or that no class lists.
uint32_t builtin_syscall_classes(Arch arch, uint32_t nr);


// The start strace gives every set qualifier (trace=, signal=...): any
// number of `!`, each inverting the set, then a list, or `all` or `none`
// standing alone. `list` is what follows the `!`s, or nullopt for `all` and
// `none`, whose set is then the empty one, inverted when `negated` says so.
struct SetPrefix {
  bool negated = false;
  std::optional<std::string_view> list;
};
SetPrefix parse_set_prefix(std::string_view expression);

class SyscallSet {
 public:
  // Every syscall.
  SyscallSet() = default;

  // Parses `expression` against `catalogue` (a trace's, which may list only
  // the syscalls it recorded) and the built-in table of its architecture,
  // which also gives the classes. An unknown name, class or a regex that
  // matches nothing is an error naming the token (as strace refuses them),
  // unless the token starts with `?`.
  static Result<SyscallSet> parse(std::string_view expression, const Catalogue& catalogue);

  bool contains(uint32_t nr) const {
    const bool listed = nr < listed_.size() && listed_[nr];
    return listed != negated_;
  }
  // True when every syscall is in the set.
  bool is_all() const { return negated_ && listed_.empty(); }
  // The numbers below `limit` in the set, ascending.
  std::vector<uint32_t> numbers_below(uint32_t limit) const;

 private:
  void add(uint32_t nr);
  std::vector<bool> listed_;  // indexed by number
  bool negated_ = true;       // contains() = listed XOR negated; the default set is "!none"
};

// strace's class names ("%file", "%%stat", "%net", also the old spellings
// without %: "file", "network", ...) -> a kClass* mask; 0 when unknown.
uint32_t syscall_class_from_name(std::string_view name);

}  // namespace traceloop::format
