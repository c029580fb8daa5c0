#include "recorder/daemon/control_requests.h"

#include <algorithm>

#include "recorder/daemon/selection.h"

namespace traceloop::daemon {

Result<std::string> resolve_container_id(std::string_view prefix, const std::vector<std::string>& live_ids,
                                         const SavedHistories& saved) {
  std::vector<std::string> matches;
  auto consider = [&](const std::string& id) {
    if (id.rfind(prefix, 0) == 0 && std::find(matches.begin(), matches.end(), id) == matches.end())
      matches.push_back(id);
  };
  for (const auto& id : live_ids) {
    if (id == prefix) return id;
    consider(id);
  }
  for (const auto& [id, s] : saved.entries()) {
    if (id == prefix) return id;
    consider(id);
  }
  if (matches.empty()) return Error{"no container matches " + std::string(prefix)};
  if (matches.size() > 1)
    return Error{"ambiguous id " + std::string(prefix) + " (" + std::to_string(matches.size()) + " containers)"};
  return matches.front();
}

Result<SelectChange> parse_select(const std::vector<std::string>& words) {
  SelectChange change;
  std::vector<std::string> selection_words;
  for (const auto& word : words) {
    if (word.rfind("syscalls=", 0) == 0) {
      const std::string list = word.substr(9);
      change.syscalls.emplace();
      if (list == "all") continue;
      for (size_t at = 0; at <= list.size();) {
        const size_t comma = std::min(list.find(',', at), list.size());
        if (comma > at) change.syscalls->push_back(list.substr(at, comma - at));
        at = comma + 1;
      }
      if (change.syscalls->empty()) return Error{"syscalls= names no syscall (syscalls=all records every one)"};
    } else if (word == "every") {
      change.selection.emplace();
    } else {
      selection_words.push_back(word);
    }
  }
  if (!selection_words.empty()) {
    if (change.selection) return Error{"'every' and a selection cannot go together"};
    auto parsed = parse_selection_words(selection_words);
    if (!parsed.ok()) return parsed.error();
    change.selection = std::move(parsed.value());
  }
  return change;
}

std::string list_body(std::vector<ListRow> rows, const SavedHistories& saved, const std::vector<Problem>& problems,
                      const std::string& node) {
  const size_t live = rows.size();
  for (const auto& [id, s] : saved.entries()) {
    // Named again for the lambda: clang 14 cannot capture a structured binding.
    const bool running = std::any_of(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(live),
                                     [&saved_id = id](const ListRow& r) { return r.id == saved_id; });
    if (running) continue;
    const std::string ns = s.info.pod_namespace.empty() ? s.info.runtime_namespace : s.info.pod_namespace;
    rows.push_back({node, ns, s.info.pod_name, display_name(s.info), id, "exited", s.events, s.file.string()});
  }
  std::sort(rows.begin(), rows.end(), [](const ListRow& a, const ListRow& b) { return a.id < b.id; });
  std::string body;
  for (const auto& r : rows) body += format_list_row(r);
  for (const auto& p : problems) body += format_list_row({node, "", "", "", p.id, p.state, 0, p.reason});
  return body;
}

}  // namespace traceloop::daemon
