#pragma once
// Programs a test runs: a command run to its end with its output captured
// (bounded in time), and a long-lived server (a container engine) whose
// output goes to a log file and which is stopped by its pid. Both are safe
// to start while other threads run (a daemon under test): the child only
// makes system calls between fork and exec.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "format/result.h"

namespace traceloop::testing {

struct CommandResult {
  int status = -1;     // exit status; 128 + signal when killed; -1 when it could not start
  std::string output;  // stdout and stderr, interleaved as written
  bool ok() const { return status == 0; }
};

// Runs argv (argv[0] a path; no shell, no PATH search) to its end with
// stdin from /dev/null. Killed (SIGKILL, and a note appended to its
// output) if it outlives `limit`.
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds limit = std::chrono::seconds(60));

// "a 'b c' d": argv as a shell would need it, for messages.
std::string command_line(const std::vector<std::string>& argv);

class ChildProcess {
 public:
  // Starts argv (argv[0] a path) with stdout and stderr appended to `log`,
  // in its own process group. It gets SIGTERM if this process dies first,
  // so a crashed test leaves no server behind.
  static Result<ChildProcess> start(const std::vector<std::string>& argv, const std::filesystem::path& log);
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { stop(); }

  pid_t pid() const { return pid_; }
  // Whether it has not exited yet (reaps it when it has).
  bool running();
  // SIGTERM, then SIGKILL if it is still there after `grace`; waits for it.
  // Returns its wait status (0 when it had been stopped already).
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(15));
  // Its wait status once it has exited; -1 while it runs.
  int exit_status() const { return status_; }

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  int status_ = -1;
};

// "exited with status 1", "killed by signal 9": a wait status for messages.
std::string describe_wait_status(int status);

}  // namespace traceloop::testing
