#pragma once
// The daemon's side of the control socket: a Unix stream socket (mode 0600,
// or 0660 with a configured group), peers checked with SO_PEERCRED, requests
// bounded in size and time.
//
// The daemon serves it from the loop that drains the BPF ring, which holds
// only tens of milliseconds of a busy container's calls, so no client may
// ever make process() wait: every socket is non-blocking, a reply the kernel
// cannot take at once is kept here and sent as the client reads (the server's
// epoll set also waits for the client's socket to be writable), and:
//   - a reply is at most kMaxReplyBytes (a larger one becomes an error),
//     except a file reply (a trace's bytes), which is read from its file
//     as the client takes it and holds no memory here;
//   - the replies held for all clients together stay within
//     max_pending_reply_bytes: a reply that does not fit becomes a short
//     "busy" error (short replies, at most kShortReplyBytes, are always
//     taken, so the bound is max_pending_reply_bytes plus that much per
//     connection; error replies are cut to that size);
//   - a client that reads nothing of its reply for reply_stall_timeout is
//     dropped (what it consumed is seen in pieces of a few KiB: one that
//     reads less than that in the timeout is dropped too).
// The handler runs on the thread that calls process(): the daemon's state
// needs no lock. The daemon waits on fd() and calls process().

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "format/result.h"
#include "format/unique_fd.h"
#include "recorder/daemon/control_protocol.h"

namespace traceloop::daemon {

// Replies this short are never refused as "busy"; longer errors are cut.
inline constexpr size_t kShortReplyBytes = 4096;

struct ControlServerOptions {
  std::filesystem::path socket_path;
  std::optional<gid_t> group;  // members may connect too (besides root)
  size_t max_connections = 64;
  std::chrono::milliseconds request_timeout{2000};
  size_t max_pending_reply_bytes = 64u << 20;
  std::chrono::milliseconds reply_stall_timeout{5000};
};

class ControlServer {
 public:
  using Handler = std::function<Reply(const Request&)>;

  // Replaces a stale socket at the path (only a socket: anything else there
  // is an error), binds, sets the mode, listens.
  static Result<ControlServer> create(const ControlServerOptions& options);
  ControlServer(ControlServer&&) noexcept = default;
  ControlServer& operator=(ControlServer&&) noexcept = default;
  ~ControlServer();

  // Readable when a client connects, sends, or can take more of its reply.
  int fd() const { return epoll_.get(); }
  // Accepts, reads, answers and sends what the clients' sockets take, never
  // waiting for a client; drops connections past their request timeout or
  // reply stall timeout. Call it also now and then when fd() is quiet (the
  // daemon's periodic drain does): timeouts are noticed here.
  void process(const Handler& handler);

  size_t connection_count() const { return connections_.size(); }
  uint64_t refused_peers() const { return refused_; }
  // Reply bytes held for clients (whole replies, until the kernel took all).
  size_t pending_reply_bytes() const { return pending_reply_bytes_; }
  // Clients dropped for not reading their reply.
  uint64_t stalled_clients() const { return stalled_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Connection {
    UniqueFd fd;
    std::string request;  // bytes read so far
    Clock::time_point since;
    bool refused = false;  // SO_PEERCRED said no: the only answer is an error
    // Once answered: the reply, how much of it the kernel took, and when the
    // client last consumed any of it (queued = the socket's unread bytes).
    bool answering = false;
    std::string reply;
    size_t sent = 0;
    UniqueFd file;  // sent after `reply`, from file_sent up to file_bytes
    uint64_t file_bytes = 0;
    uint64_t file_sent = 0;
    Clock::time_point progress;
    int queued = 0;
  };
  ControlServer() = default;
  void accept_all();
  void read_from(int fd, const Handler& handler);
  // Queues the reply (within the bounds) and sends what the socket takes.
  void answer(int fd, Reply reply);
  // Sends until the socket is full; closes once the kernel has all of it.
  void flush(int fd);
  void close_connection(int fd);
  bool peer_allowed(int fd) const;

  ControlServerOptions options_;
  UniqueFd listen_;
  UniqueFd epoll_;
  std::map<int, Connection> connections_;
  uint64_t refused_ = 0;
  uint64_t stalled_ = 0;
  size_t pending_reply_bytes_ = 0;
};

}  // namespace traceloop::daemon
