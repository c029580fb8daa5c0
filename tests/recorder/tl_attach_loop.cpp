// Test helper: a process already running when the recorder attaches to it.
// Two threads each make a recognisable call in a loop, and the process forks
// a short-lived child now and then, which makes its own. Runs until killed;
// prints "ready" once both threads loop.
//
// Usage: tl_attach_loop TAG (the probes' paths carry TAG, telling two
// instances apart).
#include <fcntl.h>
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

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string tag = argv[1];
  const std::string main_probe = "/proc/self/tl-attach-main-" + tag;
  const std::string thread_probe = "/proc/self/tl-attach-thread-" + tag;
  const std::string child_probe = "/proc/self/tl-attach-child-" + tag;
  std::atomic<bool> thread_started{false};
  std::thread worker([&] {
    thread_started = true;
    while (true) {
      probe(thread_probe);
      pause_ms(20);
    }
  });
  while (!thread_started) pause_ms(1);
  std::printf("ready\n");
  std::fflush(stdout);
  for (unsigned round = 0;; ++round) {
    probe(main_probe);
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
