#pragma once
// Normalisation of events for tl-diff: two runs of the same program differ in
// values that say nothing about behaviour (pointers, pids, fd numbers,
// timestamps, temp-file suffixes). Each event becomes a key with those values
// replaced by stable placeholders, so equal behaviour gives equal keys.
//
// Rules, per parameter kind of the file's own catalogue:
//   fd / dirfd / fd returns  renumbered by first appearance in the process
//                            (0, 1, 2 and negative values such as AT_FDCWD kept)
//   pid / pid returns        renumbered by first appearance; the process itself is "self"
//   pointer, output structs  "ptr" (or NULL); hex values >= 0x10000 and hex returns: "0x#"
//   paths, strings, argv     captured bytes with numbers that look generated replaced by '#':
//                            a whole numeric path component (/proc/1234/ -> /proc/#/) and a
//                            digit run after a letter and '-', '_' or '.' (/tmp/file-3240 -> /tmp/file-#)
//   input buffers            the same suffix rule; when it changed the bytes, the length
//                            argument and a return value equal to it become "len#"
//   output buffers           captured bytes as they are
//   output structures        kept when they describe behaviour (wait status, ids, signal
//                            masks and actions, limits), pipe fd pairs renumbered; the rest
//                            dropped (stat times, inode numbers, rusage, host names)
//   output of getrandom    dropped (random by design)
//   timestamps, durations, cpu, tid: not part of the key.
// Events that say when a signal arrived rather than what the program did
// (rt_sigreturn) are left out of the comparison altogether: see ignored().

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "format/catalogue.h"
#include "format/event.h"

namespace traceloop::tools {

// The text rules alone (exposed for tests). `path` adds the numeric-component rule.
void append_normalised_text(std::string& out, std::string_view bytes, bool path);

// Normalises the events of one process, in order (renumbering is stateful).
class EventNormaliser {
 public:
  EventNormaliser(const format::Catalogue& catalogue, uint32_t self_pid);
  // Readable key, parameters by name in name order:
  // openat(dfd=-100,filename="/tmp/file-#",flags=0,mode=0)=fd1. See key_hash for comparing.
  std::string key(const format::Event& event);
  // True for events the comparison skips: their place in the stream depends
  // on timing (the return from an asynchronous signal handler).
  bool ignored(const format::Event& event) const;

 private:
  std::string fd_name(int64_t fd);
  std::string pid_name(int64_t pid);

  const format::Catalogue& catalogue_;
  uint32_t self_pid_;
  std::unordered_map<int64_t, uint32_t> fds_;
  std::unordered_map<int64_t, uint32_t> pids_;
};

uint64_t key_hash(std::string_view key);

}  // namespace traceloop::tools
