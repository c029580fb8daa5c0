#pragma once
// What the daemon answers on its control socket about its containers,
// apart from the daemon's state: which container an id names, and the rows
// of `list`.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/result.h"
#include "recorder/daemon/control_protocol.h"
#include "recorder/daemon/saved_histories.h"
#include "recorder/daemon/selection.h"

namespace traceloop::daemon {

// The id `prefix` names among the live containers and the saved histories:
// itself, or the one id it begins (as `docker ps` prints the first 12
// characters). Ambiguous and unknown prefixes fail.
Result<std::string> resolve_container_id(std::string_view prefix, const std::vector<std::string>& live_ids,
                                         const SavedHistories& saved);

// A `select` request's words: what is to change (nullopt: unchanged).
struct SelectChange {
  std::optional<Selection> selection;                  // "every" or selection words
  std::optional<std::vector<std::string>> syscalls;    // empty: every syscall
};
Result<SelectChange> parse_select(const std::vector<std::string>& words);

// Something the daemon could not record as it should, kept for `list`: a
// runtime's state it could not read, a container it could not identify.
struct Problem {
  std::string id;      // the runtime's name for the container, or the cgroup's
  std::string state;   // "unreadable", "unidentified" ...
  std::string reason;  // one line, for the FILE column
};

// The `list` body: the live rows given, the saved histories not among them
// (exited), and the problems; sorted by id, problems last.
std::string list_body(std::vector<ListRow> live, const SavedHistories& saved, const std::vector<Problem>& problems,
                      const std::string& node);

}  // namespace traceloop::daemon
