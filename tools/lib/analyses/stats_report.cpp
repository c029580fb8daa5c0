// Text and JSON reports of tl-stats.
#include <fmt/format.h>

#include <algorithm>
#include <ctime>

#include "tools/lib/decoder/decode.h"
#include "tools/lib/decoder/flag_sets.h"
#include "tools/lib/decoder/notice_text.h"
#include "tools/lib/analyses/stats.h"
#include "tools/lib/decoder/json_string.h"

namespace traceloop::tools {

namespace {

struct Row {
  std::string name;
  SyscallTotals totals;
};

double seconds(uint64_t ns) { return static_cast<double>(ns) / 1e9; }

// strace -c divides the time by the calls; only calls that returned have one.
uint64_t usecs_per_call(const SyscallTotals& t) {
  return t.timed_calls == 0 ? 0 : t.total_ns / 1000 / t.timed_calls;
}

std::vector<Row> sorted_rows(const StatsAccumulator& stats, StatsSortKey key) {
  std::vector<Row> rows;
  for (const auto& [name, totals] : stats.syscalls()) rows.push_back({name, totals});
  auto metric = [key](const Row& r) -> uint64_t {
    switch (key) {
      case StatsSortKey::time:
      case StatsSortKey::seconds: return r.totals.total_ns;
      case StatsSortKey::usecs_per_call: return usecs_per_call(r.totals);
      case StatsSortKey::calls: return r.totals.calls;
      case StatsSortKey::errors: return r.totals.errors;
      case StatsSortKey::syscall: return 0;
    }
    return 0;
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    const uint64_t ma = metric(a), mb = metric(b);
    return ma != mb ? ma > mb : a.name < b.name;  // names are sorted already: ties stay by name
  });
  return rows;
}

std::string wall_clock(int64_t wall_ns) {
  const time_t secs = static_cast<time_t>(wall_ns / 1'000'000'000);
  const auto micros = static_cast<long>((wall_ns % 1'000'000'000) / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06} UTC", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
}

std::string quoted(std::string_view bytes) {
  std::string out;
  append_quoted(out, bytes, 0, false);
  return out;
}

// Names from the trace (container ids and names) are untrusted: never raw to a terminal.
std::string escaped(std::string_view bytes) {
  std::string out;
  append_escaped(out, bytes);
  return out;
}

std::string errno_label(int err) {
  const std::string_view name = errno_name(err);
  return name.empty() ? fmt::format("errno {}", err) : std::string(name);
}

void write_syscall_table(std::string& out, const StatsAccumulator& stats, StatsSortKey key) {
  const SyscallTotals total = stats.total();
  const char* rule = "------ ----------- ----------- --------- --------- ----------------\n";
  out += "% time     seconds  usecs/call     calls    errors syscall\n";
  out += rule;
  auto line = [&](const SyscallTotals& t, std::string_view name) {
    const double percent = total.total_ns == 0 ? 0.0 : 100.0 * static_cast<double>(t.total_ns) /
                                                           static_cast<double>(total.total_ns);
    const std::string errors = t.errors == 0 ? std::string() : fmt::format("{}", t.errors);
    fmt::format_to(std::back_inserter(out), "{:6.2f} {:11.6f} {:11} {:9} {:>9} {}\n", percent,
                   seconds(t.total_ns), usecs_per_call(t), t.calls, errors, name);
  };
  for (const Row& row : sorted_rows(stats, key)) line(row.totals, row.name);
  out += rule;
  line(total, "total");
}

void write_histogram(std::string& out, std::string_view name, const LatencyHistogram& h) {
  fmt::format_to(std::back_inserter(out), "\n{} latency: {} calls\n", name, h.count);
  size_t last = 0;
  uint64_t peak = 0;
  for (size_t b = 0; b < h.buckets.size(); ++b) {
    if (h.buckets[b] != 0) last = b;
    peak = std::max(peak, h.buckets[b]);
  }
  out += "     usecs               : count     distribution\n";
  for (size_t b = 0; b <= last && h.count > 0; ++b) {
    const uint64_t low = b == 0 ? 0 : (uint64_t{1} << b);
    const uint64_t high = (uint64_t{1} << (b + 1)) - 1;
    const size_t stars = peak == 0 ? 0 : static_cast<size_t>(h.buckets[b] * 40 / peak);
    fmt::format_to(std::back_inserter(out), "{:>10} -> {:<10} : {:<9} |{:<40}|\n", low, high, h.buckets[b],
                   std::string(stars, '*'));
  }
}

// Most frequent first; ties in key order.
std::vector<std::pair<int32_t, uint64_t>> by_count(const std::map<int32_t, uint64_t>& counts) {
  std::vector<std::pair<int32_t, uint64_t>> rows(counts.begin(), counts.end());
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return rows;
}

std::string signal_label(int32_t signo) {
  std::string out;
  append_signal(out, signo);
  return out;
}

std::string end_label(int32_t wait_status) {
  std::string out;
  append_exit_outcome(out, wait_status);
  return out;
}

}  // namespace

std::optional<StatsSortKey> stats_sort_key_from_name(std::string_view name) {
  if (name == "time" || name == "%time") return StatsSortKey::time;
  if (name == "seconds") return StatsSortKey::seconds;
  if (name == "usecs" || name == "usecs/call" || name == "avg") return StatsSortKey::usecs_per_call;
  if (name == "calls") return StatsSortKey::calls;
  if (name == "errors") return StatsSortKey::errors;
  if (name == "syscall" || name == "name") return StatsSortKey::syscall;
  return std::nullopt;
}

void write_stats_text(std::ostream& stream, const StatsAccumulator& stats, const StatsOptions& options) {
  std::string out;
  fmt::format_to(std::back_inserter(out), "{} events in {} file{}", stats.events(), stats.files(),
                 stats.files() == 1 ? "" : "s");
  if (stats.events() > 0) {
    fmt::format_to(std::back_inserter(out), ", {} .. {} ({:.6f} s)", wall_clock(stats.first_wall_ns()),
                   wall_clock(stats.last_wall_ns()), seconds(stats.last_ns() - stats.first_ns()));
  }
  out += '\n';
  fmt::format_to(std::back_inserter(out),
                 "lost: {} events (ring full), overwritten: {} (history budget), in {} loss markers; "
                 "trailer counters: {} lost, {} overwritten\n\n",
                 stats.lost_markers_lost(), stats.lost_markers_overwritten(), stats.loss_markers(),
                 stats.counters_lost(), stats.counters_overwritten());

  write_syscall_table(out, stats, options.sort);

  if (!stats.errors().empty()) {
    std::vector<std::pair<std::pair<std::string, int>, uint64_t>> errors(stats.errors().begin(),
                                                                          stats.errors().end());
    std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    out += "\nerrors by syscall and errno:\n";
    out += "   errors syscall          errno\n";
    for (const auto& [key, count] : errors) {
      fmt::format_to(std::back_inserter(out), "{:9} {:<16} {} ({})\n", count, key.first, errno_label(key.second),
                     errno_message(key.second));
    }
  }
  if (!stats.signals().empty()) {
    out += "\nsignals delivered:\n";
    for (const auto& [signo, count] : by_count(stats.signals()))
      fmt::format_to(std::back_inserter(out), "{:9} {}\n", count, signal_label(signo));
  }
  if (!stats.process_ends().empty()) {
    out += "\nprocess ends:\n";
    for (const auto& [status, count] : by_count(stats.process_ends()))
      fmt::format_to(std::back_inserter(out), "{:9} {}\n", count, end_label(status));
  }
  auto paths = [&](std::string_view title, const std::vector<PathCount>& list) {
    if (list.empty()) return;
    fmt::format_to(std::back_inserter(out), "\n{}:\n", title);
    for (const auto& p : list) fmt::format_to(std::back_inserter(out), "{:9} {}\n", p.count, quoted(p.path));
  };
  paths("most opened paths", stats.top_opened(options.top_paths));
  paths("most failed paths", stats.top_failed(options.top_paths));

  if (options.per_process) {
    out += "\nper process:\n";
    out += "     PID COMM                 calls    errors     seconds CONTAINER\n";
    for (const auto& p : stats.processes()) {
      fmt::format_to(std::back_inserter(out), "{:8} {:<16} {:9} {:9} {:11.6f} {}\n", p.pid, quoted(p.comm),
                     p.totals.calls, p.totals.errors, seconds(p.totals.total_ns), escaped(p.container));
    }
  }
  if (options.per_container) {
    out += "\nper container:\n";
    out += "CONTAINER                processes     calls    errors     seconds ID\n";
    for (const auto& c : stats.containers()) {
      fmt::format_to(std::back_inserter(out), "{:<24} {:9} {:9} {:9} {:11.6f} {}\n", quoted(c.name), c.processes,
                     c.totals.calls, c.totals.errors, seconds(c.totals.total_ns), escaped(c.id));
    }
  }
  for (const auto& name : options.histograms) {
    const auto it = stats.histograms().find(name);
    write_histogram(out, name, it == stats.histograms().end() ? LatencyHistogram{} : it->second);
  }
  stream << out;
}

void write_stats_json(std::ostream& stream, const StatsAccumulator& stats, const StatsOptions& options) {
  std::string out;
  auto totals = [&](const SyscallTotals& t) {
    fmt::format_to(std::back_inserter(out),
                   "\"calls\":{},\"errors\":{},\"seconds\":{:.6f},\"usecs_per_call\":{},\"min_ns\":{},\"max_ns\":{}",
                   t.calls, t.errors, seconds(t.total_ns), usecs_per_call(t), t.timed_calls == 0 ? 0 : t.min_ns,
                   t.max_ns);
  };
  const SyscallTotals total = stats.total();
  fmt::format_to(std::back_inserter(out), "{{\"files\":{},\"events\":{},", stats.files(), stats.events());
  fmt::format_to(std::back_inserter(out),
                 "\"span\":{{\"first_wall_ns\":{},\"last_wall_ns\":{},\"seconds\":{:.6f}}},",
                 stats.first_wall_ns(), stats.last_wall_ns(), seconds(stats.last_ns() - stats.first_ns()));
  fmt::format_to(std::back_inserter(out),
                 "\"loss\":{{\"markers\":{},\"lost\":{},\"overwritten\":{},\"counters_lost\":{},"
                 "\"counters_overwritten\":{}}},",
                 stats.loss_markers(), stats.lost_markers_lost(), stats.lost_markers_overwritten(),
                 stats.counters_lost(), stats.counters_overwritten());
  out += "\"syscalls\":[";
  bool first = true;
  for (const Row& row : sorted_rows(stats, options.sort)) {
    if (!first) out += ',';
    first = false;
    out += "{\"syscall\":";
    append_json_string(out, row.name);
    const double percent = total.total_ns == 0 ? 0.0 : 100.0 * static_cast<double>(row.totals.total_ns) /
                                                           static_cast<double>(total.total_ns);
    fmt::format_to(std::back_inserter(out), ",\"percent_time\":{:.2f},", percent);
    totals(row.totals);
    out += '}';
  }
  out += "],\"total\":{";
  totals(total);
  out += "},\"errors\":[";
  first = true;
  for (const auto& [key, count] : stats.errors()) {
    if (!first) out += ',';
    first = false;
    out += "{\"syscall\":";
    append_json_string(out, key.first);
    fmt::format_to(std::back_inserter(out), ",\"errno\":{},\"name\":", key.second);
    append_json_string(out, errno_name(key.second));
    out += ",\"message\":";
    append_json_string(out, errno_message(key.second));
    fmt::format_to(std::back_inserter(out), ",\"count\":{}}}", count);
  }
  out += "],\"signals\":[";
  first = true;
  for (const auto& [signo, count] : by_count(stats.signals())) {
    if (!first) out += ',';
    first = false;
    out += "{\"signal\":";
    append_json_string(out, signal_label(signo));
    fmt::format_to(std::back_inserter(out), ",\"signo\":{},\"count\":{}}}", signo, count);
  }
  out += "],\"process_ends\":[";
  first = true;
  for (const auto& [status, count] : by_count(stats.process_ends())) {
    if (!first) out += ',';
    first = false;
    const ExitOutcome end = exit_outcome(status);
    out += "{\"end\":";
    append_json_string(out, end_label(status));
    if (end.killed) {
      out += ",\"signal\":";
      append_json_string(out, signal_label(end.code));
      fmt::format_to(std::back_inserter(out), ",\"core_dumped\":{}", end.core_dumped);
    } else {
      fmt::format_to(std::back_inserter(out), ",\"exit_code\":{}", end.code);
    }
    fmt::format_to(std::back_inserter(out), ",\"count\":{}}}", count);
  }
  out += ']';
  auto paths = [&](std::string_view field, const std::vector<PathCount>& list) {
    fmt::format_to(std::back_inserter(out), ",\"{}\":[", field);
    for (size_t i = 0; i < list.size(); ++i) {
      if (i > 0) out += ',';
      out += "{\"path\":";
      append_json_string(out, list[i].path);
      fmt::format_to(std::back_inserter(out), ",\"count\":{}}}", list[i].count);
    }
    out += ']';
  };
  paths("most_opened", stats.top_opened(options.top_paths));
  paths("most_failed", stats.top_failed(options.top_paths));
  out += ",\"processes\":[";
  first = true;
  for (const auto& p : stats.processes()) {
    if (!first) out += ',';
    first = false;
    fmt::format_to(std::back_inserter(out), "{{\"pid\":{},\"comm\":", p.pid);
    append_json_string(out, p.comm);
    out += ",\"container\":";
    append_json_string(out, p.container);
    out += ',';
    totals(p.totals);
    out += '}';
  }
  out += "],\"containers\":[";
  first = true;
  for (const auto& c : stats.containers()) {
    if (!first) out += ',';
    first = false;
    out += "{\"id\":";
    append_json_string(out, c.id);
    out += ",\"name\":";
    append_json_string(out, c.name);
    fmt::format_to(std::back_inserter(out), ",\"processes\":{},", c.processes);
    totals(c.totals);
    out += '}';
  }
  out += "],\"histograms\":{";
  first = true;
  for (const auto& name : options.histograms) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, name);
    const auto it = stats.histograms().find(name);
    const LatencyHistogram h = it == stats.histograms().end() ? LatencyHistogram{} : it->second;
    fmt::format_to(std::back_inserter(out), ":{{\"unit\":\"usecs\",\"count\":{},\"buckets\":[", h.count);
    bool first_bucket = true;
    for (size_t b = 0; b < h.buckets.size(); ++b) {
      if (h.buckets[b] == 0) continue;
      if (!first_bucket) out += ',';
      first_bucket = false;
      fmt::format_to(std::back_inserter(out), "{{\"low\":{},\"high\":{},\"count\":{}}}",
                     b == 0 ? 0 : (uint64_t{1} << b), (uint64_t{1} << (b + 1)) - 1, h.buckets[b]);
    }
    out += "]}";
  }
  out += "}}\n";
  stream << out;
}

}  // namespace traceloop::tools
