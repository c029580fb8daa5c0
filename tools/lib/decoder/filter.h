#pragma once
// Event selection shared by tl-show and tl-grep: --syscall, --pid, --tid,
// --comm, --failed, --since/--until, --container.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "format/event.h"
#include "format/metadata.h"
#include "format/result.h"

namespace traceloop::tools {

struct FilterOptions {
  std::vector<std::string> syscalls;  // names; elements may themselves be comma lists
  std::vector<uint32_t> pids;
  std::vector<uint32_t> tids;
  std::vector<std::string> comms;     // exact comm
  bool failed = false;                // only calls that returned -4095..-1
  // Time bounds, one of:
  //   "+1.5" / "1.5s" / "250ms" / "10us": offset from the first event of the trace,
  //   "@1700000000.25": seconds since the epoch,
  //   "2026-11-22T03:55:16[.123]" or "03:55:16[.123]" (UTC, date of the trace start).
  std::string since;
  std::string until;
  std::vector<std::string> containers;  // id (or unambiguous prefix), name, or container name
};

class EventFilter {
 public:
  // Resolves names against the trace's catalogue and containers; unknown
  // syscall names or containers are an error naming them.
  static Result<EventFilter> create(const FilterOptions& options, const format::TraceMetadata& metadata);

  // Relative --since/--until are measured from the first event passed to
  // matches() unless an origin is set first.
  void set_origin(uint64_t first_enter_ns);
  bool matches(const format::Event& event);
  // Loss markers are shown unless they belong to a container filtered out.
  bool matches_loss(const format::LossMarker& loss) const;
  // True when every event passes (lets hot loops skip the call).
  bool accepts_all() const { return accepts_all_; }
  // True when nothing after `enter_ns` can match (--until passed): readers may stop.
  bool past_end(uint64_t enter_ns) const;

 private:
  struct TimeBound {
    enum class Kind { none, relative, absolute } kind = Kind::none;
    int64_t ns = 0;  // relative: offset; absolute: boot-time ns
  };
  std::vector<bool> syscall_set_;  // indexed by nr; empty = all
  std::vector<uint32_t> pids_;
  std::vector<uint32_t> tids_;
  std::vector<std::string> comms_;
  std::vector<bool> container_set_;  // indexed by container index; empty = all
  bool failed_ = false;
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
