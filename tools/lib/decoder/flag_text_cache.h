#pragma once
// The text of flag values written lately, by flag set and value. A call's
// flags repeat from one event to the next (O_RDONLY|O_CLOEXEC,
// PROT_READ|PROT_WRITE, SIG_BLOCK), and naming them walks the set's names
// each time; a writer given a cache names each (set, value) once while it
// stays in its slot.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace traceloop::tools {

struct FlagSet;

class FlagTextCache {
 public:
  // The text `make(std::string&)` appends for `raw` of `set`, made on a miss.
  // `make` must depend on the set and the value alone. The view is valid
  // until the next get().
  template <typename Make>
  std::string_view get(const FlagSet& set, uint64_t raw, Make&& make) {
    Entry& e = entries_[slot(&set, raw)];
    if (e.set != &set || e.raw != raw) {
      e.set = nullptr;  // not valid while being made (make may throw)
      e.text.clear();
      make(e.text);
      e.set = &set;
      e.raw = raw;
    }
    return e.text;
  }

 private:
  static constexpr unsigned kSlotBits = 8;
  static size_t slot(const FlagSet* set, uint64_t raw) {
    const uint64_t h = (static_cast<uint64_t>(reinterpret_cast<uintptr_t>(set)) ^ raw) * 0x9e3779b97f4a7c15ull;
    return static_cast<size_t>(h >> (64 - kSlotBits));
  }
  struct Entry {
    const FlagSet* set = nullptr;  // null: empty
    uint64_t raw = 0;
    std::string text;
  };
  std::array<Entry, size_t{1} << kSlotBits> entries_;
};

}  // namespace traceloop::tools
