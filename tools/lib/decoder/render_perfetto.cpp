// Chrome trace-event JSON, the format the Perfetto UI (and chrome://tracing)
// opens: one document {"traceEvents":[...]} with one complete event ("X")
// per call on its thread's track (a call without an exit, unfinished,
// lasting until its thread's next call or the end of the trace), loss and
// setup markers as instant events, and the names of processes and threads
// as metadata events ("M") at the end, where the process table is complete
// (the format allows metadata anywhere in the array).
//
// Grouping by container: Perfetto groups threads under their process (pid)
// but has no level above it. Each process's name carries its container
// ("sh [web]"), its sort index keeps the processes of one container
// together in the trace's container order, and its labels carry the
// container's id and the command line.
//
// Times are microseconds (the format's unit) written as exact decimals of
// the trace's nanoseconds, so no precision is lost to floating point.

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <optional>
#include <unordered_set>

#include "tools/lib/decoder/flag_sets.h"
#include "tools/lib/decoder/json_string.h"
#include "tools/lib/decoder/notice_text.h"
#include "tools/lib/decoder/render.h"
#include "tools/lib/decoder/text_append.h"
#include "tools/lib/decoder/timeline_tracks.h"

namespace traceloop::tools {
namespace {

std::string_view category(const format::Event& e) {
  if (e.failed()) return "failed";
  switch (e.state) {
    case format::CallState::returned: return "syscall";
    case format::CallState::never_returned: return "never_returned";
    case format::CallState::unfinished: return "unfinished";
  }
  return "syscall";
}

class PerfettoRenderer final : public Renderer {
 public:
  PerfettoRenderer(const Decoder& decoder, const format::TraceMetadata& metadata)
      : decoder_(decoder), metadata_(metadata), tracks_(metadata) {}

  // Every record after this first one starts with its comma: a record
  // rendered and then dropped (a hidden runtime setup) leaves no stray one.
  // The first names pid 0, where the global loss markers are.
  void header(std::string& out) override {
    out.append("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
    out.append("{\"ph\":\"M\",\"name\":\"process_name\",\"ts\":0,\"pid\":0,\"tid\":0,\"args\":{\"name\":");
    append_json_string(out, "traceloop: " + metadata_.host_name);
    out.append("}}");
  }

  void event(std::string& out, const format::Event& e) override {
    const uint32_t thread = tracks_.observe(e);
    end_ns_ = std::max({end_ns_, e.enter_ns, e.exit_ns});
    if (thread >= pending_.size()) pending_.resize(thread + 1);
    // A call whose exit was not recorded (lost, or still in flight) lasts
    // until its thread's next call, or until the trace ends: known only
    // then, so its text waits (one per thread at most).
    if (auto& previous = pending_[thread]) {
      close_unfinished(out, *previous, e.enter_ns);
      previous.reset();
    }
    std::string& text = e.state == format::CallState::unfinished ? pending_[thread].emplace(e.enter_ns).text : out;
    if (&text == &out) begin_record(out);
    text.append("{\"ph\":\"X\",\"name\":");
    append_json_string(text, decoder_.syscall_name(e));
    text.append(",\"cat\":\"");
    text.append(category(e));
    text.append(e.failed() ? "\",\"cname\":\"terrible\",\"ts\":" : "\",\"ts\":");
    append_micros(text, e.enter_ns);
    text.append(",\"pid\":");
    append_decimal(text, uint64_t{e.pid});
    text.append(",\"tid\":");
    append_decimal(text, uint64_t{e.tid});
    text.append(",\"args\":{");
    const size_t n = std::min<size_t>(decoder_.param_count(e), 6);
    for (size_t i = 0; i < n; ++i) {
      append_json_string(text, decoder_.param_name(e, i));
      text.push_back(':');
      scratch_.clear();
      decoder_.append_arg(scratch_, e, i);
      append_json_string(text, scratch_);
      text.push_back(',');
    }
    text.append("\"return\":");
    scratch_.clear();
    decoder_.append_return(scratch_, e);
    append_json_string(text, scratch_);
    text.append(",\"on_cpu\":");  // not "cpu": getcpu has a parameter of that name
    append_decimal(text, uint64_t{e.cpu});
    text.append("},\"dur\":");
    if (&text != &out) return;  // the duration and the closing brace: close_unfinished()
    append_micros(out, e.duration_ns());
    out.push_back('}');
  }

  void loss(std::string& out, const format::LossMarker& loss) override {
    end_ns_ = std::max(end_ns_, loss.at_ns);
    begin_record(out);
    out.append("{\"ph\":\"i\",\"s\":\"g\",\"name\":\"events lost\",\"cat\":\"loss\",\"ts\":");
    append_micros(out, loss.at_ns);
    out.append(",\"pid\":0,\"tid\":0,\"args\":{\"lost\":");
    append_decimal(out, loss.lost);
    out.append(",\"overwritten\":");
    append_decimal(out, loss.overwritten);
    out.append(",\"cpu\":");
    append_decimal(out, int64_t{loss.cpu});
    out.append("}}");
  }

  // An instant on the thread's track, named as strace writes it.
  void notice(std::string& out, const format::TaskNotice& n) override {
    end_ns_ = std::max(end_ns_, n.at_ns);
    begin_record(out);
    const bool signal = n.kind == format::TaskNotice::Kind::signal;
    out.append(signal ? "{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"signal\",\"name\":"
                      : "{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"exit\",\"name\":");
    scratch_.clear();
    if (signal)
      append_signal(scratch_, n.signo);
    else
      append_exit_outcome(scratch_, n.exit_status);
    append_json_string(out, scratch_);
    out.append(",\"ts\":");
    append_micros(out, n.at_ns);
    out.append(",\"pid\":");
    append_decimal(out, uint64_t{n.pid});
    out.append(",\"tid\":");
    append_decimal(out, uint64_t{n.tid});
    out.append(",\"args\":{\"text\":");
    scratch_.clear();
    append_notice(scratch_, n, decoder_.catalogue());
    append_json_string(out, scratch_);
    out.append("}}");
  }

  void setup(std::string& out, const SetupMarker& marker) override {
    // Hidden: the container's calls rendered so far were dropped, its calls
    // waiting for their end with them.
    if (marker.kind == SetupMarker::Kind::hidden) {
      tracks_.forget_calls_of(marker.container);
      const auto& threads = tracks_.threads();
      for (size_t i = 0; i < pending_.size() && i < threads.size(); ++i)
        if (threads[i].container == marker.container) pending_[i].reset();
    }
    begin_record(out);
    out.append("{\"ph\":\"i\",\"s\":\"p\",\"name\":\"runtime setup\",\"cat\":\"setup\",\"ts\":");
    append_micros(out, marker.at_ns);
    out.append(",\"pid\":");
    append_decimal(out, uint64_t{marker.init_pid});
    out.append(",\"tid\":");
    append_decimal(out, uint64_t{marker.init_pid});
    out.append(",\"args\":{\"text\":");
    scratch_.clear();
    append_setup_line(scratch_, marker, metadata_, false);
    if (!scratch_.empty() && scratch_.back() == '\n') scratch_.pop_back();
    append_json_string(out, scratch_);
    out.append("}}");
  }

  void processes(const std::vector<format::ProcessInfo>& table) override { tracks_.set_processes(table); }

  void footer(std::string& out) override {
    for (auto& call : pending_)
      if (call) close_unfinished(out, *call, end_ns_);
    const auto& threads = tracks_.threads();
    const auto ranks = tracks_.process_ranks();
    std::unordered_set<uint32_t> named;
    for (uint32_t index : tracks_.lane_order()) {
      const TimelineThread& t = threads[index];
      if (named.insert(t.pid).second) process_metadata(out, t, ranks[index]);
      metadata_event(out, "thread_name", t.pid, t.tid);
      out.append("{\"name\":");
      append_json_string(out, t.comm);
      out.append("}}");
      metadata_event(out, "thread_sort_index", t.pid, t.tid);
      out.append("{\"sort_index\":");
      append_decimal(out, uint64_t{t.tid == t.pid ? 0 : t.tid});
      out.append("}}");
    }
    out.append("],\"otherData\":{\"host\":");
    append_json_string(out, metadata_.host_name);
    out.append(",\"recorder\":");
    append_json_string(out, metadata_.recorder_version);
    out.append(",\"kernel\":");
    append_json_string(out, metadata_.kernel_release);
    out.append(",\"clock\":\"boottime\"}}\n");
  }

 private:
  struct Unfinished {
    explicit Unfinished(uint64_t enter) : enter_ns(enter) {}
    uint64_t enter_ns = 0;
    std::string text;  // from its opening brace up to "dur":
  };

  void close_unfinished(std::string& out, const Unfinished& call, uint64_t end_ns) {
    begin_record(out);
    out.append(call.text);
    append_micros(out, end_ns - std::min(end_ns, call.enter_ns));
    out.push_back('}');
  }

  // The separator before an array element, one element per line for diffs and grep.
  static void begin_record(std::string& out) { out.append(",\n"); }

  void metadata_event(std::string& out, std::string_view name, uint32_t pid, uint32_t tid) {
    begin_record(out);
    out.append("{\"ph\":\"M\",\"name\":\"");
    out.append(name);
    out.append("\",\"ts\":0,\"pid\":");
    append_decimal(out, uint64_t{pid});
    out.append(",\"tid\":");
    append_decimal(out, uint64_t{tid});
    out.append(",\"args\":");
  }

  void process_metadata(std::string& out, const TimelineThread& t, uint32_t rank) {
    const std::string container = tracks_.container_name(t.container);
    std::string name = tracks_.process_name(t.pid);
    if (!container.empty()) name += " [" + container + "]";
    metadata_event(out, "process_name", t.pid, t.pid);
    out.append("{\"name\":");
    append_json_string(out, name);
    out.append("}}");
    metadata_event(out, "process_sort_index", t.pid, t.pid);
    out.append("{\"sort_index\":");
    append_decimal(out, uint64_t{rank});
    out.append("}}");
    std::string labels = tracks_.process_command(t.pid);
    if (t.container < metadata_.containers.size()) {
      if (!labels.empty()) labels += ", ";
      labels += "container " + metadata_.containers[t.container].id.substr(0, 12);
    }
    if (labels.empty()) return;
    metadata_event(out, "process_labels", t.pid, t.pid);
    out.append("{\"labels\":");
    append_json_string(out, labels);
    out.append("}}");
  }

  const Decoder& decoder_;
  const format::TraceMetadata& metadata_;
  TimelineTracks tracks_;
  std::vector<std::optional<Unfinished>> pending_;  // by thread index
  uint64_t end_ns_ = 0;
  std::string scratch_;
};

}  // namespace

std::unique_ptr<Renderer> make_perfetto_renderer(const RenderOptions&, const Decoder& decoder,
                                                 const format::TraceMetadata& metadata) {
  return std::make_unique<PerfettoRenderer>(decoder, metadata);
}

}  // namespace traceloop::tools
