#pragma once
// Counts occurrences of paths for tl-stats' "most opened / failed paths".
// An open-addressing table over a power-of-two array whose slots hold the
// hash and length, with the path bytes packed in one arena: counting a path
// seen before is one hash, a probe or two and one compare in cache-friendly
// memory, with no allocation (std::unordered_map<std::string, ...> spent a
// sixth of tl-stats' time here on node chasing and prime-modulo bucketing).

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace traceloop::tools {

class PathCounter {
 public:
  void add(std::string_view path) {
    if (slots_.empty()) slots_.resize(1024);
    const uint64_t hash = std::hash<std::string_view>{}(path);
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.index == kEmpty) {
        slot = {hash, static_cast<uint32_t>(entries_.size()), static_cast<uint32_t>(path.size())};
        entries_.push_back({arena_.size(), 1});
        arena_.append(path);
        if (entries_.size() * 2 > slots_.size()) grow();
        return;
      }
      if (slot.hash == hash && slot.length == path.size()) {
        Entry& entry = entries_[slot.index];
        if (std::memcmp(arena_.data() + entry.offset, path.data(), path.size()) == 0) {
          entry.count++;
          return;
        }
      }
    }
  }

  size_t size() const { return entries_.size(); }
  std::string_view path(size_t i) const {
    const size_t end = i + 1 < entries_.size() ? entries_[i + 1].offset : arena_.size();
    return std::string_view(arena_).substr(entries_[i].offset, end - entries_[i].offset);
  }
  uint64_t count(size_t i) const { return entries_[i].count; }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  struct Slot {
    uint64_t hash = 0;
    uint32_t index = kEmpty;
    uint32_t length = 0;
  };
  struct Entry {
    size_t offset;  // into arena_; entries are packed in insertion order
    uint64_t count;
  };

  void grow() {
    std::vector<Slot> bigger(slots_.size() * 2);
    const size_t mask = bigger.size() - 1;
    for (const Slot& slot : slots_) {
      if (slot.index == kEmpty) continue;
      size_t i = slot.hash & mask;
      while (bigger[i].index != kEmpty) i = (i + 1) & mask;
      bigger[i] = slot;
    }
    slots_.swap(bigger);
  }

  std::vector<Slot> slots_;
  std::vector<Entry> entries_;
  std::string arena_;
};

}  // namespace traceloop::tools
