#include "recorder/process_tracker.h"

#include <algorithm>
#include <cstring>

namespace traceloop::recorder {

namespace {
int64_t nr_of(const format::Catalogue& c, const char* name) {
  const auto* s = c.find(name);
  return s ? static_cast<int64_t>(s->nr) : -1;
}

std::vector<std::string> split_nul(std::string_view bytes) {
  std::vector<std::string> out;
  while (!bytes.empty()) {
    size_t end = bytes.find('\0');
    out.emplace_back(bytes.substr(0, end));
    if (end == std::string_view::npos) break;
    bytes.remove_prefix(end + 1);
  }
  return out;
}
}  // namespace

ProcessTracker::ProcessTracker(const format::Catalogue& catalogue)
    : execve_(nr_of(catalogue, "execve")),
      execveat_(nr_of(catalogue, "execveat")),
      exit_group_(nr_of(catalogue, "exit_group")),
      wait4_(nr_of(catalogue, "wait4")) {
  for (const char* name : {"fork", "vfork", "clone", "clone3"})
    if (int64_t nr = nr_of(catalogue, name); nr >= 0) fork_like_.push_back(static_cast<uint32_t>(nr));
}

format::ProcessInfo& ProcessTracker::entry(uint32_t pid, uint64_t ns) {
  if (last_ == nullptr || last_->info.pid != pid) {
    auto [it, inserted] = processes_.try_emplace(pid);
    if (inserted) {
      it->second.info.pid = pid;
      it->second.info.start_ns = ns;
    }
    last_ = &it->second;
  }
  last_->last_event = observed_;
  return last_->info;
}

void ProcessTracker::observe(const format::Event& e) {
  auto& p = entry(e.pid, e.enter_ns);
  const uint64_t index = observed_++;
  const int64_t nr = e.nr;
  if (std::find(fork_like_.begin(), fork_like_.end(), e.nr) != fork_like_.end() &&
      e.state == format::CallState::returned && e.ret > 0) {
    forked_by_[static_cast<uint32_t>(e.ret)] = {e.pid, index};
  }
  if ((nr == execve_ || nr == execveat_) && e.state == format::CallState::returned && e.ret == 0) {
    if (const auto* argv = e.capture_for(nr == execve_ ? 1 : 2)) p.argv = split_nul(argv->bytes);
  }
  if (nr == exit_group_) {
    p.exit_ns = e.enter_ns;
    p.exit_status = static_cast<int32_t>((e.args[0] & 0xff) << 8);
  }
  // A child reaped: its status says how it ended, a signal included, which
  // no exit_group of its own shows.
  if (nr == wait4_ && e.state == format::CallState::returned && e.ret > 0) {
    const auto* status = e.capture_for(1);
    if (auto it = processes_.find(static_cast<uint32_t>(e.ret));
        it != processes_.end() && status != nullptr && status->bytes.size() == sizeof(int32_t)) {
      int32_t wstatus = 0;
      std::memcpy(&wstatus, status->bytes.data(), sizeof(wstatus));
      it->second.info.exit_status = wstatus;
      if (it->second.info.exit_ns == 0) it->second.info.exit_ns = e.exit_ns;
    }
  }
  // the latest name wins: after an exec it is the new program's
  if (p.comm != e.comm) p.comm.assign(e.comm);
}

void ProcessTracker::observe(const format::TaskNotice& n) {
  if (n.kind != format::TaskNotice::Kind::exit || !n.group_dead) return;
  auto it = processes_.find(n.pid);
  if (it == processes_.end()) return;  // a process that made no call is not in the table
  it->second.info.exit_status = n.exit_status;
  it->second.info.exit_ns = n.at_ns;
}

void ProcessTracker::set_root(uint32_t pid, uint32_t ppid) { forked_by_[pid] = {ppid, UINT64_MAX}; }

void ProcessTracker::set_exit_status(uint32_t pid, int32_t status, uint64_t exit_ns) {
  auto it = processes_.find(pid);
  if (it == processes_.end()) return;
  it->second.info.exit_status = status;
  if (it->second.info.exit_ns == 0) it->second.info.exit_ns = exit_ns;
}

std::vector<format::ProcessInfo> ProcessTracker::table() const {
  std::vector<format::ProcessInfo> out;
  for (const auto& [pid, process] : processes_) {
    auto copy = process.info;
    if (auto it = forked_by_.find(pid); it != forked_by_.end()) copy.ppid = it->second.parent;
    out.push_back(std::move(copy));
  }
  return out;
}

size_t ProcessTracker::memory_bytes() const {
  // A map node: the value and four words of links and colour.
  constexpr size_t kNode = 4 * sizeof(void*);
  auto heap = [](const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; };
  size_t n = forked_by_.size() * (sizeof(std::pair<const uint32_t, Fork>) + kNode);
  for (const auto& [pid, p] : processes_) {
    n += sizeof(std::pair<const uint32_t, Process>) + kNode + heap(p.info.comm);
    n += p.info.argv.capacity() * sizeof(std::string);
    for (const auto& a : p.info.argv) n += heap(a);
  }
  return n;
}

void ProcessTracker::forget_before(uint64_t events) {
  last_ = nullptr;
  std::erase_if(processes_, [events](const auto& entry) {
    return entry.second.info.exit_ns != 0 && entry.second.last_event < events;
  });
  std::erase_if(forked_by_, [&](const auto& entry) {
    return entry.second.event < events && !processes_.contains(entry.first);
  });
}

}  // namespace traceloop::recorder
