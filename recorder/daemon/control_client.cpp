#include "recorder/daemon/control_client.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <span>

#include "format/unique_fd.h"

namespace traceloop::daemon {

namespace {

// Receives into `chunk`; 0 at the end of the reply.
Result<size_t> receive(int fd, std::span<char> chunk, const std::string& path) {
  for (;;) {
    ssize_t n = ::recv(fd, chunk.data(), chunk.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{path + ": reading the reply: " + std::strerror(errno)};
    return static_cast<size_t>(n);
  }
}

Result<UniqueFd> connect_and_send(const std::filesystem::path& socket_path, std::string_view bytes) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = socket_path.string();
  if (path.size() >= sizeof(addr.sun_path)) return Error{"control socket path too long: " + path};
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return errno_error("socket");
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
  return fd;
}

// Reads the reply's header line, then hands each piece of the body to
// `body` (the first may come with the header). Checks the body's length.
Result<Reply> read_reply(int fd, const std::string& path,
                         const std::function<Result<void>(std::string_view)>& body) {
  std::string head;
  char chunk[65536];
  size_t nl = std::string::npos;
  while (nl == std::string::npos) {
    auto n = receive(fd, chunk, path);
    if (!n.ok()) return n.error();
    if (*n == 0) return Error{path + ": truncated reply from the daemon"};
    head.append(chunk, *n);
    nl = head.find('\n');
    if (nl == std::string::npos && head.size() > kMaxReplyHeaderBytes)
      return Error{path + ": malformed reply from the daemon"};
  }
  auto header = parse_reply_header(std::string_view(head).substr(0, nl));
  if (!header.ok()) return Error{path + ": " + header.error().message};
  if (!header->ok) return error_reply(header->error);
  uint64_t received = 0;
  const auto take = [&](std::string_view piece) -> Result<void> {
    if (piece.empty()) return {};
    received += piece.size();
    if (received > header->body_bytes) return Error{path + ": the daemon sent more than its reply's length"};
    return body(piece);
  };
  if (auto r = take(std::string_view(head).substr(nl + 1)); !r) return r.error();
  for (;;) {
    auto n = receive(fd, chunk, path);
    if (!n.ok()) return n.error();
    if (*n == 0) break;
    if (auto r = take(std::string_view(chunk, *n)); !r) return r.error();
  }
  if (received != header->body_bytes)
    return Error{path + ": reply from the daemon cut short: " + std::to_string(received) + " of " +
                 std::to_string(header->body_bytes) + " bytes"};
  return ok_reply();
}

}  // namespace

Result<Reply> send_raw_request(const std::filesystem::path& socket_path, std::string_view bytes) {
  auto fd = connect_and_send(socket_path, bytes);
  if (!fd.ok()) return fd.error();
  std::string body;
  const std::string path = socket_path.string();
  auto reply = read_reply(fd->get(), path, [&](std::string_view piece) -> Result<void> {
    if (body.size() + piece.size() > kMaxReplyBytes) return Error{path + ": reply too large"};
    body.append(piece);
    return {};
  });
  if (reply.ok() && reply->ok) reply->body = std::move(body);
  return reply;
}

Result<Reply> send_request(const std::filesystem::path& socket_path, const Request& request) {
  auto line = format_request(request);
  if (!line) return line.error();
  return send_raw_request(socket_path, *line);
}

Result<Reply> send_request_to(const std::filesystem::path& socket_path, const Request& request, const BodySink& sink) {
  auto line = format_request(request);
  if (!line) return line.error();
  auto fd = connect_and_send(socket_path, *line);
  if (!fd.ok()) return fd.error();
  return read_reply(fd->get(), socket_path.string(), sink);
}

}  // namespace traceloop::daemon
