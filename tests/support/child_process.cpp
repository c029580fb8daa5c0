#include "tests/support/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <thread>
#include <utility>

#include "format/unique_fd.h"

namespace traceloop::testing {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// argv as execv wants it; built before fork, the child only reads it.
class ExecArgs {
 public:
  explicit ExecArgs(const std::vector<std::string>& argv) : strings_(argv) {
    for (auto& s : strings_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
  }
  char* const* get() const { return pointers_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;
};

// What the child does between fork and exec: system calls only. `out` becomes
// stdout and stderr; every other inherited descriptor is closed, so that a
// server never holds the test's sockets, pipes or BPF objects open.
[[noreturn]] void exec_child(const ExecArgs& args, int out, int null_in, pid_t parent, int death_signal) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, death_signal);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
  if (::dup2(null_in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) ::_exit(127);
  ::close_range(3, UINT_MAX, 0);
  ::execv(args.get()[0], args.get());
  ::_exit(127);
}

int wait_status(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string command_line(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& arg : argv) {
    if (!line.empty()) line += ' ';
    bool plain = !arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                       "0123456789-_./=:,+@") == std::string::npos;
    if (plain) {
      line += arg;
      continue;
    }
    line += '\'';
    for (char c : arg) line += c == '\'' ? std::string("'\\''") : std::string(1, c);
    line += '\'';
  }
  return line;
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds limit) {
  CommandResult result;
  if (argv.empty()) return result;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    result.output = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  UniqueFd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const ExecArgs args(argv);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    result.output = std::string("fork: ") + std::strerror(errno);
    return result;
  }
  if (pid == 0) exec_child(args, write_end.get(), null_in.get(), parent, SIGKILL);
  write_end.reset();

  const auto deadline = Clock::now() + limit;
  bool timed_out = false;
  char buf[8192];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= 0ms) {
      timed_out = true;
      break;
    }
    pollfd p{read_end.get(), POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    const ssize_t got = ::read(read_end.get(), buf, sizeof(buf));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    result.output.append(buf, static_cast<size_t>(got));
  }
  if (timed_out) {
    ::kill(pid, SIGKILL);
    result.output += "\n[" + command_line(argv) + ": killed after " + std::to_string(limit.count()) + " ms]\n";
  }
  result.status = exit_code(wait_status(pid));
  if (result.status == 127 && result.output.empty()) result.output = "could not run " + argv[0];
  return result;
}

Result<ChildProcess> ChildProcess::start(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  if (argv.empty()) return Error{"no command"};
  UniqueFd out(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!out) return Error{"cannot open " + log.string() + ": " + std::strerror(errno)};
  UniqueFd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const ExecArgs args(argv);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return Error{std::string("fork: ") + std::strerror(errno)};
  if (pid == 0) exec_child(args, out.get(), null_in.get(), parent, SIGTERM);
  return ChildProcess(pid);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(std::exchange(other.status_, -1)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    stop();
    pid_ = std::exchange(other.pid_, -1);
    status_ = std::exchange(other.status_, -1);
  }
  return *this;
}

bool ChildProcess::running() {
  if (pid_ < 0 || status_ >= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) status_ = status;
  return r == 0;
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ < 0) return 0;
  if (!running()) return status_;
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + grace;
  while (running() && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
  if (running()) {
    ::kill(pid_, SIGKILL);
    status_ = wait_status(pid_);
  }
  return status_;
}

}  // namespace traceloop::testing
