#include "recorder/daemon/control_server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace traceloop::daemon {

namespace {

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

void send_all_bounded(int fd, std::string_view bytes) {
  // The connection is non-blocking for reads; a reply may block briefly but
  // never longer than the send timeout set at accept.
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

Result<ControlServer> ControlServer::create(const ControlServerOptions& options) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = options.socket_path.string();
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) return Error{"control socket path too long: " + path};
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return Error{path + ": exists and is not a socket"};
    ::unlink(path.c_str());
  }
  ControlServer server;
  server.options_ = options;
  server.listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!server.listen_) return Error{errno_text("control socket")};
  // Created with no permissions for anyone but the owner from the start: no
  // window in which another user could connect before the chmod.
  mode_t old = ::umask(0177);
  int rc = ::bind(server.listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::umask(old);
  if (rc != 0) return Error{errno_text(("binding " + path).c_str())};
  if (options.group) {
    if (::chown(path.c_str(), 0, *options.group) != 0 || ::chmod(path.c_str(), 0660) != 0)
      return Error{errno_text(("setting the group of " + path).c_str())};
  } else if (::chmod(path.c_str(), 0600) != 0) {
    return Error{errno_text(("chmod " + path).c_str())};
  }
  if (::listen(server.listen_.get(), 64) != 0) return Error{errno_text("listen")};
  server.epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!server.epoll_) return Error{errno_text("epoll")};
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = server.listen_.get();
  if (::epoll_ctl(server.epoll_.get(), EPOLL_CTL_ADD, server.listen_.get(), &ev) != 0) return Error{errno_text("epoll_ctl")};
  return server;
}

ControlServer::~ControlServer() {
  if (listen_) ::unlink(options_.socket_path.c_str());
}

bool ControlServer::peer_allowed(int fd) const {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
  if (cred.uid == 0) return true;
  if (!options_.group) return false;
  if (cred.gid == *options_.group) return true;
  // Supplementary groups, as the peer had them when it connected.
  std::vector<gid_t> groups(64);
  for (int attempt = 0; attempt < 2; ++attempt) {
    socklen_t bytes = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &bytes) == 0) {
      groups.resize(bytes / sizeof(gid_t));
      return std::find(groups.begin(), groups.end(), *options_.group) != groups.end();
    }
    if (errno != ERANGE) return false;
    groups.resize(bytes / sizeof(gid_t) + 1);  // the kernel said how many
  }
  return false;
}

void ControlServer::accept_all() {
  for (;;) {
    int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;  // EAGAIN, or a transient error: the next wakeup retries
    UniqueFd conn(fd);
    if (connections_.size() >= options_.max_connections) {
      send_all_bounded(fd, format_reply(error_reply("too many connections")));
      continue;
    }
    timeval tv{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) continue;
    // A refused peer is answered once its request is read: closing a socket
    // with unread data would reset it before the client sees the reason.
    bool refused = !peer_allowed(fd);
    if (refused) ++refused_;
    connections_.emplace(fd, Connection{std::move(conn), {}, std::chrono::steady_clock::now(), refused});
  }
}

void ControlServer::reply_and_close(int fd, const Reply& reply) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  // Blocking from here on, bounded by SO_SNDTIMEO: a reply larger than the
  // socket buffer still gets out to a client that reads.
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  send_all_bounded(fd, format_reply(reply));
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  connections_.erase(it);
}

void ControlServer::read_from(int fd, const Handler& handler) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  Connection& c = it->second;
  char chunk[1024];
  for (;;) {
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // wait for more
    if (n <= 0) {
      // Closed before a complete line: nothing to answer.
      if (c.buffer.find('\n') == std::string::npos) {
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
        connections_.erase(it);
        return;
      }
      break;
    }
    c.buffer.append(chunk, static_cast<size_t>(n));
    if (c.buffer.find('\n') != std::string::npos) break;
    if (c.buffer.size() >= kMaxRequestBytes) {
      reply_and_close(fd, error_reply("request too long"));
      return;
    }
  }
  size_t nl = c.buffer.find('\n');
  if (nl >= kMaxRequestBytes) {
    reply_and_close(fd, error_reply("request too long"));
    return;
  }
  if (c.refused) {
    reply_and_close(fd, error_reply("permission denied (root or the daemon's group only)"));
    return;
  }
  auto request = parse_request(std::string_view(c.buffer).substr(0, nl));
  if (!request.ok()) {
    reply_and_close(fd, error_reply(request.error().message));
    return;
  }
  Reply reply;
  try {
    reply = handler(*request);
  } catch (const std::exception& e) {
    // One failed request must not take the recorder down.
    reply = error_reply(e.what());
  }
  reply_and_close(fd, reply);
}

void ControlServer::process(const Handler& handler) {
  epoll_event events[16];
  int n = ::epoll_wait(epoll_.get(), events, 16, 0);
  for (int i = 0; i < n; ++i) {
    int fd = events[i].data.fd;
    if (fd == listen_.get()) accept_all();
    else read_from(fd, handler);
  }
  auto now = std::chrono::steady_clock::now();
  std::vector<int> expired;
  for (const auto& [fd, c] : connections_)
    if (now - c.since > options_.request_timeout) expired.push_back(fd);
  for (int fd : expired) reply_and_close(fd, error_reply("request timed out"));
}

}  // namespace traceloop::daemon
