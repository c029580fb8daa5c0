#include "recorder/daemon/control_client.h"
#include "format/unique_fd.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>


namespace traceloop::daemon {

Result<Reply> send_raw_request(const std::filesystem::path& socket_path, std::string_view bytes) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = socket_path.string();
  if (path.size() >= sizeof(addr.sun_path)) return Error{"control socket path too long: " + path};
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error{std::string("socket: ") + std::strerror(errno)};
  timeval tv{30, 0};  // a snapshot of a large history takes a moment, not forever
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    return Error{path + ": " + std::strerror(errno) + " (is traceloop-record daemon running?)"};
  while (!bytes.empty()) {
    ssize_t n = ::send(fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the server may answer (and close) before reading it all
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  ::shutdown(fd.get(), SHUT_WR);
  std::string reply;
  char chunk[65536];
  for (;;) {
    ssize_t n = ::recv(fd.get(), chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{path + ": reading the reply: " + std::strerror(errno)};
    if (n == 0) break;
    reply.append(chunk, static_cast<size_t>(n));
    if (reply.size() > kMaxReplyBytes) return Error{path + ": reply too large"};
  }
  return parse_reply(reply);
}

Result<Reply> send_request(const std::filesystem::path& socket_path, const Request& request) {
  auto line = format_request(request);
  if (!line) return line.error();
  return send_raw_request(socket_path, *line);
}

}  // namespace traceloop::daemon
