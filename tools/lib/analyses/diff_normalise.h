#pragma once
// Normalisation of events for tl-diff: two runs of the same program differ in
// values that say nothing about behaviour (addresses, pids, fd numbers,
// times, random bytes, temp-file suffixes). Each event becomes a 64-bit key:
// a hash of its decoded values (the typed value model, value.h) with those
// values masked or renumbered, so equal behaviour gives equal keys.
//
// The decoder describes the syscall's arguments (in parameter-name order:
// architectures order some differently, clone's tls and child_tidptr) and its
// return; the hash masks by what each value IS, wherever it appears,
// structures and arrays included:
//   Meaning::address          NULL or "an address" (sa_restorer, buffers, brk)
//   Meaning::fd               renumbered by first appearance in the process
//                             (0, 1, 2 and negative values kept)
//   Meaning::pid              renumbered by first appearance; the process itself is "self"
//   Meaning::time, clock_ticks masked (clocks, timeouts, CPU times)
//   flags                     compared by name (values differ between architectures)
//   StringForm::binary        masked (random bytes: getrandom)
// The return of a call whose catalogue says it returns an fd, a pid or an
// address counts as one, as the decoder describes returns as plain numbers;
// so does an argument of the catalogue's hex kind from 0x10000 up, which the
// decoder leaves unqualified where its meaning depends on another argument
// (arch_prctl's addr, prctl's arg2..arg5).
// Run-specific names within strings (a temp file named after $RANDOM or a
// pid) have no Meaning to tell them: the digits of a numeric path component
// (/proc/1234/) and a digit run after a letter and '-', '_' or '.'
// (/tmp/file-3240) are masked in paths, strings and input buffers; when that
// changed a written buffer, its length argument and a return equal to it are
// masked too.
// Output structures are compared only when they describe behaviour (wait
// status, ids, signal masks and actions, limits, pipe fds); the others
// (stat, rusage, utsname...) hold inode numbers, clocks and host names and
// count as their address.
// Events that say when a signal arrived rather than what the program did
// (rt_sigreturn) are left out of the comparison altogether: skipped_by_diff (diff.h).

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "format/event.h"
#include "tools/lib/decoder/decode.h"

namespace traceloop::tools {

struct FlagSet;

// A 64-bit hash of a sequence of bytes and numbers, taken 8 bytes at a time
// (a multiply-xorshift per word, murmur's finaliser at the end). The same
// sequence gives the same value in every run and build (std::hash is not
// required to); keys are only compared within one process.
class KeyHasher {
 public:
  void byte(uint8_t b) {
    pending_ |= static_cast<uint64_t>(b) << (8 * fill_);
    if (++fill_ == 8) flush();
  }
  void bytes(std::string_view s) {
    size_t i = 0;
    if (fill_ == 0) {
      for (; i + 8 <= s.size(); i += 8) {
        uint64_t word;
        std::memcpy(&word, s.data() + i, 8);
        mix(word ^ (uint64_t{8} << 59));  // as byte() would: the same bytes hash alike however given
      }
    }
    for (; i < s.size(); ++i) byte(static_cast<uint8_t>(s[i]));
  }
  void number(uint64_t v) {
    if (fill_ != 0) flush();
    mix(v);
  }
  uint64_t value() const {
    uint64_t h = h_;
    if (fill_ != 0) h = step(h, pending_ ^ (static_cast<uint64_t>(fill_) << 59));
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
  }

 private:
  static uint64_t step(uint64_t h, uint64_t word) {
    h = (h ^ word) * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 32);
  }
  void mix(uint64_t word) { h_ = step(h_, word); }
  void flush() {
    mix(pending_ ^ (static_cast<uint64_t>(fill_) << 59));
    pending_ = 0;
    fill_ = 0;
  }

  uint64_t h_ = 0xcbf29ce484222325ULL;
  uint64_t pending_ = 0;
  unsigned fill_ = 0;
};

// What every event of a syscall hashes alike, worked out once per syscall
// number of a trace: its name and its parameters' names, in name order.
struct KeyPlan {
  uint64_t name = 0;
  size_t count = 0;
  std::array<uint8_t, 6> order{};  // argument indices by parameter name
  std::array<uint64_t, 6> param_names{};  // by argument index
};

// The plans of the syscalls of one trace. `decoder` (of that trace) must outlive it.
class KeyPlans {
 public:
  explicit KeyPlans(const Decoder& decoder);
  const Decoder& decoder() const { return decoder_; }
  const KeyPlan& plan(const format::Event& event) const;
  // A hash of the names a flag value stands for ("O_RDONLY|O_CLOEXEC").
  uint64_t flag_names(const FlagSet& set, uint64_t raw) const;

 private:
  struct FlagNames {
    const FlagSet* set = nullptr;
    uint64_t raw = 0;
    uint64_t hash = 0;
  };
  void make(KeyPlan& plan, const format::Event& event) const;

  const Decoder& decoder_;
  mutable std::vector<KeyPlan> by_nr_;  // made on first use: count 7 until then
  mutable KeyPlan scratch_;  // numbers beyond the catalogue: made per event
  mutable std::array<FlagNames, 256> flag_names_{};  // the values met last, by hash
  mutable std::string scratch_text_;
};

// Normalises the events of one process, in order (renumbering is stateful).
// `plans` (of the trace the events come from) must outlive it.
class EventNormaliser {
 public:
  EventNormaliser(const KeyPlans& plans, uint32_t self_pid);
  uint64_t key(const format::Event& event);

  // What stands for an fd or pid number in the key: the number itself for
  // those kept, a first-appearance rank (tagged apart) for the others.
  uint64_t fd_token(int64_t fd);
  uint64_t pid_token(int64_t pid);
  uint64_t flag_names(const FlagSet& set, uint64_t raw) const { return plans_.flag_names(set, raw); }

 private:
  const KeyPlans& plans_;
  const Decoder& decoder_;
  uint32_t self_pid_;
  std::unordered_map<int64_t, uint32_t> fds_;
  std::unordered_map<int64_t, uint32_t> pids_;
};

}  // namespace traceloop::tools
