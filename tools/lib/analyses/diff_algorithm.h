#pragma once
// Myers' O((N+M)D) diff over sequences of keys (normalised events), after
// stripping the common prefix and suffix. The edit script is returned as runs.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace traceloop::tools {

struct DiffRun {
  enum class Kind : uint8_t { equal, removed, added };  // removed: only in A; added: only in B
  Kind kind = Kind::equal;
  size_t a_begin = 0;  // index into A (for added: where in A it goes)
  size_t b_begin = 0;
  size_t length = 0;
  friend bool operator==(const DiffRun&, const DiffRun&) = default;
};

// A shortest edit script while its cost D stays within `max_cost`; beyond,
// the differing middle is reported as removed-then-added (still correct, no
// longer minimal) so memory stays O(max_cost^2).
std::vector<DiffRun> diff_sequences(std::span<const uint64_t> a, std::span<const uint64_t> b,
                                    size_t max_cost = 4000);

// A unified-diff hunk: runs with up to `context` equal elements around changes.
struct DiffHunk {
  size_t a_begin = 0, a_length = 0;
  size_t b_begin = 0, b_length = 0;
  std::vector<DiffRun> runs;
};
std::vector<DiffHunk> make_hunks(const std::vector<DiffRun>& runs, size_t context);

}  // namespace traceloop::tools
