#pragma once
// The control socket's protocol, shared by the daemon and the client
// commands. One request per connection: a single line of at most
// kMaxRequestBytes, "VERB [ARG...]\n", tokens separated by single spaces.
// The reply is "ok LENGTH\n" followed by a body of exactly LENGTH bytes, or
// "error MESSAGE\n"; the server closes the connection after it. The length
// lets a client tell a whole reply from one cut short.
//
//   list                 body: one line per container, fields separated by tabs:
//                        NODE NAMESPACE POD CONTAINER CONTAINERID STATE EVENTS FILE
//   snapshot ID          body: the path of the snapshot written in DIR
//   fetch ID             body: the trace's bytes (the saved trace, or a fresh
//                        snapshot of a running container), for clients that
//                        do not share the daemon's filesystem; not bounded by
//                        kMaxReplyBytes: the client streams it to a file
//   delete ID            body: empty
//   stop                 body: empty; the daemon saves every history and exits
//   select [WORD...]     changes what is recorded, from now on: selection words
//                        (namespace=NS pod=POD container=NAME label=K=V image=IMG,
//                        all replacing the selection; "every" chooses every
//                        container) and syscalls=NAME,NAME or syscalls=all
//                        (replacing the syscall filters); no word changes
//                        nothing. body: "containers: ...\nsyscalls: ...\n"

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "format/result.h"
#include "format/unique_fd.h"

namespace traceloop::daemon {

inline constexpr size_t kMaxRequestBytes = 4096;
inline constexpr size_t kMaxReplyBytes = 16u << 20;

enum class Verb { list, snapshot, fetch, remove, stop, select };

struct Request {
  Request() = default;
  Request(Verb verb_in, std::string id_in, std::vector<std::string> words_in = {})
      : verb(verb_in), id(std::move(id_in)), words(std::move(words_in)) {}
  Verb verb = Verb::list;
  std::string id;                  // snapshot, fetch, delete
  std::vector<std::string> words;  // select
};

inline constexpr size_t kMaxSelectWords = 64;

// Parses one request line (without its newline). Errors are meant for the reply.
Result<Request> parse_request(std::string_view line);
// The request line; refused when the ID holds a byte that could end it or
// start another request (controls, spaces), or is empty or too long.
Result<std::string> format_request(const Request& request);

struct Reply {
  bool ok = false;
  std::string error;  // when !ok
  std::string body;   // when ok
  // When ok and open: the body is this file's first `file_bytes` bytes
  // instead, sent from the file as the client reads (`body` is unused).
  UniqueFd file;
  uint64_t file_bytes = 0;
};

inline Reply ok_reply(std::string body = {}) {
  Reply r;
  r.ok = true;
  r.body = std::move(body);
  return r;
}
inline Reply error_reply(std::string message) {
  Reply r;
  r.error = std::move(message);
  return r;
}
inline Reply file_reply(UniqueFd file, uint64_t bytes) {
  Reply r;
  r.ok = true;
  r.file = std::move(file);
  r.file_bytes = bytes;
  return r;
}

// The whole reply, or for a file reply its header line alone.
std::string format_reply(const Reply& reply);

// The first line of a reply: an error, or the length of the body that follows.
struct ReplyHeader {
  bool ok = false;
  std::string error;
  uint64_t body_bytes = 0;
};
inline constexpr size_t kMaxReplyHeaderBytes = 8192;
Result<ReplyHeader> parse_reply_header(std::string_view line);
// A whole reply held in memory (its body within kMaxReplyBytes).
Result<Reply> parse_reply(std::string_view bytes);

// One row of `list`.
struct ListRow {
  std::string node, pod_namespace, pod, container, id, state;
  uint64_t events = 0;
  std::string file;
};
std::string format_list_row(const ListRow& row);
Result<ListRow> parse_list_row(std::string_view line);

}  // namespace traceloop::daemon
