#include "tools/lib/decoder/timeline_tracks.h"

#include <algorithm>
#include <tuple>

#include "tools/lib/decoder/text_append.h"

namespace traceloop::tools {

void append_micros(std::string& out, uint64_t ns) {
  append_decimal(out, ns / 1000);
  const unsigned frac = static_cast<unsigned>(ns % 1000);
  if (frac == 0) return;
  const char digits[4] = {'.', static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                          static_cast<char>('0' + frac % 10)};
  out.append(digits, 4);
}

uint32_t TimelineTracks::observe(const format::Event& event) {
  const uint64_t key = uint64_t{event.pid} << 32 | event.tid;
  uint32_t index = last_index_;
  if (key != last_key_) {
    auto [it, added] = index_.try_emplace(key, static_cast<uint32_t>(threads_.size()));
    if (added) threads_.push_back({event.pid, event.tid, event.container, {}});
    index = it->second;
    last_key_ = key;
    last_index_ = index;
  }
  TimelineThread& thread = threads_[index];
  ++thread.calls;
  // comm changes at execve: the lane shows what the thread became.
  if (thread.comm != event.comm) thread.comm = event.comm;
  return index;
}

void TimelineTracks::set_processes(const std::vector<format::ProcessInfo>& processes) {
  process_table_ = processes;
  processes_.clear();
  for (const auto& p : process_table_) processes_[p.pid] = &p;
}

void TimelineTracks::forget_calls_of(uint32_t container) {
  for (auto& t : threads_)
    if (t.container == container) t.calls = 0;
}

std::string TimelineTracks::process_name(uint32_t pid) const {
  if (auto it = processes_.find(pid); it != processes_.end() && !it->second->comm.empty()) return it->second->comm;
  const TimelineThread* first = nullptr;
  for (const auto& t : threads_) {
    if (t.pid != pid) continue;
    if (t.tid == pid) return t.comm;
    if (first == nullptr) first = &t;
  }
  return first ? first->comm : std::string();
}

std::string TimelineTracks::process_command(uint32_t pid) const {
  constexpr size_t kMaxBytes = 200;
  auto it = processes_.find(pid);
  if (it == processes_.end()) return {};
  std::string line;
  for (const auto& arg : it->second->argv) {
    if (!line.empty()) line.push_back(' ');
    line.append(arg, 0, kMaxBytes);
    if (line.size() >= kMaxBytes) {
      line.resize(kMaxBytes);
      break;
    }
  }
  return line;
}

std::string TimelineTracks::container_name(uint32_t container) const {
  if (container >= metadata_.containers.size()) return {};
  const auto& c = metadata_.containers[container];
  return c.name.empty() ? c.id.substr(0, 12) : c.name;
}

std::vector<uint32_t> TimelineTracks::lane_order() const {
  // A process's place is that of its first thread seen; its container is
  // that of its first thread too, so a process never splits across groups.
  std::unordered_map<uint32_t, std::pair<uint32_t, uint32_t>> process_place;  // pid -> (container, first index)
  for (uint32_t i = 0; i < threads_.size(); ++i)
    if (threads_[i].calls > 0) process_place.try_emplace(threads_[i].pid, std::pair{threads_[i].container, i});
  auto rank = [&](uint32_t container) {
    // Calls outside containers (index past the list) come first.
    return container < metadata_.containers.size() ? uint64_t{container} + 1 : 0;
  };
  std::vector<uint32_t> order;
  for (uint32_t i = 0; i < threads_.size(); ++i)
    if (threads_[i].calls > 0) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const auto& ta = threads_[a];
    const auto& tb = threads_[b];
    const auto& pa = process_place.at(ta.pid);
    const auto& pb = process_place.at(tb.pid);
    return std::tuple(rank(pa.first), pa.second, ta.tid != ta.pid, a) <
           std::tuple(rank(pb.first), pb.second, tb.tid != tb.pid, b);
  });
  return order;
}

std::vector<uint32_t> TimelineTracks::process_ranks() const {
  std::vector<uint32_t> ranks(threads_.size());
  std::unordered_map<uint32_t, uint32_t> seen;
  for (uint32_t index : lane_order()) {
    auto [it, added] = seen.try_emplace(threads_[index].pid, static_cast<uint32_t>(seen.size()));
    ranks[index] = it->second;
  }
  return ranks;
}

}  // namespace traceloop::tools
