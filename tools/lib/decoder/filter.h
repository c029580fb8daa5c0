#pragma once
// Event selection shared by tl-show, tl-grep, tl-stats and `traceloop-record
// show`: strace's -e trace=/status=/signal=, -z, -Z and -P; --duration (perf
// trace's minimum latency); --pid, --tid, --comm, --since/--until,
// --container.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "format/event.h"
#include "format/metadata.h"
#include "format/result.h"
#include "format/syscall_set.h"
#include "tools/lib/decoder/fd_path_lookup.h"

namespace traceloop::tools {

struct FilterOptions {
  // strace's -e qualifiers in order: "trace=SET", "status=SET", "signal=SET",
  // or a bare SET (trace=). A later one of a kind replaces an earlier one,
  // as in strace.
  std::vector<std::string> qualifiers;
  std::vector<std::string> syscalls;  // --syscall (deprecated): names; elements may be comma lists
  std::vector<uint32_t> pids;
  std::vector<uint32_t> tids;
  std::vector<std::string> comms;     // exact comm
  bool failed = false;                // -Z: only calls that returned -4095..-1 (status=failed)
  bool successful = false;            // -z: only calls that returned without error (status=successful)
  std::vector<std::string> paths;     // -P: calls on these paths (path arguments, or fds naming them)
  std::string duration;               // --duration: only calls that took at least this long
  // Time bounds, one of:
  //   "+1.5" / "1.5s" / "250ms" / "10us": offset from the first event of the trace,
  //   "@1700000000.25": seconds since the epoch,
  //   "2026-11-22T03:55:16[.123]" or "03:55:16[.123]" (UTC, date of the trace start).
  std::string since;
  std::string until;
  std::vector<std::string> containers;  // id (or unambiguous prefix), name, or container name
};

// strace's -e status= outcomes, as bits.
inline constexpr uint8_t kStatusSuccessful = 1u << 0;
inline constexpr uint8_t kStatusFailed = 1u << 1;
inline constexpr uint8_t kStatusUnfinished = 1u << 2;   // still in flight, or never returned (exit_group)
inline constexpr uint8_t kStatusUnavailable = 1u << 3;  // strace could not fetch the result: never here
inline constexpr uint8_t kStatusDetached = 1u << 4;     // strace detached mid-call: never here
inline constexpr uint8_t kStatusAll = 0x1f;

// -e status=SET: "successful,failed", "!unfinished", "all", "none".
Result<uint8_t> parse_status_set(std::string_view expression);

// -e signal=SET: names with or without SIG (any case), numbers, `!`, "all",
// "none". A set of signal numbers 0..255.
class SignalSet {
 public:
  static Result<SignalSet> parse(std::string_view expression);
  bool contains(int signo) const {
    const bool listed = signo >= 0 && signo < 256 && listed_[static_cast<size_t>(signo)];
    return listed != negated_;
  }

 private:
  std::vector<bool> listed_ = std::vector<bool>(256, false);
  bool negated_ = true;  // the default: every signal
};

// --duration=TIME: "10ms", "1.5s", "250us", "100ns"; a bare number is in
// milliseconds, as perf trace takes it.
Result<uint64_t> parse_duration(std::string_view text);

class EventFilter {
 public:
  // Resolves names against the trace's catalogue and containers; unknown
  // syscall names, classes or containers are an error naming them. `fds`
  // (optional) tells -P which path an fd argument referred to; it must
  // outlive the filter and have seen every event before the one matches()
  // is asked about.
  static Result<EventFilter> create(const FilterOptions& options, const format::TraceMetadata& metadata,
                                    const FdPathLookup* fds = nullptr);

  // Relative --since/--until are measured from the first event passed to
  // matches() unless an origin is set first.
  void set_origin(uint64_t first_enter_ns);
  bool matches(const format::Event& event);
  // Loss markers are shown unless they belong to a container filtered out.
  bool matches_loss(const format::LossMarker& loss) const;
  // -e signal=: whether a signal delivery of `signo` is shown.
  bool matches_signal(int signo) const { return signals_.contains(signo); }
  // True when every event passes (lets hot loops skip the call).
  bool accepts_all() const { return accepts_all_; }
  // True when nothing after `enter_ns` can match (--until passed): readers may stop.
  bool past_end(uint64_t enter_ns) const;

 private:
  struct TimeBound {
    enum class Kind { none, relative, absolute } kind = Kind::none;
    int64_t ns = 0;  // relative: offset; absolute: boot-time ns
  };
  // -P: the path and fd arguments of one syscall (strace looks at the
  // calls of its %file, %desc and %network classes only).
  struct PathArgs {
    uint8_t paths = 0;  // bit i: argument i is a path
    uint8_t fds = 0;    // bit i: argument i is an fd or dirfd
  };
  bool matches_paths(const format::Event& event) const;

  format::SyscallSet syscall_set_;
  bool syscalls_filtered_ = false;
  uint8_t status_ = kStatusAll;
  SignalSet signals_;
  std::vector<std::string> paths_;
  std::vector<PathArgs> path_args_;  // indexed by nr
  const FdPathLookup* fds_ = nullptr;
  uint64_t min_duration_ns_ = 0;
  std::vector<uint32_t> pids_;
  std::vector<uint32_t> tids_;
  std::vector<std::string> comms_;
  std::vector<bool> container_set_;  // indexed by container index; empty = all
  TimeBound since_;
  TimeBound until_;
  std::optional<uint64_t> origin_;
  bool accepts_all_ = true;
};

// Parses one --since/--until value (exposed for tests and tl-grep).
// Returns {relative?, ns}: relative offsets in ns, or absolute boot-time ns.
struct ParsedTime {
  bool relative = false;
  int64_t ns = 0;
};
Result<ParsedTime> parse_time_bound(const std::string& text, const format::TraceMetadata& metadata);

}  // namespace traceloop::tools
