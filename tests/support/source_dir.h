#pragma once
// Where the source tree is, for tests that read scripts and test data.

#include <cstdlib>
#include <filesystem>

namespace traceloop::testing {

// TRACELOOP_SOURCE_DIR when set (CTest sets it), else the tree the test
// binary was built from.
inline std::filesystem::path source_dir() {
  if (const char* dir = std::getenv("TRACELOOP_SOURCE_DIR"); dir != nullptr && *dir != '\0') return dir;
  return TRACELOOP_TEST_SOURCE_DIR;
}

}  // namespace traceloop::testing
