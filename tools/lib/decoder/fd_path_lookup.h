#pragma once
// What a file descriptor named at some point of a trace: the path, socket or
// pipe it referred to, rebuilt offline from the calls that create, duplicate,
// pass and close descriptors. Consumers (the -y/-yy renderers, -P PATH
// matching) see only this interface; the tracker that answers it feeds on the
// events in time order.

#include <cstdint>
#include <optional>
#include <string_view>

namespace traceloop::tools {

class FdPathLookup {
 public:
  virtual ~FdPathLookup() = default;
  // What `fd` of process `pid` referred to just before the event being
  // looked at, or nullopt when the trace does not say (never a guess). For a
  // file this is its path; for a socket or pipe, strace's -yy description
  // ("UNIX:[...]", "TCP:[1.2.3.4:80]", "pipe:[...]") when `detailed`, else
  // the kind ("socket:[...]", "pipe:[...]").
  virtual std::optional<std::string_view> path_of(uint32_t pid, int64_t fd, bool detailed) const = 0;
  // What `fd`, returned by the event being looked at (open's `= 3`), refers
  // to once that event returned: strace -y's `= 3</etc/passwd>`.
  virtual std::optional<std::string_view> path_of_result(uint32_t /*pid*/, int64_t /*fd*/,
                                                         bool /*detailed*/) const {
    return std::nullopt;
  }
};

}  // namespace traceloop::tools
