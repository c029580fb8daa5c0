#pragma once
// What the daemon's integration tests take from their environment.

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/support/source_dir.h"

namespace traceloop::daemon::test_env {

// CI sets TRACELOOP_REQUIRE_BPF: what would skip fails instead.
inline bool bpf_required() { return std::getenv("TRACELOOP_REQUIRE_BPF") != nullptr; }

using traceloop::testing::source_dir;

// `s` as one word for /bin/sh.
inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The shell command running scripts/demo_container.sh (a runc container
// with a busybox-static rootfs) in `work` with ARGS ("[OPTIONS] ID -- CMD").
inline std::string demo_container(const std::filesystem::path& work, const std::string& args) {
  return shell_quote((source_dir() / "scripts/demo_container.sh").string()) + " --work " + shell_quote(work.string()) +
         " " + args;
}

}  // namespace traceloop::daemon::test_env
