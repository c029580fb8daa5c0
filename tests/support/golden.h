#pragma once
// Golden files: expected output checked in under testdata/, compared line by
// line. TRACELOOP_UPDATE_GOLDEN=1 rewrites them instead (review the diff).

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/file_bytes.h"
#include "tests/support/source_dir.h"

namespace traceloop::testing {

// Line diff for humans: the first differing lines with their numbers.
inline std::string line_diff(const std::string& expected, const std::string& actual, size_t max_lines = 12) {
  auto split = [](const std::string& s) {
    std::vector<std::string> lines;
    std::stringstream ss(s);
    std::string line;
    while (std::getline(ss, line)) lines.push_back(line);
    return lines;
  };
  const auto e = split(expected), a = split(actual);
  std::string out;
  size_t shown = 0;
  for (size_t i = 0; i < std::max(e.size(), a.size()) && shown < max_lines; ++i) {
    const std::string* el = i < e.size() ? &e[i] : nullptr;
    const std::string* al = i < a.size() ? &a[i] : nullptr;
    if (el && al && *el == *al) continue;
    out += "line " + std::to_string(i + 1) + ":\n";
    out += "  - " + (el ? *el : std::string("<missing>")) + "\n";
    out += "  + " + (al ? *al : std::string("<missing>")) + "\n";
    ++shown;
  }
  if (e.size() != a.size())
    out += "expected " + std::to_string(e.size()) + " lines, got " + std::to_string(a.size()) + "\n";
  return out;
}

// Compares `actual` with testdata/<relative> ("golden/x.txt", "analysis/y.txt").
inline void expect_golden(const std::filesystem::path& relative, const std::string& actual) {
  const auto path = source_dir() / "testdata" / relative;
  if (const char* update = std::getenv("TRACELOOP_UPDATE_GOLDEN"); update != nullptr && std::string_view(update) == "1") {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing; run with TRACELOOP_UPDATE_GOLDEN=1 and review it";
  const std::string expected = read_file(path);
  EXPECT_TRUE(expected == actual) << "output differs from " << path << " (TRACELOOP_UPDATE_GOLDEN=1 regenerates):\n"
                                  << line_diff(expected, actual);
}

}  // namespace traceloop::testing
