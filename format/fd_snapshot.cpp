#include "format/fd_snapshot.h"

#include <algorithm>
#include <string_view>
#include <unordered_set>

namespace traceloop::format {
namespace {

bool acceptable_text(std::string_view text, bool may_be_empty) {
  if (text.empty()) return may_be_empty;
  return text.size() <= kMaxSnapshotTextBytes && text.find('\0') == std::string_view::npos;
}

}  // namespace

void sanitise_fd_snapshots(std::vector<FdSnapshot>& snapshots) {
  if (snapshots.size() > kMaxSnapshotProcesses) snapshots.resize(kMaxSnapshotProcesses);
  std::unordered_set<uint32_t> pids;
  size_t total = 0;
  std::erase_if(snapshots, [&](const FdSnapshot& s) { return s.pid == 0 || !pids.insert(s.pid).second; });
  for (auto& s : snapshots) {
    // A cwd is only ever used as an absolute base.
    if (!acceptable_text(s.cwd, true) || (!s.cwd.empty() && s.cwd.front() != '/')) {
      s.cwd.clear();
      s.complete = false;
    }
    std::unordered_set<int32_t> seen;
    const size_t before = s.fds.size();
    std::erase_if(s.fds, [&](const OpenFd& f) {
      return f.fd < 0 || !acceptable_text(f.target, false) || !acceptable_text(f.detail, true) ||
             !seen.insert(f.fd).second;
    });
    const size_t room = std::min(kMaxSnapshotFdsPerProcess, kMaxSnapshotFdsTotal - total);
    if (s.fds.size() > room) s.fds.resize(room);
    total += s.fds.size();
    if (s.fds.size() != before) s.complete = false;
  }
}

size_t memory_bytes(const std::vector<FdSnapshot>& snapshots) {
  // A string's own buffer only past its short-string capacity.
  const auto heap = [](const std::string& text) { return text.capacity() > 15 ? text.capacity() + 1 : 0; };
  size_t n = snapshots.capacity() * sizeof(FdSnapshot);
  for (const FdSnapshot& s : snapshots) {
    n += heap(s.cwd) + s.fds.capacity() * sizeof(OpenFd);
    for (const OpenFd& f : s.fds) n += heap(f.target) + heap(f.detail);
  }
  return n;
}

}  // namespace traceloop::format
