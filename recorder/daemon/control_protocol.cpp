#include "recorder/daemon/control_protocol.h"

#include <charconv>

#include "format/utf8.h"

namespace traceloop::daemon {

namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t end = text.find(sep, start);
    out.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

bool printable_token(std::string_view t) {
  if (t.empty() || t.size() > 256) return false;
  for (char c : t)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  return true;
}

// Fields of a list row travel tab-separated and end up on a terminal:
// whatever a container chose as its pod name must not be able to add columns
// or rows, nor send the terminal commands. Controls (C0, DEL, C1) and bytes
// that are not UTF-8 become '?'; other text stays as it is.
std::string field(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    const size_t n = c >= 0x80 ? format::utf8_length(text, i) : 0;
    if (n > 0 && !format::is_c1_control(text, i, n)) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out.push_back('?');
      i += n > 0 ? n : 1;
    }
  }
  return out.empty() ? "-" : out;
}

}  // namespace

Result<Request> parse_request(std::string_view line) {
  if (line.size() >= kMaxRequestBytes) return Error{"request too long"};
  auto tokens = split(line, ' ');
  for (auto t : tokens)
    if (!printable_token(t)) return Error{"malformed request"};
  Request r;
  std::string_view verb = tokens[0];
  size_t want_args = 0;
  if (verb == "list") r.verb = Verb::list;
  else if (verb == "stop") r.verb = Verb::stop;
  else if (verb == "snapshot") r.verb = Verb::snapshot, want_args = 1;
  else if (verb == "fetch") r.verb = Verb::fetch, want_args = 1;
  else if (verb == "delete") r.verb = Verb::remove, want_args = 1;
  else if (verb == "select") {
    r.verb = Verb::select;
    if (tokens.size() > kMaxSelectWords + 1) return Error{"too many selection words"};
    for (size_t i = 1; i < tokens.size(); ++i) r.words.emplace_back(tokens[i]);
    return r;
  } else return Error{"unknown command"};
  if (tokens.size() != want_args + 1) return Error{"wrong number of arguments"};
  if (want_args == 1) r.id = std::string(tokens[1]);
  return r;
}

Result<std::string> format_request(const Request& request) {
  const char* verb = "list";
  switch (request.verb) {
    case Verb::list: return std::string("list\n");
    case Verb::stop: return std::string("stop\n");
    case Verb::snapshot: verb = "snapshot"; break;
    case Verb::fetch: verb = "fetch"; break;
    case Verb::remove: verb = "delete"; break;
    case Verb::select: {
      if (request.words.size() > kMaxSelectWords) return Error{"too many selection words"};
      std::string line = "select";
      for (const auto& w : request.words) {
        if (!printable_token(w)) return Error{"'" + field(w) + "' cannot be sent (spaces or controls)"};
        line += " " + w;
      }
      if (line.size() >= kMaxRequestBytes) return Error{"selection too long"};
      return line + "\n";
    }
  }
  if (!printable_token(request.id)) return Error{"'" + field(request.id) + "' is not a container id"};
  return std::string(verb) + " " + request.id + "\n";
}

std::string format_reply(const Reply& reply) {
  if (reply.ok && reply.file) return "ok " + std::to_string(reply.file_bytes) + "\n";
  if (reply.ok) return "ok " + std::to_string(reply.body.size()) + "\n" + reply.body;
  std::string msg;
  for (char c : reply.error) msg.push_back(c == '\n' || c == '\r' ? ' ' : c);
  return "error " + msg + "\n";
}

Result<ReplyHeader> parse_reply_header(std::string_view line) {
  ReplyHeader header;
  if (line.rfind("error ", 0) == 0) {
    header.error = std::string(line.substr(6));
    return header;
  }
  if (line.rfind("ok ", 0) != 0) return Error{"malformed reply from the daemon"};
  const std::string_view digits = line.substr(3);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), header.body_bytes);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
    return Error{"malformed reply from the daemon"};
  header.ok = true;
  return header;
}

Result<Reply> parse_reply(std::string_view bytes) {
  size_t nl = bytes.find('\n');
  if (nl == std::string_view::npos) return Error{"truncated reply from the daemon"};
  auto header = parse_reply_header(bytes.substr(0, nl));
  if (!header.ok()) return header.error();
  if (!header->ok) return error_reply(header->error);
  const std::string_view body = bytes.substr(nl + 1);
  if (header->body_bytes > kMaxReplyBytes) return Error{"reply too large"};
  if (body.size() != header->body_bytes)
    return Error{"reply from the daemon cut short: " + std::to_string(body.size()) + " of " +
                 std::to_string(header->body_bytes) + " bytes"};
  return ok_reply(std::string(body));
}

std::string format_list_row(const ListRow& row) {
  return field(row.node) + '\t' + field(row.pod_namespace) + '\t' + field(row.pod) + '\t' + field(row.container) +
         '\t' + field(row.id) + '\t' + field(row.state) + '\t' + std::to_string(row.events) + '\t' + field(row.file) +
         '\n';
}

Result<ListRow> parse_list_row(std::string_view line) {
  auto f = split(line, '\t');
  if (f.size() != 8) return Error{"malformed list row from the daemon"};
  ListRow row{std::string(f[0]), std::string(f[1]), std::string(f[2]), std::string(f[3]),
              std::string(f[4]), std::string(f[5]), 0, std::string(f[7])};
  auto [end, ec] = std::from_chars(f[6].data(), f[6].data() + f[6].size(), row.events);
  if (ec != std::errc() || end != f[6].data() + f[6].size()) return Error{"malformed list row from the daemon"};
  return row;
}

}  // namespace traceloop::daemon
