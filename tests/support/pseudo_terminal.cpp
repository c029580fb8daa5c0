#include "tests/support/pseudo_terminal.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <stdexcept>

#include "format/unique_fd.h"

extern char** environ;

namespace traceloop::testing {

namespace {

// Reads what is available; false at the end (EOF, or EIO once no slave is open).
bool read_some(int fd, std::string& out) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

}  // namespace

TerminalRun run_on_terminal(const std::vector<std::string>& argv, TerminalStreams streams,
                            const std::vector<std::string>& env) {
  UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master || ::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0)
    throw std::runtime_error("no pseudo-terminal");
  UniqueFd slave(::open(::ptsname(master.get()), O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) throw std::runtime_error("cannot open the pseudo-terminal's slave");
  termios raw{};
  ::tcgetattr(slave.get(), &raw);
  ::cfmakeraw(&raw);
  ::tcsetattr(slave.get(), TCSANOW, &raw);

  char out_name[] = "/tmp/traceloop-terminal-out-XXXXXX";
  UniqueFd out_file(::mkstemp(out_name));
  ::unlink(out_name);
  int err_pipe[2];
  if (!out_file || ::pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("cannot make the output files");
  UniqueFd err_read(err_pipe[0]), err_write(err_pipe[1]);
  UniqueFd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));

  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) environment.emplace_back(*e);
  for (const auto& change : env) {
    const std::string name = change.substr(0, change.find('='));
    std::erase_if(environment, [&](const std::string& e) { return e.compare(0, name.size() + 1, name + "=") == 0; });
    if (change.find('=') != std::string::npos) environment.push_back(change);
  }
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : environment) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(null_in.get(), STDIN_FILENO);
    ::dup2(streams.stdout_on_terminal ? slave.get() : out_file.get(), STDOUT_FILENO);
    ::dup2(streams.stderr_on_terminal ? slave.get() : err_write.get(), STDERR_FILENO);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  slave.reset();
  err_write.reset();
  TerminalRun run;
  // Both drained together: a program blocked writing to one would never
  // close the other.
  bool terminal_open = true, err_open = true;
  while (terminal_open || err_open) {
    pollfd fds[2] = {{terminal_open ? master.get() : -1, POLLIN, 0}, {err_open ? err_read.get() : -1, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents != 0) terminal_open = read_some(master.get(), run.terminal);
    if (fds[1].revents != 0) err_open = read_some(err_read.get(), run.err);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  ::lseek(out_file.get(), 0, SEEK_SET);
  while (read_some(out_file.get(), run.out)) {
  }
  return run;
}

}  // namespace traceloop::testing
