// Runs a command with empty sys_enter/sys_exit programs attached (the floor
// of the recorder benchmark): `tl_bench_empty_hooks CMD ARGS...` exits with
// CMD's status.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "empty_hooks_bpf.skel.h"

namespace {

struct SkelDeleter {
  void operator()(empty_hooks_bpf* skel) const { empty_hooks_bpf__destroy(skel); }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CMD ARGS...\n", argv[0]);
    return 2;
  }
  std::unique_ptr<empty_hooks_bpf, SkelDeleter> skel(empty_hooks_bpf__open_and_load());
  if (!skel || empty_hooks_bpf__attach(skel.get()) != 0) {
    std::perror("loading the empty BPF programs");
    return 2;
  }
  const pid_t child = fork();
  if (child < 0) {
    std::perror("fork");
    return 2;
  }
  if (child == 0) {
    execvp(argv[1], argv + 1);
    std::perror(argv[1]);
    _exit(127);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
