#pragma once
// The client side of the control socket (list, show, snapshot, delete, stop).

#include <filesystem>
#include <functional>
#include <string_view>

#include "format/result.h"
#include "recorder/daemon/control_protocol.h"

namespace traceloop::daemon {

// Sends one request and reads the whole reply (bounded by kMaxReplyBytes).
// A connection failure names the socket and hints at the daemon not running.
Result<Reply> send_request(const std::filesystem::path& socket_path, const Request& request);
// Sends raw bytes as the request (tests of the server's defences).
Result<Reply> send_raw_request(const std::filesystem::path& socket_path, std::string_view bytes);

// Sends one request and hands the reply's body to `sink` piece by piece as
// it arrives, with no bound (a trace's bytes: `fetch`). The reply returned
// has no body; an error reply hands nothing. A body cut short is an error,
// after what came of it was handed over; so is the sink's first error.
using BodySink = std::function<Result<void>(std::string_view piece)>;
Result<Reply> send_request_to(const std::filesystem::path& socket_path, const Request& request, const BodySink& sink);

}  // namespace traceloop::daemon
