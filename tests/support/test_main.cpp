// main() of every test binary: points the tests at the source and build trees
// (TRACELOOP_SOURCE_DIR, TRACELOOP_BINARY_DIR) unless the environment already
// does, so a test binary behaves the same under ctest and when run by hand.

#include <gtest/gtest.h>

#include <cstdlib>

int main(int argc, char** argv) {
  ::setenv("TRACELOOP_SOURCE_DIR", TRACELOOP_TEST_SOURCE_DIR, /*overwrite=*/0);
  ::setenv("TRACELOOP_BINARY_DIR", TRACELOOP_TEST_BINARY_DIR, /*overwrite=*/0);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
