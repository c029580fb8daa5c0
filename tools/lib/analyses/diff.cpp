#include "tools/lib/analyses/diff.h"

#include <fmt/format.h>

#include <range/v3/algorithm/find_if.hpp>
#include <range/v3/range/conversion.hpp>
#include <range/v3/view/for_each.hpp>
#include <range/v3/view/iota.hpp>
#include <range/v3/view/transform.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <tuple>
#include <unordered_map>

#include "format/trace_reader.h"
#include "format/unique_fd.h"
#include "tools/lib/analyses/diff_normalise.h"
#include "tools/lib/decoder/decode.h"
#include "tools/lib/decoder/json_string.h"
#include "tools/lib/decoder/render.h"

namespace traceloop::tools {

namespace {

using Status = ProcessDiff::Status;
using Kind = DiffRun::Kind;

// What a report shows of one event: its strace line, the process's own
// number of it and when its result was known.
struct Located {
  uint32_t ordinal = 0;
  uint64_t time = 0;
  std::string line;
};

// A trace file, readable twice: a pipe or stdin ("-") is first copied to an
// unnamed temporary file (removed when closed).
struct Input {
  std::string path;  // what the readers open
  UniqueFd spool;

  static Input open(const std::string& path) {
    std::error_code ec;
    if (path != "-" && (std::filesystem::is_regular_file(path, ec) || !std::filesystem::exists(path, ec)))
      return {path, UniqueFd()};
    UniqueFd in(path == "-" ? ::dup(STDIN_FILENO) : ::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in) throw FatalError(fmt::format("{}: {}", path, std::strerror(errno)));
    const auto dir = std::filesystem::temp_directory_path(ec);
    UniqueFd spool(::open(ec ? "/tmp" : dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    if (!spool) throw FatalError(fmt::format("{}: a temporary copy: {}", path, std::strerror(errno)));
    std::array<char, 1 << 16> buffer;
    for (;;) {
      const ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw FatalError(fmt::format("{}: {}", path, std::strerror(errno)));
      if (n == 0) break;
      for (ssize_t done = 0; done < n;) {
        const ssize_t w = ::write(spool.get(), buffer.data() + done, static_cast<size_t>(n - done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) throw FatalError(fmt::format("{}: a temporary copy: {}", path, std::strerror(errno)));
        done += w;
      }
    }
    return {fmt::format("/proc/self/fd/{}", spool.get()), std::move(spool)};
  }
};

// One trace: its streams (first pass), then what the report shows of the
// few events it names, read again from the file (second pass).
struct Side {
  std::string path;
  TraceStreams trace;
  std::vector<std::vector<size_t>> wanted;  // per stream: indices into its keys, sorted, unique
  std::vector<std::vector<Located>> found;  // per stream: what was read of them, in the same order

  size_t slot(const ProcessStream& s) const { return static_cast<size_t>(&s - trace.streams.data()); }
  void want(const ProcessStream& s, size_t index) {
    if (index < s.keys.size()) wanted[slot(s)].push_back(index);
  }
  const Located& located(const ProcessStream& s, size_t index) const {
    const auto& w = wanted[slot(s)];
    const auto it = std::lower_bound(w.begin(), w.end(), index);
    if (it == w.end() || *it != index) throw FatalError(path + ": an event of the report was not found again");
    return found[slot(s)][static_cast<size_t>(it - w.begin())];
  }
  const std::string& line(const ProcessStream& s, size_t index) const { return located(s, index).line; }
  // The process's own number of the compared event at `index` (one past the last: the next number).
  size_t ordinal(const ProcessStream& s, size_t index) const {
    if (index >= s.keys.size()) return s.last_ordinal + 1;
    return located(s, index).ordinal;
  }
  uint64_t lost() const { return trace.lost; }
};

// Visits the lines of a hunk: (marker ' ', '-', '+'; whether of A; index into that side's stream).
auto hunk_lines(const DiffHunk& hunk) {
  return hunk.runs | ranges::views::for_each([](const DiffRun& run) {
           return ranges::views::iota(size_t{0}, run.length) | ranges::views::transform([run](size_t k) {
                    if (run.kind == Kind::added) return std::tuple{'+', false, run.b_begin + k};
                    return std::tuple{run.kind == Kind::equal ? ' ' : '-', true, run.a_begin + k};
                  });
         });
}

template <typename F>
void for_each_line(const DiffHunk& hunk, F&& f) {
  for (const auto& [marker, side_a, index] : hunk_lines(hunk)) f(marker, side_a, index);
}

// The process's own number of the diverging event and when it completed, since the trace's first event.
size_t diverged_at(const Side& a, const ProcessDiff& d) { return a.ordinal(*d.a, d.change); }

std::string pid_text(const ProcessStream* s) { return s == nullptr ? std::string("-") : fmt::format("pid {}", s->pid); }

std::string status_text(const Side& a, const ProcessDiff& d) {
  switch (d.status) {
    case Status::equal: return "equal";
    case Status::diverged: return fmt::format("diverged at event {}", diverged_at(a, d));
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

void write_text(std::string& out, const Side& a, const Side& b, const std::vector<ProcessDiff>& diffs, const DiffOptions& options) {
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
                   pid_text(d.b), status_text(a, d), reset);
    diverged += d.status == Status::diverged;
    only_a += d.status == Status::only_in_a;
    only_b += d.status == Status::only_in_b;
    for (const DiffHunk& hunk : d.hunks) {
      fmt::format_to(std::back_inserter(out), "{}@@ -{},{} +{},{} @@{}\n", cyan, a.ordinal(*d.a, hunk.a_begin),
                     hunk.a_length, b.ordinal(*d.b, hunk.b_begin), hunk.b_length, reset);
      for_each_line(hunk, [&](char marker, bool side_a, size_t index) {
        const char* color = marker == '-' ? red : marker == '+' ? green : "";
        fmt::format_to(std::back_inserter(out), "{}{}{}{}\n", color, marker, side_a ? a.line(*d.a, index) : b.line(*d.b, index),
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

void write_json(std::string& out, const Side& a, const Side& b, const std::vector<ProcessDiff>& diffs, const DiffOptions& options) {
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
    if (d.a != nullptr) fmt::format_to(std::back_inserter(out), ",\"pid_a\":{},\"events_a\":{}", d.a->pid, d.a->keys.size());
    if (d.b != nullptr) fmt::format_to(std::back_inserter(out), ",\"pid_b\":{},\"events_b\":{}", d.b->pid, d.b->keys.size());
    if (d.status == Status::diverged) fmt::format_to(std::back_inserter(out), ",\"diverged_at\":{}", diverged_at(a, d));
    out += ",\"hunks\":[";
    for (size_t h = 0; h < d.hunks.size(); ++h) {
      const DiffHunk& hunk = d.hunks[h];
      if (h > 0) out += ',';
      fmt::format_to(std::back_inserter(out), "{{\"a_start\":{},\"a_count\":{},\"b_start\":{},\"b_count\":{},\"lines\":[",
                     a.ordinal(*d.a, hunk.a_begin), hunk.a_length, b.ordinal(*d.b, hunk.b_begin), hunk.b_length);
      bool first = true;
      for_each_line(hunk, [&](char marker, bool side_a, size_t index) {
        if (!first) out += ',';
        first = false;
        fmt::format_to(std::back_inserter(out), "{{\"op\":\"{}\",\"text\":", marker);
        append_json_string(out, side_a ? a.line(*d.a, index) : b.line(*d.b, index));
        out += '}';
      });
      out += "]}";
    }
    out += "]}";
  }
  out += "]}\n";
}



// When the event's result was known: a wait4 entered early diverges when it returns.
uint64_t result_ns(const format::Event& e) {
  return e.state == format::CallState::returned ? e.exit_ns : e.enter_ns;
}

// The events of one batch, in order.
auto events_of(const format::DecodedBatch& batch) {
  return ranges::views::iota(size_t{0}, batch.size()) |
         ranges::views::transform([&batch](size_t i) { return batch.event(i); });
}

// Maps pids to their stream's slot, in order of first appearance. Events of
// one process come in runs: the last pid is remembered.
class SlotsByPid {
 public:
  // The slot and whether the pid is new.
  std::pair<size_t, bool> slot(uint32_t pid) {
    if (pid == last_pid_ && last_slot_ != kNone) return {last_slot_, false};
    auto [it, inserted] = slots_.try_emplace(pid, slots_.size());
    last_pid_ = pid;
    last_slot_ = it->second;
    return {it->second, inserted};
  }

 private:
  static constexpr size_t kNone = ~size_t{0};
  std::unordered_map<uint32_t, size_t> slots_;
  uint32_t last_pid_ = 0;
  size_t last_slot_ = kNone;
};

format::TraceReader open_reader(const std::string& path) { return value_or_throw(format::TraceReader::open(path)); }

// Second pass: reads again the events the report shows (those `side.wanted` names).
void locate(Side& side, const DiffOptions& options) {
  side.found.assign(side.wanted.size(), {});
  size_t remaining = 0;
  for (size_t slot = 0; slot < side.wanted.size(); ++slot) {
    auto& w = side.wanted[slot];
    std::sort(w.begin(), w.end());
    w.erase(std::unique(w.begin(), w.end()), w.end());
    side.found[slot].resize(w.size());
    remaining += w.size();
  }
  if (remaining == 0) return;  // equal processes only: one pass was enough
  auto reader = open_reader(side.path);
  DecodeOptions decode;
  decode.string_limit = options.string_limit;
  const Decoder decoder(reader.metadata(), decode);
  RenderOptions render;
  render.format = OutputFormat::strace;
  render.header = false;
  const auto renderer = make_renderer(render, decoder, reader.metadata());
  SlotsByPid slots;
  std::vector<uint32_t> seen(side.wanted.size(), 0);      // events of each process so far
  std::vector<size_t> compared(side.wanted.size(), 0);    // compared events of each process so far
  std::vector<size_t> next(side.wanted.size(), 0);        // next wanted of each process
  while (remaining > 0) {
    const format::DecodedBatch* batch = value_or_throw(reader.next_batch());
    if (batch == nullptr) break;
    for (const format::Event& e : events_of(*batch)) {
      const size_t slot = slots.slot(e.pid).first;
      if (slot >= side.wanted.size()) throw FatalError(side.path + ": changed while it was read");
      ++seen[slot];
      if (skipped_by_diff(decoder, e)) continue;
      const size_t index = compared[slot]++;
      const auto& w = side.wanted[slot];
      if (next[slot] == w.size() || w[next[slot]] != index) continue;
      Located& l = side.found[slot][next[slot]++];
      l.ordinal = seen[slot];
      l.time = result_ns(e);
      renderer->event(l.line, e);
      while (!l.line.empty() && l.line.back() == '\n') l.line.pop_back();
      --remaining;
    }
  }
  if (remaining > 0) throw FatalError(side.path + ": changed while it was read");
}

// Names the events the report of `d` shows: those of its hunks, where its hunks
// begin and where it diverged.
void want_events(Side& a, Side& b, const ProcessDiff& d) {
  if (d.status != Status::diverged) return;
  a.want(*d.a, d.change);
  a.want(*d.a, std::min(d.change, d.a->keys.size() - 1));
  for (const DiffHunk& hunk : d.hunks) {
    a.want(*d.a, hunk.a_begin);
    b.want(*d.b, hunk.b_begin);
    for (const auto& [marker, side_a, index] : hunk_lines(hunk)) (side_a ? a : b).want(side_a ? *d.a : *d.b, index);
  }
}

// First divergence first, then processes only in one trace (by when they
// appeared), then the equal ones.
void order_report(std::vector<ProcessDiff>& diffs, const Side& a, const Side& b) {
  const uint64_t a_origin = a.trace.streams.empty() ? 0 : a.trace.streams.front().first_ns;
  const uint64_t b_origin = b.trace.streams.empty() ? 0 : b.trace.streams.front().first_ns;
  auto when = [&](const ProcessDiff& d) -> uint64_t {
    switch (d.status) {
      case Status::diverged:
        // The event of A where it happens: its time orders the report (events are time ordered per process).
        if (d.a->keys.empty()) return 0;
        return a.located(*d.a, std::min(d.change, d.a->keys.size() - 1)).time - a_origin;
      case Status::only_in_a: return d.a->first_ns - a_origin;
      case Status::only_in_b: return d.b->first_ns - b_origin;
      case Status::equal: return 0;
    }
    return 0;
  };
  auto rank = [](Status s) { return s == Status::diverged ? 0 : s == Status::equal ? 2 : 1; };
  auto keyed = diffs | ranges::views::transform([&](const ProcessDiff& d) { return std::pair{rank(d.status), when(d)}; }) |
               ranges::to<std::vector>();
  std::vector<size_t> order = ranges::views::iota(size_t{0}, diffs.size()) | ranges::to<std::vector>();
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return keyed[x] < keyed[y]; });
  std::vector<ProcessDiff> sorted;
  sorted.reserve(diffs.size());
  for (const size_t i : order) sorted.push_back(std::move(diffs[i]));
  diffs = std::move(sorted);
}

}  // namespace

bool skipped_by_diff(const Decoder& decoder, const format::Event& event) {
  const std::string_view name = decoder.syscall_name(event);
  return name == "rt_sigreturn" || name == "sigreturn";
}

TraceStreams read_streams(const std::string& path, progress::ProgressSink* progress) {
  auto reader = open_reader(path);
  // Keys hash every byte decoded: no string or array limit.
  const Decoder decoder(reader.metadata(), DecodeOptions{0, 0});
  const KeyPlans plans(decoder);
  TraceStreams trace;
  auto& streams = trace.streams;
  SlotsByPid slots;
  std::vector<EventNormaliser> normalisers;
  std::vector<std::string> last_comm;
  std::vector<uint32_t> seen;  // events of each process so far
  uint64_t lost = 0;
  for (;;) {
    const format::DecodedBatch* batch = value_or_throw(reader.next_batch());
    if (batch == nullptr) break;
    progress::add_progress(progress, batch->size());
    for (const auto& loss : batch->losses()) lost += loss.loss.lost + loss.loss.overwritten;
    for (const format::Event& e : events_of(*batch)) {
      const auto [slot, inserted] = slots.slot(e.pid);
      if (inserted) {
        ProcessStream s;
        s.pid = e.pid;
        s.first_ns = e.enter_ns;
        streams.push_back(std::move(s));
        normalisers.emplace_back(plans, e.pid);
        last_comm.emplace_back();
        seen.push_back(0);
      }
      ProcessStream& s = streams[slot];
      if (last_comm[slot] != e.comm) {
        if (!s.program.empty()) s.program += '>';
        s.program.append(e.comm);
        last_comm[slot].assign(e.comm);
      }
      ++seen[slot];
      if (skipped_by_diff(decoder, e)) continue;
      s.keys.push_back(normalisers[slot].key(e));
      s.last_ordinal = seen[slot];
    }
  }
  for (auto& s : streams) s.keys.shrink_to_fit();
  if (const auto& counters = reader.counters())
    lost = std::max(lost, counters->events_lost + counters->events_overwritten);
  trace.lost = lost;
  trace.warnings = reader.warnings();
  return trace;
}

std::vector<ProcessDiff> diff_traces(const std::vector<ProcessStream>& a, const std::vector<ProcessStream>& b,
                                     size_t context) {
  // The k-th process of a program in A goes with the k-th of the same program in B.
  std::map<std::string, std::vector<const ProcessStream*>> b_by_program;
  for (const auto& s : b) b_by_program[s.program].push_back(&s);
  std::map<std::string, size_t> taken;

  std::vector<ProcessDiff> diffs;
  for (const auto& s : a) {
    ProcessDiff d;
    d.a = &s;
    auto& candidates = b_by_program[s.program];
    size_t& next = taken[s.program];
    if (next < candidates.size()) d.b = candidates[next++];
    if (d.b == nullptr) {
      d.status = Status::only_in_a;
      diffs.push_back(std::move(d));
      continue;
    }
    const auto runs = diff_sequences(s.keys, d.b->keys);
    const auto change = ranges::find_if(runs, [](const DiffRun& r) { return r.kind != Kind::equal; });
    if (change != runs.end()) {
      d.status = Status::diverged;
      d.change = change->a_begin;
      d.hunks = make_hunks(runs, context);
    }
    diffs.push_back(std::move(d));
  }
  for (const auto& [program, candidates] : b_by_program) {
    for (size_t k = taken[program]; k < candidates.size(); ++k) {
      ProcessDiff d;
      d.b = candidates[k];
      d.status = Status::only_in_b;
      diffs.push_back(std::move(d));
    }
  }
  return diffs;
}

int run_diff(const DiffOptions& options, std::ostream& out, std::ostream& err) {
  try {
    const Input input_a = Input::open(options.path_a);
    const Input input_b = options.path_b == options.path_a && options.path_a == "-" ? Input{input_a.path, UniqueFd()}
                                                                                    : Input::open(options.path_b);
    Side a{input_a.path, read_streams(input_a.path, options.progress), {}, {}};
    Side b{input_b.path, read_streams(input_b.path, options.progress), {}, {}};
    progress::finish_progress(options.progress);
    auto diffs = diff_traces(a.trace.streams, b.trace.streams, options.context);
    a.wanted.assign(a.trace.streams.size(), {});
    b.wanted.assign(b.trace.streams.size(), {});
    for (const ProcessDiff& d : diffs) want_events(a, b, d);
    locate(a, options);
    locate(b, options);
    order_report(diffs, a, b);
    std::string text;
    if (options.format == DiffFormat::json) {
      write_json(text, a, b, diffs, options);
    } else {
      write_text(text, a, b, diffs, options);
    }
    out << text;
    out.flush();
    for (const auto* side : {&a, &b})
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
