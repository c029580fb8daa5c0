#pragma once
// The daemon's side of the control socket: a Unix stream socket (mode 0600,
// or 0660 with a configured group), peers checked with SO_PEERCRED, requests
// bounded in size and time, non-blocking so that a slow or hostile client
// never stalls the recording. The server keeps its own epoll set; the daemon
// waits on fd() and calls process().

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

struct ControlServerOptions {
  std::filesystem::path socket_path;
  std::optional<gid_t> group;  // members may connect too (besides root)
  size_t max_connections = 64;
  std::chrono::milliseconds request_timeout{2000};
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

  // Readable when a client connects or sends.
  int fd() const { return epoll_.get(); }
  // Accepts, reads and answers without blocking; drops connections that
  // exceeded the request timeout.
  void process(const Handler& handler);

  size_t connection_count() const { return connections_.size(); }
  uint64_t refused_peers() const { return refused_; }

 private:
  struct Connection {
    UniqueFd fd;
    std::string buffer;
    std::chrono::steady_clock::time_point since;
    bool refused = false;  // SO_PEERCRED said no: the only answer is an error
  };
  ControlServer() = default;
  void accept_all();
  void read_from(int fd, const Handler& handler);
  void reply_and_close(int fd, const Reply& reply);
  bool peer_allowed(int fd) const;

  ControlServerOptions options_;
  UniqueFd listen_;
  UniqueFd epoll_;
  std::map<int, Connection> connections_;
  uint64_t refused_ = 0;
};

}  // namespace traceloop::daemon
