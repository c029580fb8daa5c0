#include "tools/lib/decoder/trace_info.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "format/trace_reader.h"
#include "tools/lib/decoder/decode.h"
#include "tools/lib/decoder/flag_sets.h"
#include "tools/lib/decoder/json_string.h"

namespace traceloop::tools {

namespace {

// Text from the trace (names, argv, labels) may come from a container: it is
// shown escaped, as strace shows strings, never raw on a terminal.
std::string shown(std::string_view bytes) {
  std::string out;
  append_escaped(out, bytes);
  return out;
}

std::string wall_time(int64_t wall_ns, bool local_time) {
  if (wall_ns <= 0) return "-";
  const time_t secs = static_cast<time_t>(wall_ns / 1'000'000'000);
  struct tm tm {};
  if (local_time) localtime_r(&secs, &tm);
  else gmtime_r(&secs, &tm);
  char text[64];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &tm);
  const long offset = tm.tm_gmtoff;
  return fmt::format("{}.{:06} {}{:02}{:02}", text, (wall_ns % 1'000'000'000) / 1000, offset < 0 ? '-' : '+',
                     std::abs(offset) / 3600, std::abs(offset) % 3600 / 60);
}

std::string byte_size(uint64_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return fmt::format("{} MiB", bytes >> 20);
  if (bytes >= (1u << 10) && bytes % (1u << 10) == 0) return fmt::format("{} KiB", bytes >> 10);
  return fmt::format("{} bytes", bytes);
}

// "exited 0", "killed by SIGKILL (core dumped)", "running" (no exit seen).
std::string how_it_ended(const format::ProcessInfo& p) {
  if (p.exit_ns == 0) return "no exit recorded";
  const int status = p.exit_status;
  if (WIFEXITED(status)) return fmt::format("exited {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    std::string out = "killed by ";
    append_signal(out, WTERMSIG(status));
    if (WCOREDUMP(status)) out += " (core dumped)";
    return out;
  }
  return fmt::format("status {:#x}", static_cast<uint32_t>(status));
}

std::string command_line(const format::ProcessInfo& p) {
  if (p.argv.empty()) return "[" + shown(p.comm) + "]";
  std::string out;
  for (const auto& arg : p.argv) {
    if (!out.empty()) out += ' ';
    const bool plain = !arg.empty() && std::all_of(arg.begin(), arg.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-_./=:,+@%").find(c) != std::string_view::npos;
    });
    out += plain ? arg : "\"" + shown(arg) + "\"";
  }
  return out;
}

// Children under their parent, each process once: a parent not in the table
// (it started before the recording) makes its children roots. Siblings in
// the order they started.
void append_tree(std::string& out, const std::vector<format::ProcessInfo>& processes) {
  std::map<uint32_t, size_t> by_pid;
  for (size_t i = 0; i < processes.size(); ++i) by_pid.emplace(processes[i].pid, i);
  std::vector<std::vector<size_t>> children(processes.size());
  std::vector<size_t> roots;
  for (size_t i = 0; i < processes.size(); ++i) {
    auto parent = by_pid.find(processes[i].ppid);
    if (parent != by_pid.end() && parent->second != i) children[parent->second].push_back(i);
    else roots.push_back(i);
  }
  const auto by_start = [&](size_t a, size_t b) { return processes[a].start_ns < processes[b].start_ns; };
  std::sort(roots.begin(), roots.end(), by_start);
  for (auto& c : children) std::sort(c.begin(), c.end(), by_start);
  // Iterative, with a visited mark: a pid reused inside one trace must not
  // make a cycle, nor a deep chain overflow the stack. Processes whose
  // parents loop have no root: they are shown from the earliest of them.
  std::vector<bool> visited(processes.size(), false);
  std::vector<size_t> by_start_order(processes.size());
  for (size_t i = 0; i < processes.size(); ++i) by_start_order[i] = i;
  std::stable_sort(by_start_order.begin(), by_start_order.end(), by_start);
  roots.insert(roots.end(), by_start_order.begin(), by_start_order.end());
  for (size_t root : roots) {
    std::vector<std::pair<size_t, size_t>> stack{{root, 0}};  // index, depth
    while (!stack.empty()) {
      auto [i, depth] = stack.back();
      stack.pop_back();
      if (visited[i]) continue;
      visited[i] = true;
      const auto& p = processes[i];
      fmt::format_to(std::back_inserter(out), "  {:{}}{} {}  ({})\n", "", depth * 2, p.pid, command_line(p),
                     how_it_ended(p));
      for (auto c = children[i].rbegin(); c != children[i].rend(); ++c) stack.emplace_back(*c, depth + 1);
    }
  }
}

void append_pairs_text(std::string& out, const char* title,
                       const std::vector<std::pair<std::string, std::string>>& pairs) {
  if (pairs.empty()) return;
  fmt::format_to(std::back_inserter(out), "  {:<12}", title);
  for (size_t i = 0; i < pairs.size(); ++i)
    fmt::format_to(std::back_inserter(out), "{}{}={}", i == 0 ? "" : ", ", shown(pairs[i].first),
                   shown(pairs[i].second));
  out += '\n';
}

void json_field(std::string& out, std::string_view name, std::string_view value) {
  out += json_string(name);
  out += ':';
  append_json_string(out, value);
}

void json_pairs(std::string& out, const std::vector<std::pair<std::string, std::string>>& pairs) {
  out += '{';
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i > 0) out += ',';
    json_field(out, pairs[i].first, pairs[i].second);
  }
  out += '}';
}

}  // namespace

Result<TraceInfo> read_trace_info(const std::string& path) {
  auto opened = format::TraceReader::open(path);
  if (!opened) return opened.error();
  auto& reader = *opened;
  reader.pass_over_events();
  for (;;) {
    auto next = reader.next_batch();
    if (!next) return next.error();
    if (*next == nullptr) break;
  }
  TraceInfo info;
  info.file = path;
  struct stat st {};
  if (path != "-" && ::stat(path.c_str(), &st) == 0) info.file_bytes = static_cast<uint64_t>(st.st_size);
  info.metadata = reader.metadata();
  info.processes = reader.processes();
  info.counters = reader.counters();
  info.events = reader.events_so_far();
  info.warnings = reader.warnings();
  return info;
}

std::string format_trace_info_text(const TraceInfo& info, bool local_time) {
  const auto& m = info.metadata;
  const auto& c = m.capture;
  std::string out;
  auto line = [&out](std::string_view title, const std::string& value) {
    fmt::format_to(std::back_inserter(out), "{:<11}{}\n", title, value);
  };
  line("file", fmt::format("{}: format {}.{}{}", shown(info.file), m.format_major, m.format_minor,
                           info.file_bytes > 0 ? fmt::format(", {} bytes", info.file_bytes) : ""));
  line("recorder", fmt::format("traceloop-record {} ({})", shown(m.recorder_version), shown(c.mode)));
  line("host", fmt::format("{}, Linux {}, {}", shown(m.host_name), shown(m.kernel_release), format::arch_name(m.arch)));
  line("created", wall_time(m.created_wall_ns, local_time));
  if (!m.command.empty()) {
    format::ProcessInfo command;
    command.argv = m.command;
    line("command", command_line(command));
  }
  std::string syscalls = "all syscalls";
  if (!c.syscall_filters.empty()) {
    syscalls.clear();
    for (const auto& name : c.syscall_filters) syscalls += (syscalls.empty() ? "" : ",") + shown(name);
  }
  std::string capture = syscalls + "; " +
                        (c.capture_data ? fmt::format("data up to {} bytes per argument", c.max_data_bytes)
                                        : std::string("no data"));
  if (c.timestamp_resolution_ns > 1) capture += fmt::format("; times to {} ns", c.timestamp_resolution_ns);
  if (c.ring_bytes > 0) capture += "; ring " + byte_size(c.ring_bytes);
  if (c.budget_bytes > 0) capture += "; budget " + byte_size(c.budget_bytes) + " per container";
  line("capture", capture);
  if (info.counters) {
    const auto& k = *info.counters;
    std::string events = fmt::format("{} recorded, {} lost", k.events_recorded, k.events_lost);
    if (k.events_overwritten > 0) events += fmt::format(", {} overwritten (oldest dropped to stay in budget)", k.events_overwritten);
    if (info.events != k.events_recorded) events += fmt::format(" ({} in this file)", info.events);
    line("events", events);
    if (k.end_wall_ns > 0) line("ended", wall_time(k.end_wall_ns, local_time));
  } else {
    line("events", fmt::format("{} in this file (no trailer: counters unknown)", info.events));
  }
  for (const auto& ci : m.containers) {
    line("container", shown(ci.id) + (ci.name.empty() ? "" : " (" + shown(ci.name) + ")"));
    auto sub = [&out](std::string_view title, const std::string& value) {
      if (!value.empty()) fmt::format_to(std::back_inserter(out), "  {:<12}{}\n", title, value);
    };
    sub("image", shown(ci.image));
    sub("runtime", shown(ci.runtime) + (ci.runtime_namespace.empty() ? "" : ", namespace " + shown(ci.runtime_namespace)));
    if (!ci.pod_name.empty())
      sub("pod", shown(ci.pod_namespace) + "/" + shown(ci.pod_name) +
                     (ci.container_name.empty() ? "" : ", container " + shown(ci.container_name)));
    append_pairs_text(out, "labels", ci.labels);
    append_pairs_text(out, "annotations", ci.annotations);
    sub("cgroup", shown(ci.cgroup_path));
    if (ci.init_pid != 0) sub("init pid", std::to_string(ci.init_pid));
    sub("started", ci.started_wall_ns > 0 ? wall_time(ci.started_wall_ns, local_time) : "");
    sub("exited", ci.exited_wall_ns > 0 ? wall_time(ci.exited_wall_ns, local_time) : "");
  }
  fmt::format_to(std::back_inserter(out), "processes  {}\n", info.processes.size());
  append_tree(out, info.processes);
  return out;
}

std::string format_trace_info_json(const TraceInfo& info) {
  const auto& m = info.metadata;
  const auto& c = m.capture;
  std::string out = "{";
  json_field(out, "file", info.file);
  fmt::format_to(std::back_inserter(out), ",\"file_bytes\":{},\"format\":\"{}.{}\",", info.file_bytes, m.format_major,
                 m.format_minor);
  json_field(out, "recorder_version", m.recorder_version);
  out += ',';
  json_field(out, "host", m.host_name);
  out += ',';
  json_field(out, "kernel", m.kernel_release);
  out += ',';
  json_field(out, "arch", format::arch_name(m.arch));
  fmt::format_to(std::back_inserter(out), ",\"created_wall_ns\":{},\"command\":[", m.created_wall_ns);
  for (size_t i = 0; i < m.command.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(out, m.command[i]);
  }
  out += "],\"capture\":{";
  json_field(out, "mode", c.mode);
  out += ",\"syscall_filters\":[";
  for (size_t i = 0; i < c.syscall_filters.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(out, c.syscall_filters[i]);
  }
  fmt::format_to(std::back_inserter(out),
                 "],\"capture_data\":{},\"max_data_bytes\":{},\"ring_bytes\":{},\"budget_bytes\":{},"
                 "\"timestamp_resolution_ns\":{}}},\"events_in_file\":{},\"counters\":",
                 c.capture_data, c.max_data_bytes, c.ring_bytes, c.budget_bytes, c.timestamp_resolution_ns,
                 info.events);
  if (info.counters) {
    const auto& k = *info.counters;
    fmt::format_to(std::back_inserter(out),
                   "{{\"events_recorded\":{},\"events_lost\":{},\"events_overwritten\":{},\"end_wall_ns\":{}}}",
                   k.events_recorded, k.events_lost, k.events_overwritten, k.end_wall_ns);
  } else {
    out += "null";
  }
  out += ",\"containers\":[";
  for (size_t i = 0; i < m.containers.size(); ++i) {
    const auto& ci = m.containers[i];
    if (i > 0) out += ',';
    out += '{';
    json_field(out, "id", ci.id);
    for (auto [name, value] : {std::pair<std::string_view, const std::string*>{"name", &ci.name},
                               {"image", &ci.image},
                               {"runtime", &ci.runtime},
                               {"runtime_namespace", &ci.runtime_namespace},
                               {"pod_namespace", &ci.pod_namespace},
                               {"pod", &ci.pod_name},
                               {"container", &ci.container_name},
                               {"cgroup", &ci.cgroup_path}}) {
      out += ',';
      json_field(out, name, *value);
    }
    out += ",\"labels\":";
    json_pairs(out, ci.labels);
    out += ",\"annotations\":";
    json_pairs(out, ci.annotations);
    fmt::format_to(std::back_inserter(out), ",\"init_pid\":{},\"started_wall_ns\":{},\"exited_wall_ns\":{}}}",
                   ci.init_pid, ci.started_wall_ns, ci.exited_wall_ns);
  }
  out += "],\"processes\":[";
  for (size_t i = 0; i < info.processes.size(); ++i) {
    const auto& p = info.processes[i];
    if (i > 0) out += ',';
    fmt::format_to(std::back_inserter(out), "{{\"pid\":{},\"ppid\":{},", p.pid, p.ppid);
    json_field(out, "comm", p.comm);
    out += ",\"argv\":[";
    for (size_t j = 0; j < p.argv.size(); ++j) {
      if (j > 0) out += ',';
      append_json_string(out, p.argv[j]);
    }
    fmt::format_to(std::back_inserter(out), "],\"start_ns\":{},\"exit_ns\":{},", p.start_ns, p.exit_ns);
    if (p.exit_ns == 0) out += "\"exit\":null}";
    else if (WIFEXITED(p.exit_status)) fmt::format_to(std::back_inserter(out), "\"exit\":{{\"code\":{}}}}}", WEXITSTATUS(p.exit_status));
    else if (WIFSIGNALED(p.exit_status)) {
      std::string signal;
      append_signal(signal, WTERMSIG(p.exit_status));
      out += "\"exit\":{\"signal\":";
      append_json_string(out, signal);
      fmt::format_to(std::back_inserter(out), ",\"core_dumped\":{}}}}}", WCOREDUMP(p.exit_status) != 0);
    } else {
      fmt::format_to(std::back_inserter(out), "\"exit\":{{\"status\":{}}}}}", p.exit_status);
    }
  }
  out += "]}\n";
  return out;
}

int run_info(const std::string& path, OutputFormat format, std::string_view program, std::ostream& out,
             std::ostream& err) {
  auto info = read_trace_info(path);
  if (!info) {
    err << program << ": " << info.error().message << '\n';
    return 2;
  }
  out << (format == OutputFormat::json ? format_trace_info_json(*info) : format_trace_info_text(*info, true));
  out.flush();
  for (const auto& warning : info->warnings) err << program << ": warning: " << warning << '\n';
  return out ? 0 : 2;
}

}  // namespace traceloop::tools
