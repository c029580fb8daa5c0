// Makes every syscall whose number is given on the command line, each with
// all-zero arguments, none of them executed: a seccomp filter makes each one
// fail with ENOSYS. A tracer still sees each entry (ptrace stops before
// seccomp), so `strace -e trace=%CLASS tl_every_syscall NR...` prints
// exactly the syscalls strace puts in CLASS. Ends killed by SIGSYS (a number
// no kernel has), since exit_group is one of the syscalls made.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

namespace {
constexpr long kEnd = 4000;
}

int main(int argc, char** argv) {
  std::vector<long> numbers;
  for (int i = 1; i < argc; ++i) numbers.push_back(std::strtol(argv[i], nullptr, 10));
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),  // seccomp_data.nr
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kEnd, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof(code) / sizeof(code[0])), code};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 2;
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) return 3;
  for (const long nr : numbers) syscall(nr, 0, 0, 0, 0, 0, 0);
  syscall(kEnd);
  return 4;
}
