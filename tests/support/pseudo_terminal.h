#pragma once
// Programs run with their standard output or error on a real pseudo-terminal
// (in raw mode, so the bytes arrive as written), for what a program does
// only on a terminal: colours, progress lines.

#include <string>
#include <vector>

namespace traceloop::testing {

struct TerminalRun {
  int status = -1;        // exit status; 128 + signal when killed; 127 when it could not start
  std::string terminal;   // what reached the terminal
  std::string out;        // standard output when it was not the terminal (a file)
  std::string err;        // standard error when it was not the terminal (a pipe)
};

struct TerminalStreams {
  bool stdout_on_terminal = false;
  bool stderr_on_terminal = false;
};

// Runs argv (argv[0] a path; no shell, no PATH search) with stdin from
// /dev/null, the streams chosen on the terminal, and `env` ("NAME=value",
// or "NAME" to remove it) applied over this process's environment.
TerminalRun run_on_terminal(const std::vector<std::string>& argv, TerminalStreams streams,
                            const std::vector<std::string>& env = {});

}  // namespace traceloop::testing
