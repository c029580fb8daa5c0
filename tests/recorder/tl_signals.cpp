// Test helper: ends and signals for the recorder's task notices.
//   tl_signals segv CORE       sets RLIMIT_CORE to CORE bytes (0: no core), then
//                              writes to address 0x10: killed by SIGSEGV
//   tl_signals wait-usr1 FILE  blocks SIGUSR2, handles SIGUSR1, creates FILE once
//                              the handler is in place, waits for the signal in
//                              sigsuspend (the only place it is unblocked),
//                              exits 0
//   tl_signals exit CODE       exits with CODE
//   tl_signals pause FILE      no handler: creates FILE, sleeps until a signal ends it
//   tl_signals block-term FILE blocks SIGTERM, creates FILE, exits 0 once a
//                              SIGTERM is pending (never unblocked)
//   tl_signals leader-exits FILE  the main thread ends (pthread_exit); a second
//                              one, which handles nothing, joins it, creates
//                              FILE and sleeps
//   tl_signals pipe            writes to a pipe whose reader is closed: killed by SIGPIPE
//   tl_signals seccomp-getpid  no core; a seccomp filter traps getpid, which
//                              it then calls: killed by SIGSYS
//   tl_signals thread-exit     a thread ends with exit(7), then the process
//                              exits with exit_group(3) while a second thread sleeps
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
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

struct LeaderExit {
  pthread_t leader;
  const char* ready_file;
};

// FILE is made only once the leader has ended: the kernel clears its tid (what
// the join waits for) after marking it as exiting, so from then on a signal to
// the process can only go to this thread.
void* join_leader_then_sleeping_thread(void* arg) {
  const auto* state = static_cast<const LeaderExit*>(arg);
  if (pthread_join(state->leader, nullptr) != 0) std::_Exit(2);
  const int fd = open(state->ready_file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) std::_Exit(2);
  close(fd);
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
    // SIGUSR2 blocked throughout: the mask rt_sigreturn restores after the
    // handler. SIGUSR1 is blocked too until sigsuspend: a signal sent as soon
    // as FILE exists waits for it, where one that came between a check of
    // got_usr1 and pause() was handled before pause() slept, for ever.
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR2);
    sigaddset(&blocked, SIGUSR1);
    if (sigprocmask(SIG_BLOCK, &blocked, nullptr) != 0) return 2;
    struct sigaction sa {};
    sa.sa_handler = on_usr1;
    if (sigaction(SIGUSR1, &sa, nullptr) != 0) return 2;
    const int fd = open(argv[2], O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) return 2;
    close(fd);
    sigset_t waiting;
    sigemptyset(&waiting);
    sigaddset(&waiting, SIGUSR2);
    while (!got_usr1) sigsuspend(&waiting);
    return 0;
  }
  if (std::strcmp(argv[1], "exit") == 0 && argc == 3) return std::atoi(argv[2]);
  if (std::strcmp(argv[1], "pause") == 0 && argc == 3) {
    const int fd = open(argv[2], O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) return 2;
    close(fd);
    for (;;) pause();
  }
  if (std::strcmp(argv[1], "block-term") == 0 && argc == 3) {
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &term, nullptr) != 0) return 2;
    const int fd = open(argv[2], O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) return 2;
    close(fd);
    for (;;) {
      sigset_t pending;
      if (sigpending(&pending) != 0) return 2;
      if (sigismember(&pending, SIGTERM)) return 0;
      usleep(10000);
    }
  }
  if (std::strcmp(argv[1], "seccomp-getpid") == 0) {
    const rlimit no_core{0, 0};
    if (setrlimit(RLIMIT_CORE, &no_core) != 0) return 2;
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    const sock_fprog program{static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 2;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) return 2;
    syscall(SYS_getpid);
    return 2;
  }
  if (std::strcmp(argv[1], "leader-exits") == 0 && argc == 3) {
    static LeaderExit state;
    state = {pthread_self(), argv[2]};
    pthread_t t;
    if (pthread_create(&t, nullptr, join_leader_then_sleeping_thread, &state) != 0) return 2;
    pthread_exit(nullptr);
  }
  if (std::strcmp(argv[1], "pipe") == 0) {
    int fds[2];
    if (pipe(fds) != 0) return 2;
    close(fds[0]);
    const char byte = 'x';
    (void)!write(fds[1], &byte, 1);
    return 2;
  }
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
