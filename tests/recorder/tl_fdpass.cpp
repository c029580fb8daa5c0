// Test helper: every way an fd is made, copied, passed and closed that
// strace -y annotates. Opens FILE, dups it (dup, fcntl F_DUPFD_CLOEXEC,
// dup3), makes a pipe and a unix socketpair, sends the file's fd over the
// socketpair (SCM_RIGHTS) and forks; the child receives it, reads the file
// through the fd it received, and both close everything. The send comes
// before the fork so that the receive never waits for it: a receive that
// began before its send has its fds known from the send on, not on its own
// line (tools/lib/decoder/fd_tracker.h).
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <initializer_list>

namespace {

bool send_fd(int sock, int fd) {
  char byte = 'f';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  return sendmsg(sock, &msg, 0) == 1;
}

int receive_fd(int sock) {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  if (recvmsg(sock, &msg, 0) != 1) return -1;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (cmsg == nullptr || cmsg->cmsg_type != SCM_RIGHTS) return -1;
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const int file = open(argv[1], O_RDONLY);
  if (file < 0) return 2;
  const int copy = dup(file);
  const int high = fcntl(file, F_DUPFD_CLOEXEC, 20);
  if (copy < 0 || high < 0 || dup3(copy, 30, O_CLOEXEC) != 30) return 2;
  char buf[64];
  if (read(high, buf, 1) != 1 || pread(30, buf, 1, 0) != 1) return 2;
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0 || write(pipe_fds[1], "p", 1) != 1 || read(pipe_fds[0], buf, 1) != 1) return 2;
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0 || !send_fd(pair[0], copy)) return 2;
  const pid_t child = fork();
  if (child < 0) return 2;
  if (child == 0) {
    close(pair[0]);
    const int received = receive_fd(pair[1]);
    if (received < 0) _exit(3);
    const ssize_t n = pread(received, buf, sizeof(buf), 0);
    close(received);
    close(pair[1]);
    _exit(n > 0 ? 0 : 3);
  }
  close(pair[1]);
  int status = 0;
  if (waitpid(child, &status, 0) != child) return 2;
  if (read(file, buf, sizeof(buf)) < 0) return 2;
  for (int fd : {file, copy, high, 30, pipe_fds[0], pipe_fds[1], pair[0]}) close(fd);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 2;
}
