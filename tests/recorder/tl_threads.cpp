// Test helper: N threads, each making one distinctive syscall (an openat of
// /nonexistent/tl-thread-<i>), so the trace can attribute calls to threads.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 4;
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([i] {
      std::string path = "/nonexistent/tl-thread-" + std::to_string(i);
      int fd = ::open(path.c_str(), O_RDONLY);
      if (fd >= 0) ::close(fd);
    });
  }
  for (auto& t : threads) t.join();
  return 0;
}
