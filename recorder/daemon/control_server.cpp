#include "recorder/daemon/control_server.h"

#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <sys/sendfile.h>
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

// Small sends keep the kernel's buffers in small pieces: SIOCOUTQ drops as
// a piece is read whole, so a client reading slowly shows its progress
// every few KiB rather than every large piece.
constexpr size_t kSendChunk = 4u << 10;
// What one process() call sends to one client at most: a fast reader is
// served over several passes rather than holding the loop.
constexpr size_t kSendPerPass = 1u << 20;
// Connections accepted per process() call at most; the rest wait for the next.
constexpr int kAcceptsPerPass = 128;
// Bytes of a request's tail read and dropped before closing: a socket closed
// with unread data resets the peer, which could then lose the reply.
constexpr size_t kMaxDrainBytes = 64u << 10;

// Bytes the peer has not consumed yet (-1: unknown).
int unread_by_peer(int fd) {
  int queued = 0;
  return ::ioctl(fd, SIOCOUTQ, &queued) == 0 ? queued : -1;
}

std::string formatted(const Reply& reply) {
  std::string bytes = format_reply(reply);
  if (!reply.ok && bytes.size() > kShortReplyBytes) {
    bytes.resize(kShortReplyBytes - 1);
    bytes.back() = '\n';
  }
  return bytes;
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
  for (int i = 0; i < kAcceptsPerPass; ++i) {
    int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;  // EAGAIN, or a transient error: the next wakeup retries
    UniqueFd conn(fd);
    if (connections_.size() >= options_.max_connections) {
      // A fresh socket's buffer takes this short line whole, without waiting.
      const std::string busy = formatted(error_reply("too many connections"));
      (void)!::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      continue;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) continue;
    // A refused peer is answered once its request is read: closing a socket
    // with unread data would reset it before the client sees the reason.
    Connection c;
    c.fd = std::move(conn);
    c.since = Clock::now();
    c.refused = !peer_allowed(fd);
    if (c.refused) ++refused_;
    connections_.emplace(fd, std::move(c));
  }
}

void ControlServer::close_connection(int fd) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  Connection& c = it->second;
  if (c.answering) pending_reply_bytes_ -= c.reply.size();
  // What the client sent after its request line, if anything, is read and
  // dropped (up to a bound): see kMaxDrainBytes.
  char sink[4096];
  for (size_t drained = 0; drained < kMaxDrainBytes;) {
    ssize_t n = ::recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    drained += static_cast<size_t>(n);
  }
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  connections_.erase(it);
}

void ControlServer::answer(int fd, Reply reply) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  Connection& c = it->second;
  std::string bytes = formatted(reply);
  if (reply.ok && reply.file) {
    c.file = std::move(reply.file);
    c.file_bytes = reply.file_bytes;
    c.file_sent = 0;
  }
  // The client refuses more than kMaxReplyBytes; the server holds no more.
  if (!c.file && bytes.size() > kMaxReplyBytes)
    bytes = formatted(error_reply("reply too large (" + std::to_string(bytes.size()) + " bytes)"));
  if (bytes.size() > kShortReplyBytes && pending_reply_bytes_ + bytes.size() > options_.max_pending_reply_bytes) {
    c.file.reset();
    bytes = formatted(error_reply("busy: other clients are still reading " + std::to_string(pending_reply_bytes_) +
                                  " bytes of replies, retry later"));
  }
  c.answering = true;
  c.reply = std::move(bytes);
  c.sent = 0;
  c.progress = Clock::now();
  c.queued = 0;
  c.request.clear();
  c.request.shrink_to_fit();
  pending_reply_bytes_ += c.reply.size();
  // From now on the socket matters only when it can take more: the
  // client's end of the request (its shutdown) must not wake the loop.
  epoll_event ev{};
  ev.events = EPOLLOUT;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) != 0) {
    close_connection(fd);
    return;
  }
  flush(fd);
}

void ControlServer::flush(int fd) {
  auto it = connections_.find(fd);
  if (it == connections_.end() || !it->second.answering) return;
  Connection& c = it->second;
  size_t this_pass = 0;
  const auto remaining = [&c] { return c.reply.size() - c.sent + (c.file ? c.file_bytes - c.file_sent : 0); };
  while (remaining() > 0 && this_pass < kSendPerPass) {
    ssize_t n = 0;
    if (c.sent < c.reply.size()) {
      const size_t len = std::min(kSendChunk, c.reply.size() - c.sent);
      n = ::send(fd, c.reply.data() + c.sent, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } else {
      auto offset = static_cast<off_t>(c.file_sent);
      n = ::sendfile(fd, c.file.get(), &offset, std::min<uint64_t>(kSendChunk, c.file_bytes - c.file_sent));
      // A file that shrank under us cannot give what the header promised:
      // the client, counting bytes, sees the reply cut short.
      if (n == 0) {
        close_connection(fd);
        return;
      }
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) {  // the client went away
      close_connection(fd);
      return;
    }
    if (c.sent < c.reply.size()) c.sent += static_cast<size_t>(n);
    else c.file_sent += static_cast<uint64_t>(n);
    this_pass += static_cast<size_t>(n);
  }
  if (this_pass > 0) {
    c.progress = Clock::now();
    c.queued = unread_by_peer(fd);
  }
  // All in the kernel: the client reads the rest from there after the close.
  if (remaining() == 0) close_connection(fd);
}

void ControlServer::read_from(int fd, const Handler& handler) {
  auto it = connections_.find(fd);
  if (it == connections_.end() || it->second.answering) return;
  Connection& c = it->second;
  char chunk[1024];
  for (;;) {
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // wait for more
    if (n <= 0) {
      // Closed before a complete line: nothing to answer.
      if (c.request.find('\n') == std::string::npos) {
        close_connection(fd);
        return;
      }
      break;
    }
    c.request.append(chunk, static_cast<size_t>(n));
    if (c.request.find('\n') != std::string::npos) break;
    if (c.request.size() >= kMaxRequestBytes) {
      answer(fd, error_reply("request too long"));
      return;
    }
  }
  size_t nl = c.request.find('\n');
  if (nl >= kMaxRequestBytes) {
    answer(fd, error_reply("request too long"));
    return;
  }
  if (c.refused) {
    answer(fd, error_reply("permission denied (root or the daemon's group only)"));
    return;
  }
  auto request = parse_request(std::string_view(c.request).substr(0, nl));
  if (!request.ok()) {
    answer(fd, error_reply(request.error().message));
    return;
  }
  Reply reply;
  try {
    reply = handler(*request);
  } catch (const std::exception& e) {
    // One failed request must not take the recorder down.
    reply = error_reply(e.what());
  }
  answer(fd, std::move(reply));
}

void ControlServer::process(const Handler& handler) {
  epoll_event events[16];
  int n = ::epoll_wait(epoll_.get(), events, 16, 0);
  for (int i = 0; i < n; ++i) {
    // What a socket's state means is decided by the recv or send it leads
    // to, never by the event's bits: an event may also be for a connection
    // closed earlier in this batch whose number was reused since.
    int fd = events[i].data.fd;
    if (fd == listen_.get()) {
      accept_all();
      continue;
    }
    auto it = connections_.find(fd);
    if (it == connections_.end()) continue;
    if (it->second.answering) flush(fd);
    else read_from(fd, handler);
  }
  const auto now = Clock::now();
  std::vector<int> timed_out, stalled;
  for (auto& [fd, c] : connections_) {
    if (!c.answering) {
      if (now - c.since > options_.request_timeout) timed_out.push_back(fd);
      continue;
    }
    // The client consumed some of what the kernel holds for it.
    const int queued = unread_by_peer(fd);
    if (queued >= 0 && queued < c.queued) c.progress = now;
    c.queued = queued;
    if (now - c.progress > options_.reply_stall_timeout) stalled.push_back(fd);
  }
  for (int fd : timed_out) answer(fd, error_reply("request timed out"));
  stalled_ += stalled.size();
  for (int fd : stalled) close_connection(fd);
}

}  // namespace traceloop::daemon
