#include "recorder/daemon_cli.h"

#include <grp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <utility>
#include <filesystem>
#include <iostream>

#include "bpf/traceloop_events.h"
#include "format/published_file.h"
#include "recorder/daemon/control_client.h"
#include "format/trace_reader.h"
#include "tools/lib/decoder/cli_no_abbrev.h"
#include "tools/lib/decoder/cli_options.h"
#include "tools/lib/decoder/merge_traces.h"
#include "tools/lib/decoder/json_string.h"
#include "tools/lib/decoder/show.h"

namespace traceloop::daemon {

namespace fs = std::filesystem;

namespace {

fs::path socket_of(const DaemonCliState& s) {
  return s.socket.empty() ? fs::path(s.dir) / "control.sock" : fs::path(s.socket);
}

void add_connection_options(CLI::App* cmd, DaemonCliState& s) {
  cmd->add_option("--dir", s.dir, "the daemon's directory")->default_val("/var/lib/traceloop")->type_name("DIR");
  cmd->add_option("--socket", s.socket, "control socket (default DIR/control.sock)")->type_name("PATH");
}

Result<std::optional<gid_t>> group_id(const std::string& name) {
  if (name.empty()) return std::optional<gid_t>();
  gid_t gid = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), gid);
  if (ec == std::errc() && end == name.data() + name.size()) return std::optional<gid_t>(gid);
  if (const group* g = ::getgrnam(name.c_str())) return std::optional<gid_t>(g->gr_gid);
  return Error{"unknown group " + name};
}

Selection selection_of(const DaemonCliState& s) {
  Selection selection;
  selection.namespaces = s.namespaces;
  selection.pods = s.pods;
  selection.containers = s.containers;
  selection.images = s.images;
  for (const auto& text : s.labels) selection.labels.push_back(value_or_throw(parse_label(text)));
  return selection;
}

void add_selection_options(CLI::App* cmd, DaemonCliState& s) {
  cmd->add_option("-n,--namespace", s.namespaces,
                  "record containers of these namespaces (Kubernetes, or containerd's); repeat or comma-separate")
      ->delimiter(',');
  cmd->add_option("-p,--pod", s.pods, "record containers of these pods")->delimiter(',');
  cmd->add_option("-c,--container", s.containers,
                  "record containers of these names (Docker's, Kubernetes', or the id under ctr)")
      ->delimiter(',');
  cmd->add_option("-l,--label", s.labels, "record containers with all these labels, KEY=VALUE")->delimiter(',');
  cmd->add_option("--image", s.images, "record containers of these images (busybox = docker.io/library/busybox:latest)")
      ->delimiter(',');
}

void add_host_root_option(CLI::App* cmd, DaemonCliState& s) {
  cmd->add_option("--host-root", s.host_root,
                  "where the host's / is mounted, for the runtimes' state (/run/...) and the engines' records "
                  "(/var/lib/docker, /var/lib/containerd): / unless the recorder runs in a container")
      ->default_val("/");
}

void add_capture_options(CLI::App* cmd, DaemonCliState& s) {
  recorder::add_trace_option(cmd, s.trace);
  cmd->add_option("--max-data", s.max_data, "bytes of data captured per argument")
      ->default_val(256)
      ->check(CLI::Range(0u, static_cast<unsigned>(TL_MAX_DATA_LIMIT)));
  cmd->add_flag("--no-data", s.no_data, "capture no data buffers or strings");
  recorder::add_timestamp_resolution_option(*cmd, s.timestamp_resolution_ns);
}

DaemonOptions recording_options(const DaemonCliState& s) {
  DaemonOptions o;
  o.budget_per_container = value_or_throw(parse_size(s.budget_per_container));
  o.budget_total = value_or_throw(parse_size(s.budget_total));
  o.syscall_filters = value_or_throw(recorder::trace_choice(s.trace, std::cerr));
  o.max_data = s.max_data;
  o.capture_data = !s.no_data;
  o.timestamp_resolution_ns = s.timestamp_resolution_ns;
  o.selection = selection_of(s);
  o.runtime_prefix = s.host_root;
  return o;
}

int run_daemon(const DaemonCliState& s, std::ostream& err) {
  DaemonOptions o = recording_options(s);
  o.dir = s.dir;
  o.socket_path = s.socket;
  o.host = s.host;
  o.node = s.node;
  o.group = value_or_throw(group_id(s.group));
  auto daemon = value_or_throw(Daemon::start(o));
  err << "traceloop-record daemon: recording " << describe(o.selection) << ", histories in " << o.dir.string()
      << "\n";
  value_or_throw(daemon->run());
  return 0;
}

// Ends with the daemon's reply, or nullopt and an error on `err`.
std::optional<Reply> ask(const DaemonCliState& s, const Request& request, std::ostream& err, int& status) {
  auto reply = send_request(socket_of(s), request);
  if (!reply.ok()) {
    err << "traceloop-record: " << reply.error().message << "\n";
    status = 2;
    return std::nullopt;
  }
  if (!reply->ok) {
    err << "traceloop-record: " << reply->error << "\n";
    status = 1;
    return std::nullopt;
  }
  return std::move(*reply);
}

// One object per row, in an array; "-" (no value) becomes "".
std::string list_json(const std::vector<ListRow>& rows) {
  std::string out = "[";
  const auto value = [](const std::string& v) { return tools::json_string(v == "-" ? std::string() : v); };
  for (size_t i = 0; i < rows.size(); ++i) {
    const ListRow& r = rows[i];
    out += i == 0 ? "\n  " : ",\n  ";
    out += "{\"node\":" + value(r.node) + ",\"namespace\":" + value(r.pod_namespace) + ",\"pod\":" + value(r.pod) +
           ",\"container\":" + value(r.container) + ",\"containerId\":" + value(r.id) + ",\"state\":" +
           value(r.state) + ",\"events\":" + std::to_string(r.events) + ",\"file\":" + value(r.file) + "}";
  }
  return out + (rows.empty() ? "]\n" : "\n]\n");
}

// list -n/-p/-c: rows of these namespaces, pods and container names only.
bool listed(const DaemonCliState& s, const ListRow& row) {
  const auto in = [](const std::vector<std::string>& wanted, const std::string& value) {
    return wanted.empty() || std::find(wanted.begin(), wanted.end(), value) != wanted.end();
  };
  return in(s.namespaces, row.pod_namespace) && in(s.pods, row.pod) && in(s.containers, row.container);
}

int run_list(const DaemonCliState& s, std::ostream& out, std::ostream& err) {
  if (s.list_format != "table" && s.list_format != "json" && s.list_format != "tsv") {
    err << "traceloop-record: unknown list format " << s.list_format << " (table, json, tsv)\n";
    return 2;
  }
  int status = 0;
  auto reply = ask(s, {Verb::list, ""}, err, status);
  if (!reply) return status;
  std::vector<ListRow> parsed;
  std::string_view body = reply->body;
  while (!body.empty()) {
    size_t nl = body.find('\n');
    auto row = parse_list_row(body.substr(0, nl));
    body.remove_prefix(nl == std::string_view::npos ? body.size() : nl + 1);
    if (!row.ok()) {
      err << "traceloop-record: " << row.error().message << "\n";
      return 2;
    }
    if (listed(s, *row)) parsed.push_back(std::move(*row));
  }
  if (s.list_format == "json") {
    out << list_json(parsed);
    return 0;
  }
  if (s.list_format == "tsv") {
    // As the daemon sends them: fields that hold no tab nor newline.
    if (!s.no_headers) out << "NODE\tNAMESPACE\tPOD\tCONTAINER\tCONTAINERID\tSTATE\tEVENTS\tFILE\n";
    for (const ListRow& row : parsed) out << format_list_row(row);
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  if (!s.no_headers) rows.push_back({"NODE", "NAMESPACE", "POD", "CONTAINER", "CONTAINERID", "STATE", "EVENTS", "FILE"});
  for (const ListRow& row : parsed)
    rows.push_back({row.node, row.pod_namespace, row.pod, row.container, row.id, row.state,
                    std::to_string(row.events), row.file});
  std::vector<size_t> width(8, 0);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
  return 0;
}

// A directory of the process's own, removed with what it holds.
class PrivateDir {
 public:
  static Result<PrivateDir> create() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/traceloop-watch.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) return errno_error("mkdtemp " + pattern);
    return PrivateDir(pattern);
  }
  PrivateDir(PrivateDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  PrivateDir& operator=(PrivateDir&&) = delete;
  ~PrivateDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  explicit PrivateDir(fs::path path) : path_(std::move(path)) {}
  fs::path path_;
};

// Ends like ask(), the trace's bytes handed to `sink` as they come.
int fetch(const DaemonCliState& s, const BodySink& sink, std::ostream& err) {
  auto reply = send_request_to(socket_of(s), {Verb::fetch, s.id}, sink);
  if (!reply.ok()) {
    err << "traceloop-record: " << reply.error().message << "\n";
    return 2;
  }
  if (!reply->ok) {
    err << "traceloop-record: " << reply->error << "\n";
    return 1;
  }
  return 0;
}

int run_snapshot(const DaemonCliState& s, std::ostream& out, std::ostream& err) {
  if (s.output.empty()) {
    int status = 0;
    auto reply = ask(s, {Verb::snapshot, s.id}, err, status);
    if (!reply) return status;
    out << reply->body.substr(0, reply->body.find('\n')) << "\n";
    return 0;
  }
  if (s.output == "-") {
    if (&out == &std::cout && ::isatty(STDOUT_FILENO)) {
      err << "traceloop-record: not writing a binary trace to a terminal: redirect it, or use show\n";
      return 2;
    }
    const int status = fetch(s, [&out](std::string_view piece) -> Result<void> {
      out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
      if (!out) return Error{"writing the trace to the standard output failed"};
      return {};
    }, err);
    out.flush();
    return status;
  }
  // Written by the client, with the client's rights: the daemon never
  // writes to a path a client chose.
  int status = 0;
  auto published = format::publish_written(s.output, 0600, [&](int fd) -> Result<void> {
    status = fetch(s, [&](std::string_view piece) { return format::write_all(fd, piece, s.output); }, err);
    if (status != 0) return Error{""};  // already said
    return {};
  });
  if (!published) {
    if (status == 0) {
      err << "traceloop-record: " << published.error().message << "\n";
      status = 2;
    }
    return status;
  }
  out << s.output << "\n";
  return 0;
}

// The trace comes through the socket into a private file, then renders as
// tl-show renders it.
int run_show_command(const DaemonCliState& s, std::ostream& out, std::ostream& err) {
  auto format = tools::output_format_from_name(s.show_format);
  if (!format) {
    err << "traceloop-record: unknown format " << s.show_format << " (table, strace, json, perfetto, html)\n";
    return 2;
  }
  PrivateDir dir = value_or_throw(PrivateDir::create());
  const fs::path path = dir.path() / "trace.tl";
  auto file = format::create_exclusive(path, path, 0600);
  if (!file) {
    err << "traceloop-record: " << file.error().message << "\n";
    return 2;
  }
  if (int status = fetch(s, [&](std::string_view piece) { return format::write_all(file->get(), piece, path); }, err);
      status != 0)
    return status;
  file->reset();
  tools::ShowOptions show;
  show.program = "traceloop-record show";
  show.path = path.string();
  show.render.format = *format;
  show.render.local_time = true;  // as tl-show
  show.render.color = (&out == &std::cout || s.color == "always") && tools::color_from_option(s.color, STDOUT_FILENO);
  show.show_setup = tools::setup_wanted(*s.show_cmd);
  show.info = s.info;
  show.filter = s.show_filter;
  show.strings_in_hex = tools::string_hex_from_count(s.show_hex);
  tools::warn_deprecated_filters(*s.show_cmd, err, "traceloop-record show");
  show.fd_paths = s.fd_paths.mode();
  show.no_abbrev = s.no_abbrev;
  show.render.timestamps = s.show_timestamps.mode();
  show.render.durations = s.show_durations;
  return tools::run_show(show, out, err);
}

// The histories a watch saved, oldest container first.
std::vector<fs::path> saved_histories(const fs::path& dir) {
  std::vector<std::pair<int64_t, fs::path>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path& p = entry.path();
    if (p.extension() != ".tl" || p.filename().string().find(".snapshot.") != std::string::npos) continue;
    auto reader = format::TraceReader::open(p);
    if (!reader.ok()) continue;
    const auto& containers = reader->metadata().containers;
    found.emplace_back(containers.empty() ? 0 : containers.front().started_wall_ns, p);
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> paths;
  for (auto& [started, p] : found) paths.push_back(std::move(p));
  return paths;
}

int run_watch(const DaemonCliState& s, std::ostream& out, std::ostream& err) {
  auto format = tools::output_format_from_name(s.show_format);
  if (!format) {
    err << "traceloop-record: unknown format " << s.show_format << " (table, strace, json, perfetto, html)\n";
    return 2;
  }
  PrivateDir dir = value_or_throw(PrivateDir::create());
  DaemonOptions o = recording_options(s);
  o.dir = dir.path();
  auto daemon = value_or_throw(Daemon::start(o));
  err << "traceloop-record watch: recording " << describe(o.selection)
      << ", running now or started later; Ctrl-C to stop and print\n";
  value_or_throw(daemon->run());
  daemon.reset();

  const std::vector<fs::path> histories = saved_histories(dir.path());
  if (histories.empty()) {
    err << "traceloop-record watch: no container matched " << describe(o.selection) << "\n";
    return 1;
  }
  fs::path trace = histories.front();
  if (histories.size() > 1) {
    trace = dir.path() / "watched.tl";
    value_or_throw(tools::merge_traces(histories, trace));
  }
  if (!s.output.empty()) {
    value_or_throw(format::publish_copy(trace, s.output, 0600));
    err << "traceloop-record watch: " << histories.size() << (histories.size() == 1 ? " container" : " containers")
        << " in " << s.output << "\n";
    return 0;
  }
  tools::ShowOptions show;
  show.program = "traceloop-record watch";
  show.path = trace.string();
  show.render.format = *format;
  show.filter = s.show_filter;
  show.strings_in_hex = tools::string_hex_from_count(s.show_hex);
  show.show_setup = tools::setup_wanted(*s.watch_cmd);
  return tools::run_show(show, out, err);
}

int run_select(const DaemonCliState& s, std::ostream& out, std::ostream& err) {
  Request request{Verb::select, "", {}};
  if (s.every) request.words.push_back("every");
  for (auto& word : selection_words(selection_of(s))) request.words.push_back(std::move(word));
  if (recorder::trace_option_given(s.trace)) {
    auto chosen = recorder::trace_choice(s.trace, err);
    if (!chosen.ok()) {
      err << "traceloop-record: " << chosen.error().message << "\n";
      return 2;
    }
    std::string list;
    for (const auto& piece : *chosen) list += (list.empty() ? "" : ",") + piece;
    request.words.push_back("syscalls=" + (list.empty() ? std::string("all") : list));
  }
  int status = 0;
  auto reply = ask(s, request, err, status);
  if (!reply) return status;
  out << reply->body;
  return 0;
}

}  // namespace

void add_daemon_commands(CLI::App& app, DaemonCliState& s) {
  auto* d = app.add_subcommand("daemon", "flight recorder for every container on the host");
  d->add_option("--dir", s.dir, "where histories are published and the control socket lives")
      ->default_val("/var/lib/traceloop")
      ->type_name("DIR");
  d->add_option("--socket", s.socket, "control socket (default DIR/control.sock)")->type_name("PATH");
  d->add_option("--budget-per-container", s.budget_per_container, "history kept per container (compressed), e.g. 4M")
      ->default_val("4M");
  d->add_option("--budget-total", s.budget_total, "history kept for all containers together")->default_val("256M");
  add_capture_options(d, s);
  add_selection_options(d, s);
  add_host_root_option(d, s);
  d->add_flag("--host", s.host, "also record processes outside containers (as container \"host\")");
  d->add_option("--group", s.group, "group allowed to use the control socket besides root");
  d->add_option("--node", s.node,
                "the node's name in list and in each trace (default: the host name; in a Kubernetes pod, pass the "
                "node's from the downward API)");
  s.daemon_cmd = d;

  auto* w = app.add_subcommand(
      "watch", "record the containers chosen, running now or started later, until Ctrl-C; then print their calls");
  add_selection_options(w, s);
  add_capture_options(w, s);
  add_host_root_option(w, s);
  w->add_option("--budget-per-container", s.budget_per_container, "history kept per container (compressed)")
      ->default_val("4M");
  w->add_option("-o,--output", s.output, "write the trace to FILE instead of printing it")->type_name("FILE");
  w->add_option("-f,--format", s.show_format, "table, strace, json, perfetto (trace-event JSON) or html")
      ->check(CLI::IsMember({"table", "strace", "json", "perfetto", "html"}))
      ->default_val("table");
  tools::add_setup_option(*w);
  // What is printed of what was recorded (-e trace= decides what is recorded).
  tools::add_filter_options(*w, s.show_filter, {.e = false, .trace = false, .container = false});
  tools::add_string_hex_option(*w, s.show_hex);
  s.watch_cmd = w;

  s.list_cmd = app.add_subcommand("list", "containers with a live history or a saved trace");
  add_connection_options(s.list_cmd, s);
  s.list_cmd->add_option("-o,--output", s.list_format,
                         "table, json (an array of objects) or tsv (tab-separated, for scripts)")
      ->check(CLI::IsMember({"table", "json", "tsv"}))
      ->default_val("table");
  s.list_cmd->add_flag("--no-headers", s.no_headers, "no header line (table, tsv)");
  s.list_cmd->add_option("-n,--namespace", s.namespaces, "only containers of these namespaces")->delimiter(',');
  s.list_cmd->add_option("-p,--pod", s.pods, "only containers of these pods")->delimiter(',');
  s.list_cmd->add_option("-c,--container", s.containers, "only containers of these names")->delimiter(',');
  s.show_cmd = app.add_subcommand("show", "render a container's history like tl-show (ID prefix accepted)");
  add_connection_options(s.show_cmd, s);
  s.show_cmd->add_option("id", s.id, "container id or unambiguous prefix")->required();
  s.show_cmd->add_option("-f,--format", s.show_format, "table, strace, json, perfetto (trace-event JSON) or html")
      ->check(CLI::IsMember({"table", "strace", "json", "perfetto", "html"}))
      ->default_val("table");
  tools::add_setup_option(*s.show_cmd);
  tools::add_info_option(*s.show_cmd, s.info);
  tools::add_no_abbrev_option(*s.show_cmd, s.no_abbrev, true);
  tools::add_color_option(*s.show_cmd, s.color);
  tools::add_filter_options(*s.show_cmd, s.show_filter);
  tools::add_string_hex_option(*s.show_cmd, s.show_hex);
  tools::add_fd_paths_option(*s.show_cmd, s.fd_paths);
  tools::add_timestamp_options(*s.show_cmd, s.show_timestamps, s.show_durations);
  s.snapshot_cmd = app.add_subcommand("snapshot", "save a running container's history without stopping it");
  add_connection_options(s.snapshot_cmd, s);
  s.snapshot_cmd->add_option("id", s.id, "container id or unambiguous prefix")->required();
  s.snapshot_cmd->add_option("-o,--output", s.output,
                             "write the trace to FILE, or to the standard output with -, through the control socket "
                             "(default: print the path of the snapshot written in DIR)")
      ->type_name("FILE");
  s.delete_cmd = app.add_subcommand("delete", "delete a saved trace");
  add_connection_options(s.delete_cmd, s);
  s.delete_cmd->add_option("id", s.id, "container id or unambiguous prefix")->required();
  s.select_cmd = app.add_subcommand(
      "select", "change what a running daemon records, from now on (no option: print what it records)");
  add_connection_options(s.select_cmd, s);
  add_selection_options(s.select_cmd, s);
  s.select_cmd->add_flag("--every", s.every, "record every container again");
  recorder::add_trace_option(s.select_cmd, s.trace);
  s.stop_cmd = app.add_subcommand("stop", "save every history and stop the daemon");
  add_connection_options(s.stop_cmd, s);
}

std::optional<int> run_daemon_commands(const DaemonCliState& s, std::ostream& out, std::ostream& err) {
  if (s.daemon_cmd && s.daemon_cmd->parsed()) return run_daemon(s, err);
  if (s.watch_cmd && s.watch_cmd->parsed()) return run_watch(s, out, err);
  if (s.list_cmd && s.list_cmd->parsed()) return run_list(s, out, err);
  if (s.select_cmd && s.select_cmd->parsed()) return run_select(s, out, err);
  if (s.show_cmd && s.show_cmd->parsed()) return run_show_command(s, out, err);
  if (s.snapshot_cmd && s.snapshot_cmd->parsed()) return run_snapshot(s, out, err);
  int status = 0;
  if (s.delete_cmd && s.delete_cmd->parsed()) return ask(s, {Verb::remove, s.id}, err, status) ? 0 : status;
  if (s.stop_cmd && s.stop_cmd->parsed()) return ask(s, {Verb::stop, ""}, err, status) ? 0 : status;
  return std::nullopt;
}

std::optional<int> run_daemon_commands(const DaemonCliState& state) {
  return run_daemon_commands(state, std::cout, std::cerr);
}

}  // namespace traceloop::daemon
