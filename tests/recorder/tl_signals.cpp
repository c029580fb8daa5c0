// Test helper: ends and signals for the recorder's task notices.
//   tl_signals segv CORE       sets RLIMIT_CORE to CORE bytes (0: no core), then
//                              writes to address 0x10: killed by SIGSEGV
//   tl_signals wait-usr1 FILE  handles SIGUSR1, creates FILE once the handler is
//                              in place, sleeps until the signal comes, exits 0
//   tl_signals exit CODE       exits with CODE
//   tl_signals thread-exit     a thread ends with exit(7), then the process
//                              exits with exit_group(3) while a second thread sleeps
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace {

volatile sig_atomic_t got_usr1 = 0;
void on_usr1(int) { got_usr1 = 1; }

void* exit_thread(void*) {
  syscall(SYS_exit, 7);  // this thread only
  return nullptr;
}

void* sleeping_thread(void*) {
  for (;;) pause();
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  if (std::strcmp(argv[1], "segv") == 0 && argc == 3) {
    const rlim_t core = std::strtoull(argv[2], nullptr, 10);
    const rlimit limit{core, core};
    if (setrlimit(RLIMIT_CORE, &limit) != 0) return 2;
    // a core file, if any, lands in the working directory (core_pattern "core")
    *reinterpret_cast<volatile int*>(0x10) = 1;
    return 2;
  }
  if (std::strcmp(argv[1], "wait-usr1") == 0 && argc == 3) {
    struct sigaction sa {};
    sa.sa_handler = on_usr1;
    if (sigaction(SIGUSR1, &sa, nullptr) != 0) return 2;
    const int fd = open(argv[2], O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) return 2;
    close(fd);
    while (!got_usr1) pause();
    return 0;
  }
  if (std::strcmp(argv[1], "exit") == 0 && argc == 3) return std::atoi(argv[2]);
  if (std::strcmp(argv[1], "thread-exit") == 0) {
    pthread_t a, b;
    if (pthread_create(&a, nullptr, exit_thread, nullptr) != 0) return 2;
    if (pthread_join(a, nullptr) != 0) return 2;
    if (pthread_create(&b, nullptr, sleeping_thread, nullptr) != 0) return 2;
    usleep(50000);
    std::exit(3);
  }
  return 2;
}
