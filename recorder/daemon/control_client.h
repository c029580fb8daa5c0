#pragma once
// The client side of the control socket (list, show, snapshot, delete, stop).

#include <filesystem>

#include "format/result.h"
#include "recorder/daemon/control_protocol.h"

namespace traceloop::daemon {

// Sends one request and reads the whole reply (bounded by kMaxReplyBytes).
// A connection failure names the socket and hints at the daemon not running.
Result<Reply> send_request(const std::filesystem::path& socket_path, const Request& request);
// Sends raw bytes as the request (tests of the server's defences).
Result<Reply> send_raw_request(const std::filesystem::path& socket_path, std::string_view bytes);

}  // namespace traceloop::daemon
