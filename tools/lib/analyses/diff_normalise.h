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
//   Meaning::time             masked (clocks, timeouts)
//   StringForm::binary        masked (random bytes: getrandom)
// The return of a call whose catalogue says it returns an fd, a pid or an
// address counts as one, as the decoder describes returns as plain numbers.
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
// (rt_sigreturn) are left out of the comparison altogether: see ignored().

#include <cstdint>
#include <string_view>
#include <unordered_map>

#include "format/event.h"
#include "tools/lib/decoder/decode.h"

namespace traceloop::tools {

// FNV-1a, 64 bit: stable across runs and builds (std::hash is not required to be).
class KeyHasher {
 public:
  void byte(uint8_t b) {
    h_ ^= b;
    h_ *= 0x100000001b3ULL;
  }
  void bytes(std::string_view s) {
    for (const char c : s) byte(static_cast<uint8_t>(c));
  }
  void number(uint64_t v) {
    for (int i = 0; i < 8; ++i) byte(static_cast<uint8_t>(v >> (8 * i)));
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

// Normalises the events of one process, in order (renumbering is stateful).
// `decoder` (of the trace the events come from) must outlive it.
class EventNormaliser {
 public:
  EventNormaliser(const Decoder& decoder, uint32_t self_pid);
  uint64_t key(const format::Event& event);
  // True for events the comparison skips: their place in the stream depends
  // on timing (the return from an asynchronous signal handler).
  bool ignored(const format::Event& event) const;

  // What stands for an fd or pid number in the key: the number itself for
  // those kept, a first-appearance rank (tagged apart) for the others.
  uint64_t fd_token(int64_t fd);
  uint64_t pid_token(int64_t pid);

 private:
  const Decoder& decoder_;
  uint32_t self_pid_;
  std::unordered_map<int64_t, uint32_t> fds_;
  std::unordered_map<int64_t, uint32_t> pids_;
};

}  // namespace traceloop::tools
