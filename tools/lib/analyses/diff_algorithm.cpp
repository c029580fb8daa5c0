#include "tools/lib/analyses/diff_algorithm.h"

#include <range/v3/view/reverse.hpp>

#include <algorithm>

namespace traceloop::tools {

namespace {

using Kind = DiffRun::Kind;

void push(std::vector<DiffRun>& runs, Kind kind, size_t a, size_t b, size_t length) {
  if (length == 0) return;
  if (!runs.empty() && runs.back().kind == kind) {
    DiffRun& last = runs.back();
    const bool contiguous = (kind == Kind::added || last.a_begin + last.length == a) &&
                            (kind == Kind::removed || last.b_begin + last.length == b);
    if (contiguous) {
      last.length += length;
      return;
    }
  }
  runs.push_back({kind, a, b, length});
}

// The script found walking back from the end, as runs in reverse order: one
// entry per run rather than per element, so a long middle costs no memory.
class ReversedRuns {
 public:
  void step(Kind kind, size_t a, size_t b) {
    if (!runs_.empty() && runs_.back().kind == kind) {
      DiffRun& last = runs_.back();
      const bool contiguous = (kind == Kind::added || last.a_begin == a + 1) && (kind == Kind::removed || last.b_begin == b + 1);
      if (contiguous) {
        last.a_begin = a;
        last.b_begin = b;
        ++last.length;
        return;
      }
    }
    runs_.push_back({kind, a, b, 1});
  }
  // In script order.
  auto forward() const { return runs_ | ranges::views::reverse; }

 private:
  std::vector<DiffRun> runs_;
};

// Myers' greedy forward search over a[0..n) and b[0..m) keeping each round's
// furthest reaching x per diagonal, then the walk back. False when the cost exceeds max_cost.
bool myers(std::span<const uint64_t> a, std::span<const uint64_t> b, size_t max_cost, ReversedRuns& steps) {
  const auto n = static_cast<std::ptrdiff_t>(a.size());
  const auto m = static_cast<std::ptrdiff_t>(b.size());
  const std::ptrdiff_t max_d = std::min<std::ptrdiff_t>(n + m, static_cast<std::ptrdiff_t>(max_cost));
  const std::ptrdiff_t offset = max_d + 1;
  std::vector<std::ptrdiff_t> v(static_cast<size_t>(2 * offset + 1), 0);
  std::vector<std::vector<std::ptrdiff_t>> trace;  // trace[d][k + d] = v[k] after round d
  auto at = [&](std::ptrdiff_t k) -> std::ptrdiff_t& { return v[static_cast<size_t>(k + offset)]; };
  std::ptrdiff_t found = -1;
  for (std::ptrdiff_t d = 0; d <= max_d && found < 0; ++d) {
    for (std::ptrdiff_t k = -d; k <= d; k += 2) {
      std::ptrdiff_t x = (k == -d || (k != d && at(k - 1) < at(k + 1))) ? at(k + 1) : at(k - 1) + 1;
      std::ptrdiff_t y = x - k;
      while (x < n && y < m && a[static_cast<size_t>(x)] == b[static_cast<size_t>(y)]) ++x, ++y;
      at(k) = x;
      if (x >= n && y >= m) found = d;
    }
    trace.emplace_back(v.begin() + (offset - d), v.begin() + (offset + d + 1));
  }
  if (found < 0) return false;

  std::ptrdiff_t x = n, y = m;
  for (std::ptrdiff_t d = found; d > 0; --d) {
    const auto& prev = trace[static_cast<size_t>(d - 1)];
    auto prev_at = [&](std::ptrdiff_t k) { return prev[static_cast<size_t>(k + d - 1)]; };
    const std::ptrdiff_t k = x - y;
    const std::ptrdiff_t prev_k = (k == -d || (k != d && prev_at(k - 1) < prev_at(k + 1))) ? k + 1 : k - 1;
    const std::ptrdiff_t prev_x = prev_at(prev_k);
    const std::ptrdiff_t prev_y = prev_x - prev_k;
    while (x > prev_x && y > prev_y) {
      --x, --y;
      steps.step(Kind::equal, static_cast<size_t>(x), static_cast<size_t>(y));
    }
    if (x == prev_x) {
      --y;
      steps.step(Kind::added, static_cast<size_t>(x), static_cast<size_t>(y));
    } else {
      --x;
      steps.step(Kind::removed, static_cast<size_t>(x), static_cast<size_t>(y));
    }
  }
  while (x > 0 && y > 0) {
    --x, --y;
    steps.step(Kind::equal, static_cast<size_t>(x), static_cast<size_t>(y));
  }
  return true;
}

}  // namespace

std::vector<DiffRun> diff_sequences(std::span<const uint64_t> a, std::span<const uint64_t> b, size_t max_cost) {
  size_t prefix = 0;
  while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
  size_t suffix = 0;
  while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
         a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix])
    ++suffix;
  const auto mid_a = a.subspan(prefix, a.size() - prefix - suffix);
  const auto mid_b = b.subspan(prefix, b.size() - prefix - suffix);

  std::vector<DiffRun> runs;
  push(runs, Kind::equal, 0, 0, prefix);
  ReversedRuns steps;
  if (myers(mid_a, mid_b, max_cost, steps)) {
    for (const DiffRun& r : steps.forward()) push(runs, r.kind, prefix + r.a_begin, prefix + r.b_begin, r.length);
  } else {
    push(runs, Kind::removed, prefix, prefix, mid_a.size());
    push(runs, Kind::added, prefix + mid_a.size(), prefix, mid_b.size());
  }
  push(runs, Kind::equal, a.size() - suffix, b.size() - suffix, suffix);
  return runs;
}

std::vector<DiffHunk> make_hunks(const std::vector<DiffRun>& runs, size_t context) {
  std::vector<DiffHunk> hunks;
  DiffHunk current;
  bool open = false;
  auto close = [&] {
    if (!open) return;
    // Trim trailing context to `context` elements.
    if (!current.runs.empty() && current.runs.back().kind == Kind::equal && current.runs.back().length > context)
      current.runs.back().length = context;
    const DiffRun& first = current.runs.front();
    current.a_begin = first.a_begin;
    current.b_begin = first.b_begin;
    current.a_length = current.b_length = 0;
    for (const DiffRun& r : current.runs) {
      if (r.kind != Kind::added) current.a_length += r.length;
      if (r.kind != Kind::removed) current.b_length += r.length;
    }
    hunks.push_back(std::move(current));
    current = {};
    open = false;
  };
  for (size_t i = 0; i < runs.size(); ++i) {
    const DiffRun& run = runs[i];
    if (run.kind != Kind::equal) {
      if (!open) {
        open = true;
        // Leading context: the tail of the previous equal run.
        if (i > 0 && runs[i - 1].kind == Kind::equal && context > 0) {
          const DiffRun& prev = runs[i - 1];
          const size_t take = std::min(context, prev.length);
          current.runs.push_back({Kind::equal, prev.a_begin + prev.length - take, prev.b_begin + prev.length - take, take});
        }
      }
      current.runs.push_back(run);
      continue;
    }
    if (!open) continue;
    // An equal run inside a hunk: keep it whole if the next change is close
    // enough that the two contexts touch, else end the hunk here.
    const bool last = i + 1 == runs.size();
    if (!last && run.length <= 2 * context) {
      current.runs.push_back(run);
    } else {
      current.runs.push_back({Kind::equal, run.a_begin, run.b_begin, std::min(context, run.length)});
      if (current.runs.back().length == 0) current.runs.pop_back();
      close();
    }
  }
  close();
  return hunks;
}

}  // namespace traceloop::tools
