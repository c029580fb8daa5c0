#pragma once
// What the daemon's integration tests take from their environment.

#include <cstdlib>
#include <filesystem>

#include "tests/support/source_dir.h"

namespace traceloop::daemon::test_env {

// CI sets TRACELOOP_REQUIRE_BPF: what would skip fails instead.
inline bool bpf_required() { return std::getenv("TRACELOOP_REQUIRE_BPF") != nullptr; }

using traceloop::testing::source_dir;

}  // namespace traceloop::daemon::test_env
