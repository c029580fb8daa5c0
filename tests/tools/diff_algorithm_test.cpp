#include "tools/lib/analyses/diff_algorithm.h"

#include <gtest/gtest.h>

#include <string>

namespace traceloop::tools {
namespace {

using Kind = DiffRun::Kind;

std::vector<uint64_t> seq(std::string_view s) { return {s.begin(), s.end()}; }

// Applies the script to A and checks it yields B, and returns its cost.
size_t check_script(std::string_view a, std::string_view b, const std::vector<DiffRun>& runs) {
  std::string rebuilt;
  size_t cost = 0;
  size_t next_a = 0, next_b = 0;
  for (const DiffRun& r : runs) {
    if (r.kind == Kind::equal) {
      EXPECT_EQ(r.a_begin, next_a);
      EXPECT_EQ(r.b_begin, next_b);
      EXPECT_EQ(a.substr(r.a_begin, r.length), b.substr(r.b_begin, r.length));
      rebuilt += a.substr(r.a_begin, r.length);
      next_a += r.length;
      next_b += r.length;
    } else if (r.kind == Kind::removed) {
      EXPECT_EQ(r.a_begin, next_a);
      next_a += r.length;
      cost += r.length;
    } else {
      EXPECT_EQ(r.b_begin, next_b);
      rebuilt += b.substr(r.b_begin, r.length);
      next_b += r.length;
      cost += r.length;
    }
  }
  EXPECT_EQ(next_a, a.size());
  EXPECT_EQ(rebuilt, b);
  return cost;
}

TEST(DiffAlgorithm, EqualSequencesAreOneRun) {
  const auto a = seq("abcdef");
  const auto runs = diff_sequences(a, a);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0], (DiffRun{Kind::equal, 0, 0, 6}));
}

TEST(DiffAlgorithm, EmptySides) {
  EXPECT_TRUE(diff_sequences({}, {}).empty());
  const auto b = seq("xy");
  const auto added = diff_sequences({}, b);
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0], (DiffRun{Kind::added, 0, 0, 2}));
  const auto removed = diff_sequences(b, {});
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0], (DiffRun{Kind::removed, 0, 0, 2}));
}

TEST(DiffAlgorithm, ClassicMyersExampleHasMinimalCost) {
  // The example of Myers' paper: D = 5.
  const std::string a = "ABCABBA", b = "CBABAC";
  EXPECT_EQ(check_script(a, b, diff_sequences(seq(a), seq(b))), 5u);
}

TEST(DiffAlgorithm, OneChangedElementInTheMiddle) {
  const std::string a = "abcdXfgh", b = "abcdYfgh";
  const auto runs = diff_sequences(seq(a), seq(b));
  EXPECT_EQ(check_script(a, b, runs), 2u);
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[1], (DiffRun{Kind::removed, 4, 4, 1}));
  EXPECT_EQ(runs[2], (DiffRun{Kind::added, 5, 4, 1}));
}

TEST(DiffAlgorithm, ManyRandomPairsRebuildB) {
  uint64_t state = 42;
  auto next = [&] { return (state = state * 6364136223846793005ULL + 1442695040888963407ULL) >> 33; };
  for (int round = 0; round < 200; ++round) {
    std::string a, b;
    for (uint64_t i = 0, n = next() % 40; i < n; ++i) a += static_cast<char>('a' + next() % 4);
    for (uint64_t i = 0, n = next() % 40; i < n; ++i) b += static_cast<char>('a' + next() % 4);
    const size_t cost = check_script(a, b, diff_sequences(seq(a), seq(b)));
    // Never worse than deleting all of A and inserting all of B.
    EXPECT_LE(cost, a.size() + b.size());
  }
}

TEST(DiffAlgorithm, CostCapFallsBackToReplaceButStaysCorrect) {
  const std::string a = "aaaaaaaaaaXbbbbbbbbbbbbbbb", b = "aaaaaaaaaaYYYYYYYYYbbbbbbbbbbbbbbb";
  const auto runs = diff_sequences(seq(a), seq(b), 2);
  check_script(a, b, runs);
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[1], (DiffRun{Kind::removed, 10, 10, 1}));
  EXPECT_EQ(runs[2], (DiffRun{Kind::added, 11, 10, 9}));
}

TEST(DiffAlgorithm, HunksKeepContextAndSplitFarChanges) {
  //                 0123456789012345678901234
  const std::string a = "abcdefghijklmnopqrstuvwxy";
  std::string b = a;
  b[2] = 'C';
  b[20] = 'U';
  const auto hunks = make_hunks(diff_sequences(seq(a), seq(b)), 3);
  ASSERT_EQ(hunks.size(), 2u);
  EXPECT_EQ(hunks[0].a_begin, 0u);
  EXPECT_EQ(hunks[0].a_length, 6u);  // 2 before, 1 changed, 3 after
  EXPECT_EQ(hunks[0].b_length, 6u);
  EXPECT_EQ(hunks[1].a_begin, 17u);
  EXPECT_EQ(hunks[1].a_length, 7u);  // 3 before, 1 changed, 3 after
}

TEST(DiffAlgorithm, CloseChangesShareOneHunk) {
  const std::string a = "abcdefghijklmnop";
  std::string b = a;
  b[4] = 'E';
  b[8] = 'I';
  const auto hunks = make_hunks(diff_sequences(seq(a), seq(b)), 3);
  ASSERT_EQ(hunks.size(), 1u);
  EXPECT_EQ(hunks[0].a_begin, 1u);
  EXPECT_EQ(hunks[0].a_length, 11u);
}

}  // namespace
}  // namespace traceloop::tools
