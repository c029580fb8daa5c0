#pragma once
// What each file descriptor of each process refers to, rebuilt offline from
// the recorded calls (strace's -y and -yy, and -P PATH for fd-based calls).
//
// The tracker is shown every event in time order, before that event is
// rendered or matched: path_of() then answers for the state just before the
// event, path_of_result() for the fd the event returned. It starts from the
// fds open when recording began (the trace's fd snapshots) and follows every
// call that creates, duplicates, passes or closes an fd: open*, creat,
// socket/socketpair/accept*, bind/connect (socket addresses), pipe*, eventfd,
// epoll_create*, memfd_create and other anonymous fds, dup*, fcntl
// F_DUPFD*/F_SETFD, close, close_range, exec (close-on-exec), fork/clone
// with and without CLONE_FILES (shared tables), unshare(CLONE_FILES),
// chdir/fchdir (the base of relative paths), and sendmsg/recvmsg passing
// fds with SCM_RIGHTS over a socketpair: a received fd refers to what the
// sender's fd referred to when it was sent (MSG_CMSG_CLOEXEC makes it
// close-on-exec), messages taken in the order they were sent (MSG_PEEK
// leaves one for the next receive).
//
// Never a guess: an fd whose origin the trace does not show has no answer.
// What is not known:
//   - fds received over a socket that is not one end of a socketpair the
//     trace shows made (a connect/accept pair, an inherited socket: which
//     socket sends to it is not in the trace), or once a message of that
//     socket was sent or received without its header captured (--no-data);
//   - the recvmsg line itself of a receive that began before its message's
//     sendmsg (a receiver blocked waiting): events come in order of entry,
//     so the fds it received are known from the send on, not on its line;
//   - the kernel's name of a file: paths are the ones the program gave, made
//     absolute from the working directory or dirfd and cleaned lexically
//     (symbolic links are not resolved, where strace shows their target);
//   - socket and pipe inodes (only snapshots have them): they show as `?`,
//     and so does a local address the calls do not reveal;
//   - after lost events, anything (everything known is forgotten).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "format/event.h"
#include "format/metadata.h"
#include "tools/lib/decoder/fd_path_lookup.h"

namespace traceloop::tools {

class FdTracker final : public FdPathLookup {
 public:
  // `metadata` (catalogue, fd snapshots) is read here only.
  explicit FdTracker(const format::TraceMetadata& metadata);
  ~FdTracker() override;
  FdTracker(const FdTracker&) = delete;
  FdTracker& operator=(const FdTracker&) = delete;

  // The next event in time order: what the previous event did is applied,
  // and this one becomes the event being looked at.
  void look_at(const format::Event& event);
  // Events are missing here (ring full, history overwritten): whatever they
  // did is unknown, so nothing known before is trusted after.
  void loss();

  std::optional<std::string_view> path_of(uint32_t pid, int64_t fd, bool detailed) const override;
  std::optional<std::string_view> path_of_result(uint32_t pid, int64_t fd, bool detailed) const override;

  // What a tracker holds, for tests: processes with a table, fds known.
  size_t processes() const;
  size_t known_fds() const;

  // One thing an fd refers to: file, socket, pipe, anonymous inode. Shared by
  // the fds that duplicate it (a socket's connect shows through all of them).
  struct Object;

 private:
  struct Slot {
    std::shared_ptr<Object> object;
    bool cloexec = false;
  };
  struct Table {
    std::unordered_map<int32_t, Slot> fds;
  };
  struct Process {
    std::shared_ptr<Table> table;      // shared with CLONE_FILES children and threads
    std::shared_ptr<std::string> cwd;  // null: unknown
  };
  enum class Op : uint8_t;
  // The anonymous fds: their /proc name, the argument holding their flags
  // (-1: none) and the one that names an fd to reuse instead (signalfd).
  struct AnonKind {
    std::string_view name;
    int8_t flags_arg = -1;
    uint64_t cloexec_flag = 0;  // the bit of flags_arg that makes the fd close on exec
    int8_t reuses_fd_arg = -1;
    bool always_cloexec = false;
  };

  Process& process_for(const format::Event& event);
  const Slot* slot(uint32_t pid, int64_t fd) const;
  void prepare(const format::Event& event);
  void apply();
  void set(Process& p, int64_t fd, std::shared_ptr<Object> object, bool cloexec);
  void forget(Process& p, int64_t fd);
  std::optional<std::string> resolve(const Process& p, int64_t dirfd, std::string_view path) const;

  std::vector<Op> ops_;  // by syscall number
  std::vector<AnonKind> anon_;
  std::unordered_map<uint32_t, Process> processes_;
  // Children a fork-like call announced, by the pid it returned, until their
  // first event.
  struct Child {
    Process process;
    uint32_t container = 0;
  };
  std::unordered_map<uint32_t, Child> children_;

  // The event being looked at, and what it does once applied.
  bool pending_ = false;
  format::Event current_{};
  Op current_op_{};
  std::shared_ptr<Object> result_;  // the object its returned fd refers to
  bool result_cloexec_ = false;
  // Pair results (pipe, socketpair): the second fd's object.
  std::shared_ptr<Object> second_;
  int32_t pair_[2] = {-1, -1};
  std::optional<std::string> address_;   // connect, bind: the endpoint, when captured whole
  std::optional<std::string> new_cwd_;   // chdir: where to, when known
  std::optional<uint64_t> clone_flags_;  // clone, clone3
  // sendmsg: the fds passed (what each refers to in the sender) and the end
  // they go to; recvmsg: the fds received (their numbers and what each
  // refers to, null when not known) and, when their send is still to come,
  // the end that waits for it.
  std::vector<std::shared_ptr<Object>> passed_;
  std::vector<std::pair<int32_t, std::shared_ptr<Object>>> received_;
  bool received_cloexec_ = false;
  std::shared_ptr<Object> message_end_;
  format::Arch arch_;  // the layouts of the captured message headers
};

// strace's escaping of what an fd refers to inside <...>: printable ASCII as
// is, \t \n \v \f \r and `\` by name, every other byte in octal, and in a
// path (it starts with `/`) `"` `<` `>` in octal too.
void append_fd_path(std::string& out, std::string_view path);

}  // namespace traceloop::tools
