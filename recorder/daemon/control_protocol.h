#pragma once
// The control socket's protocol, shared by the daemon and the client
// commands. One request per connection: a single line of at most
// kMaxRequestBytes, "VERB [ARG...]\n", tokens separated by single spaces.
// The reply is "ok\n" followed by the body, or "error MESSAGE\n"; the server
// closes the connection after it.
//
//   list                 body: one line per container, fields separated by tabs:
//                        NODE NAMESPACE POD CONTAINER CONTAINERID STATE EVENTS FILE
//   snapshot ID          body: the path of the snapshot written in DIR
//   show ID              body: the path to render (saved trace or fresh snapshot)
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

namespace traceloop::daemon {

inline constexpr size_t kMaxRequestBytes = 4096;
inline constexpr size_t kMaxReplyBytes = 16u << 20;

enum class Verb { list, snapshot, show, remove, stop, select };

struct Request {
  Request() = default;
  Request(Verb verb_in, std::string id_in, std::vector<std::string> words_in = {})
      : verb(verb_in), id(std::move(id_in)), words(std::move(words_in)) {}
  Verb verb = Verb::list;
  std::string id;                  // snapshot, show, delete
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
};

inline Reply ok_reply(std::string body = {}) { return Reply{true, {}, std::move(body)}; }
inline Reply error_reply(std::string message) { return Reply{false, std::move(message), {}}; }

std::string format_reply(const Reply& reply);
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
