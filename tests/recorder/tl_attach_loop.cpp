// Test helper: a process already running when the recorder attaches to it.
// Two threads each make a recognisable call in a loop, and the process forks
// a short-lived child now and then, which makes its own. A third thread is
// blocked in a read of a pipe from the start: SIGUSR1 makes the main thread
// write "wake\n" into it. Runs until killed; prints "ready" once the loops
// run and the reader waits.
//
// Usage: tl_attach_loop TAG (the probes' paths carry TAG, telling two
// instances apart).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

namespace {

void pause_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, nullptr);
}

// ENOENT: only the path matters.
void probe(const std::string& path) { openat(AT_FDCWD, path.c_str(), O_RDONLY); }

volatile sig_atomic_t wake_asked = 0;
void on_usr1(int) { wake_asked = 1; }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string tag = argv[1];
  const std::string main_probe = "/proc/self/tl-attach-main-" + tag;
  const std::string thread_probe = "/proc/self/tl-attach-thread-" + tag;
  const std::string child_probe = "/proc/self/tl-attach-child-" + tag;
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return 2;
  // Only the main thread takes SIGUSR1: the others' calls are never interrupted.
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, nullptr);
  std::atomic<bool> reader_started{false};
  std::thread reader([&] {
    char buf[64];
    reader_started = true;
    while (read(pipe_fds[0], buf, sizeof(buf)) > 0) {
    }
  });
  std::atomic<bool> thread_started{false};
  std::thread worker([&] {
    thread_started = true;
    while (true) {
      probe(thread_probe);
      pause_ms(20);
    }
  });
  struct sigaction sa = {};
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, nullptr);
  pthread_sigmask(SIG_UNBLOCK, &usr1, nullptr);
  while (!thread_started || !reader_started) pause_ms(1);
  pause_ms(50);  // the reader is in its read
  std::printf("ready\n");
  std::fflush(stdout);
  for (unsigned round = 0;; ++round) {
    probe(main_probe);
    if (wake_asked) {
      wake_asked = 0;
      if (write(pipe_fds[1], "wake\n", 5) != 5) return 2;
    }
    if (round % 5 == 0) {
      const pid_t child = fork();
      if (child == 0) {
        probe(child_probe);
        _exit(0);
      }
      if (child > 0) waitpid(child, nullptr, 0);
    }
    pause_ms(20);
  }
}
