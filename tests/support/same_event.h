#pragma once
// Field-by-field equality of two events with a message naming the event,
// for round-trip tests (use with ASSERT_NO_FATAL_FAILURE).

#include <gtest/gtest.h>

#include "format/event.h"

namespace traceloop::testing {

inline void expect_same_event(const format::Event& got, const format::Event& want, size_t i) {
  ASSERT_EQ(got.enter_ns, want.enter_ns) << i;
  ASSERT_EQ(got.exit_ns, want.exit_ns) << i;
  ASSERT_EQ(got.pid, want.pid) << i;
  ASSERT_EQ(got.tid, want.tid) << i;
  ASSERT_EQ(got.cpu, want.cpu) << i;
  ASSERT_EQ(got.nr, want.nr) << i;
  ASSERT_EQ(got.arg_count, want.arg_count) << i;
  ASSERT_EQ(got.args, want.args) << i;
  ASSERT_EQ(got.state, want.state) << i;
  ASSERT_EQ(got.ret, want.ret) << i;
  ASSERT_EQ(got.comm, want.comm) << i;
  ASSERT_EQ(got.captures.size(), want.captures.size()) << i;
  for (size_t k = 0; k < got.captures.size(); ++k) {
    ASSERT_EQ(got.captures[k].arg, want.captures[k].arg) << i << "/" << k;
    ASSERT_EQ(got.captures[k].size, want.captures[k].size) << i << "/" << k;
    ASSERT_EQ(got.captures[k].bytes, want.captures[k].bytes) << i << "/" << k;
  }
}

}  // namespace traceloop::testing
