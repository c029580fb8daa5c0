#pragma once
// strace's -y and -yy on the command line of every tool that renders calls
// (tl-show, tl-grep, traceloop-record show).

#include <CLI/CLI.hpp>

#include "tools/lib/decoder/fd_annotation.h"

namespace traceloop::tools {

struct FdPathsFlag {
  int count = 0;  // -y once, -yy twice
  FdPaths mode() const { return count >= 2 ? FdPaths::detailed : count == 1 ? FdPaths::paths : FdPaths::off; }
};

inline CLI::Option* add_fd_paths_option(CLI::App& app, FdPathsFlag& flag) {
  return app.add_flag("-y,--decode-fds", flag.count,
                      "Show what fds refer to, rebuilt from the trace: -y paths (3</etc/passwd>), -yy also socket "
                      "addresses (UNIX-STREAM:[...], TCP:[...]); fds of unknown origin stay plain");
}

}  // namespace traceloop::tools
