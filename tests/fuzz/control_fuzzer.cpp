// libFuzzer target: the control socket's parsers. The input is what a client
// sends (a request line) or what the daemon answers (a reply, list rows);
// both sides are checked to agree with their formatters: what parses formats
// back into a line that parses to the same thing.

#include <cstdint>
#include <string>

#include "recorder/daemon/control_protocol.h"
#include "recorder/daemon/control_requests.h"
#include "recorder/daemon/selection.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace traceloop;
using namespace traceloop::daemon;

bool same(const Request& a, const Request& b) { return a.verb == b.verb && a.id == b.id && a.words == b.words; }

void request(std::string_view line) {
  auto parsed = parse_request(line);
  if (!parsed) return;
  auto formatted = format_request(*parsed);
  if (!formatted) __builtin_trap();  // a parsed request must be sendable
  const std::string& text = *formatted;
  if (text.empty() || text.back() != '\n') __builtin_trap();
  auto again = parse_request(std::string_view(text).substr(0, text.size() - 1));
  if (!again || !same(*parsed, *again)) __builtin_trap();
  if (parsed->verb == Verb::select) {
    auto change = parse_select(parsed->words);
    if (change && change->selection) {
      const Selection& selection = *change->selection;
      // The daemon keeps the selection as words (saved, listed): they read back.
      auto back = parse_selection_words(selection_words(selection));
      if (!back || !(*back == selection)) __builtin_trap();
      format::ContainerInfo info;
      info.name = info.container_name = "web";
      info.pod_namespace = "default";
      info.image = "docker.io/library/busybox:latest";
      info.labels = {{"app", "demo"}};
      volatile bool sink = selection.matches(info) && !describe(selection).empty();
      (void)sink;
    }
  }
}

void reply(std::string_view bytes) {
  auto parsed = parse_reply(bytes);
  if (!parsed) return;
  if (!parsed->ok) return;
  // The body of `list`: one row a line.
  std::string_view body = parsed->body;
  while (!body.empty()) {
    const size_t nl = body.find('\n');
    const std::string_view line = body.substr(0, nl);
    if (auto row = parse_list_row(line); row.ok()) {
      // Rows are formatted with every field made safe: a formatted row reads back.
      const std::string again = format_list_row(*row);
      auto back = parse_list_row(std::string_view(again).substr(0, again.size() - 1));
      if (!back || back->events != row->events) __builtin_trap();
    }
    if (nl == std::string_view::npos) break;
    body.remove_prefix(nl + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = fuzz::as_text(data, size);
  const size_t nl = input.find('\n');
  request(input.substr(0, nl));
  reply(input);
  return 0;
}
