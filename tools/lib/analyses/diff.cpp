#include "tools/lib/analyses/diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>

#include "tools/lib/decoder/decode.h"
#include "tools/lib/analyses/diff_normalise.h"
#include "tools/lib/decoder/render.h"
#include "tools/lib/decoder/json_string.h"

namespace traceloop::tools {

namespace {

using Status = ProcessDiff::Status;
using Kind = DiffRun::Kind;

// The process's own number of the compared event at `index` (one past the last: the next number).
size_t ordinal(const ProcessStream& s, size_t index) {
  if (index < s.ordinals.size()) return s.ordinals[index];
  return s.ordinals.empty() ? 1 : s.ordinals.back() + 1;
}

// One trace with what it takes to show its events as strace lines.
struct Side {
  format::LoadedTrace trace;
  std::vector<ProcessStream> streams;
  std::unique_ptr<Decoder> decoder;
  std::unique_ptr<Renderer> renderer;

  std::string line(size_t event_index) {
    std::string out;
    renderer->event(out, trace.events[event_index].view());
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  uint64_t lost() const {
    uint64_t n = 0;
    for (const auto& [at, loss] : trace.losses) n += loss.lost + loss.overwritten;
    if (trace.counters) n = std::max(n, trace.counters->events_lost + trace.counters->events_overwritten);
    return n;
  }
};

std::unique_ptr<Side> load_side(const std::string& path, const DiffOptions& options) {
  auto side = std::make_unique<Side>();
  side->trace = value_or_throw(format::load_trace(
      path, format::kMaxLoadedEvents, [&options](size_t events) { progress::add_progress(options.progress, events); }));
  side->streams = process_streams(side->trace);
  DecodeOptions decode;
  decode.string_limit = options.string_limit;
  side->decoder = std::make_unique<Decoder>(side->trace.metadata, decode);
  RenderOptions render;
  render.format = OutputFormat::strace;
  render.header = false;
  side->renderer = make_renderer(render, *side->decoder, side->trace.metadata);
  return side;
}

std::string pid_text(const ProcessStream* s) { return s == nullptr ? std::string("-") : fmt::format("pid {}", s->pid); }

std::string status_text(const ProcessDiff& d) {
  switch (d.status) {
    case Status::equal: return "equal";
    case Status::diverged: return fmt::format("diverged at event {}", d.diverged_at);
    case Status::only_in_a: return "only in A";
    case Status::only_in_b: return "only in B";
  }
  return "";
}

std::string_view status_name(Status s) {
  switch (s) {
    case Status::equal: return "equal";
    case Status::diverged: return "diverged";
    case Status::only_in_a: return "only_in_a";
    case Status::only_in_b: return "only_in_b";
  }
  return "";
}

const std::string& program_of(const ProcessDiff& d) { return d.a != nullptr ? d.a->program : d.b->program; }

// Visits the lines of a hunk: (marker ' ', '-', '+'; event index in the trace of that side).
template <typename F>
void for_each_line(const ProcessDiff& d, const DiffHunk& hunk, F&& f) {
  for (const DiffRun& run : hunk.runs) {
    for (size_t k = 0; k < run.length; ++k) {
      if (run.kind == Kind::added) {
        f('+', false, d.b->events[run.b_begin + k]);
      } else {
        f(run.kind == Kind::equal ? ' ' : '-', true, d.a->events[run.a_begin + k]);
      }
    }
  }
}

void write_text(std::string& out, Side& a, Side& b, const std::vector<ProcessDiff>& diffs, const DiffOptions& options) {
  const char* red = options.color ? "\x1b[31m" : "";
  const char* green = options.color ? "\x1b[32m" : "";
  const char* cyan = options.color ? "\x1b[36m" : "";
  const char* bold = options.color ? "\x1b[1m" : "";
  const char* reset = options.color ? "\x1b[0m" : "";
  fmt::format_to(std::back_inserter(out), "{}--- {}\n+++ {}{}\n", bold, options.path_a, options.path_b, reset);
  size_t diverged = 0, only_a = 0, only_b = 0;
  for (const ProcessDiff& d : diffs) {
    std::string program;
    append_escaped(program, program_of(d));  // comms come from the trace: untrusted
    fmt::format_to(std::back_inserter(out), "{}=== {} ({} | {}): {}{}\n", bold, program, pid_text(d.a),
                   pid_text(d.b), status_text(d), reset);
    diverged += d.status == Status::diverged;
    only_a += d.status == Status::only_in_a;
    only_b += d.status == Status::only_in_b;
    for (const DiffHunk& hunk : d.hunks) {
      fmt::format_to(std::back_inserter(out), "{}@@ -{},{} +{},{} @@{}\n", cyan, ordinal(*d.a, hunk.a_begin),
                     hunk.a_length, ordinal(*d.b, hunk.b_begin), hunk.b_length, reset);
      for_each_line(d, hunk, [&](char marker, bool side_a, size_t index) {
        const char* color = marker == '-' ? red : marker == '+' ? green : "";
        fmt::format_to(std::back_inserter(out), "{}{}{}{}\n", color, marker, side_a ? a.line(index) : b.line(index),
                       *color != '\0' ? reset : "");
      });
    }
  }
  if (const uint64_t lost = a.lost(); lost > 0)
    fmt::format_to(std::back_inserter(out), "note: A lost {} events: differences may come from the loss\n", lost);
  if (const uint64_t lost = b.lost(); lost > 0)
    fmt::format_to(std::back_inserter(out), "note: B lost {} events: differences may come from the loss\n", lost);
  if (diverged + only_a + only_b == 0) {
    fmt::format_to(std::back_inserter(out), "equal after normalisation: {} processes\n", diffs.size());
  } else {
    fmt::format_to(std::back_inserter(out), "different: {} of {} processes diverged, {} only in A, {} only in B\n",
                   diverged, diffs.size(), only_a, only_b);
  }
}

void write_json(std::string& out, Side& a, Side& b, const std::vector<ProcessDiff>& diffs, const DiffOptions& options) {
  const bool equal = std::all_of(diffs.begin(), diffs.end(), [](const ProcessDiff& d) { return d.status == Status::equal; });
  out += "{\"a\":";
  append_json_string(out, options.path_a);
  out += ",\"b\":";
  append_json_string(out, options.path_b);
  fmt::format_to(std::back_inserter(out), ",\"equal\":{},\"lost_a\":{},\"lost_b\":{},\"processes\":[",
                 equal ? "true" : "false", a.lost(), b.lost());
  for (size_t i = 0; i < diffs.size(); ++i) {
    const ProcessDiff& d = diffs[i];
    if (i > 0) out += ',';
    out += "{\"program\":";
    append_json_string(out, program_of(d));
    fmt::format_to(std::back_inserter(out), ",\"status\":\"{}\"", status_name(d.status));
    if (d.a != nullptr) fmt::format_to(std::back_inserter(out), ",\"pid_a\":{},\"events_a\":{}", d.a->pid, d.a->events.size());
    if (d.b != nullptr) fmt::format_to(std::back_inserter(out), ",\"pid_b\":{},\"events_b\":{}", d.b->pid, d.b->events.size());
    if (d.status == Status::diverged) fmt::format_to(std::back_inserter(out), ",\"diverged_at\":{}", d.diverged_at);
    out += ",\"hunks\":[";
    for (size_t h = 0; h < d.hunks.size(); ++h) {
      const DiffHunk& hunk = d.hunks[h];
      if (h > 0) out += ',';
      fmt::format_to(std::back_inserter(out), "{{\"a_start\":{},\"a_count\":{},\"b_start\":{},\"b_count\":{},\"lines\":[",
                     ordinal(*d.a, hunk.a_begin), hunk.a_length, ordinal(*d.b, hunk.b_begin), hunk.b_length);
      bool first = true;
      for_each_line(d, hunk, [&](char marker, bool side_a, size_t index) {
        if (!first) out += ',';
        first = false;
        fmt::format_to(std::back_inserter(out), "{{\"op\":\"{}\",\"text\":", marker);
        append_json_string(out, side_a ? a.line(index) : b.line(index));
        out += '}';
      });
      out += "]}";
    }
    out += "]}";
  }
  out += "]}\n";
}

}  // namespace

std::vector<ProcessStream> process_streams(const format::LoadedTrace& trace) {
  std::vector<ProcessStream> streams;
  std::map<uint32_t, size_t> by_pid;
  std::vector<std::unique_ptr<EventNormaliser>> normalisers;
  std::vector<std::string> last_comm;
  std::vector<uint32_t> seen;  // events of each process so far
  for (size_t i = 0; i < trace.events.size(); ++i) {
    const format::Event e = trace.events[i].view();
    auto [it, inserted] = by_pid.try_emplace(e.pid, streams.size());
    if (inserted) {
      ProcessStream s;
      s.pid = e.pid;
      s.first_ns = e.enter_ns;
      streams.push_back(std::move(s));
      normalisers.push_back(std::make_unique<EventNormaliser>(trace.metadata.catalogue, e.pid));
      last_comm.emplace_back();
      seen.push_back(0);
    }
    const size_t slot = it->second;
    ProcessStream& s = streams[slot];
    if (last_comm[slot] != e.comm) {
      if (!s.program.empty()) s.program += '>';
      s.program.append(e.comm);
      last_comm[slot].assign(e.comm);
    }
    ++seen[slot];
    if (normalisers[slot]->ignored(e)) continue;
    s.events.push_back(i);
    s.ordinals.push_back(seen[slot]);
    // When its result was known: a wait4 entered early diverges when it returns.
    s.times.push_back(e.state == format::CallState::returned ? e.exit_ns : e.enter_ns);
    s.keys.push_back(key_hash(normalisers[slot]->key(e)));
  }
  return streams;
}

std::vector<ProcessDiff> diff_traces(const std::vector<ProcessStream>& a, const std::vector<ProcessStream>& b,
                                     size_t context) {
  // The k-th process of a program in A goes with the k-th of the same program in B.
  std::map<std::string, std::vector<const ProcessStream*>> b_by_program;
  for (const auto& s : b) b_by_program[s.program].push_back(&s);
  std::map<std::string, size_t> taken;
  const uint64_t a_origin = a.empty() ? 0 : a.front().first_ns;
  const uint64_t b_origin = b.empty() ? 0 : b.front().first_ns;

  std::vector<ProcessDiff> diffs;
  for (const auto& s : a) {
    ProcessDiff d;
    d.a = &s;
    auto& candidates = b_by_program[s.program];
    size_t& next = taken[s.program];
    if (next < candidates.size()) d.b = candidates[next++];
    if (d.b == nullptr) {
      d.status = Status::only_in_a;
      d.diverged_ns = s.first_ns - a_origin;
      diffs.push_back(std::move(d));
      continue;
    }
    const auto runs = diff_sequences(s.keys, d.b->keys);
    const auto change = std::find_if(runs.begin(), runs.end(), [](const DiffRun& r) { return r.kind != Kind::equal; });
    if (change != runs.end()) {
      d.status = Status::diverged;
      d.diverged_at = ordinal(s, change->a_begin);
      d.hunks = make_hunks(runs, context);
      // The event of A where it happens: its time orders the report (events are time ordered per process).
      d.diverged_ns = s.times.empty() ? 0 : s.times[std::min(change->a_begin, s.times.size() - 1)] - a_origin;
    }
    diffs.push_back(std::move(d));
  }
  for (const auto& [program, candidates] : b_by_program) {
    for (size_t k = taken[program]; k < candidates.size(); ++k) {
      ProcessDiff d;
      d.b = candidates[k];
      d.status = Status::only_in_b;
      d.diverged_ns = candidates[k]->first_ns - b_origin;
      diffs.push_back(std::move(d));
    }
  }
  auto rank = [](Status s) { return s == Status::diverged ? 0 : s == Status::equal ? 2 : 1; };
  std::stable_sort(diffs.begin(), diffs.end(), [&](const ProcessDiff& x, const ProcessDiff& y) {
    if (rank(x.status) != rank(y.status)) return rank(x.status) < rank(y.status);
    return x.diverged_ns < y.diverged_ns;
  });
  return diffs;
}

int run_diff(const DiffOptions& options, std::ostream& out, std::ostream& err) {
  try {
    auto a = load_side(options.path_a, options);
    auto b = load_side(options.path_b, options);
    progress::finish_progress(options.progress);
    const auto diffs = diff_traces(a->streams, b->streams, options.context);
    std::string text;
    if (options.format == DiffFormat::json) {
      write_json(text, *a, *b, diffs, options);
    } else {
      write_text(text, *a, *b, diffs, options);
    }
    out << text;
    out.flush();
    for (const auto* side : {a.get(), b.get()})
      for (const auto& warning : side->trace.warnings) err << "tl-diff: " << warning << '\n';
    const bool equal = std::all_of(diffs.begin(), diffs.end(), [](const ProcessDiff& d) { return d.status == Status::equal; });
    return equal ? 0 : 1;
  } catch (const FatalError& e) {
    progress::finish_progress(options.progress);
    err << "tl-diff: " << e.what() << '\n';
    return 2;
  }
}

}  // namespace traceloop::tools
