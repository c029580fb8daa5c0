#pragma once
// What the daemon's integration tests take from their environment.

#include <cstdlib>
#include <filesystem>

namespace traceloop::daemon::test_env {

// CI sets TRACELOOP_REQUIRE_BPF: what would skip fails instead.
inline bool bpf_required() { return std::getenv("TRACELOOP_REQUIRE_BPF") != nullptr; }

// The source tree (for scripts/demo_container.sh), as CTest passes it.
inline std::filesystem::path source_dir() {
  const char* dir = std::getenv("TRACELOOP_SOURCE_DIR");
  return dir ? std::filesystem::path(dir) : std::filesystem::current_path();
}

}  // namespace traceloop::daemon::test_env
