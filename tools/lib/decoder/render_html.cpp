// One self-contained HTML page drawing the trace as a lane per thread
// (timeline.html: plain JavaScript on a canvas, no network). The calls go
// into the page as compact JSON, one array per call:
//   [thread, start µs, duration µs, name index, flags, "args", "return"]
// (the list closed by a null), times relative to the first call rendered,
// syscall names interned; then the threads (in lane order, named from the
// process table) at the end, where the table is complete. Every string is JSON with '<' escaped, so nothing a
// trace holds can close the page's <script>.

#include <algorithm>
#include <unordered_map>

#include "tools/lib/decoder/json_string.h"
#include "tools/lib/decoder/notice_text.h"
#include "tools/lib/decoder/render.h"
#include "tools/lib/decoder/text_append.h"
#include "tools/lib/timeline_html.h"
#include "tools/lib/decoder/timeline_tracks.h"

namespace traceloop::tools {
namespace {

// Bits of an event's flags (timeline.html reads them).
constexpr unsigned kFailed = 1, kUnfinished = 2, kNeverReturned = 4;

class HtmlRenderer final : public Renderer {
 public:
  HtmlRenderer(const Decoder& decoder, const format::TraceMetadata& metadata)
      : decoder_(decoder), metadata_(metadata), tracks_(metadata) {}

  void header(std::string& out) override {
    out.append(kTimelineHtmlBefore);
    out.append("{\"events\":[");
  }

  void event(std::string& out, const format::Event& e) override {
    const uint32_t thread = tracks_.observe(e);
    if (!started_) {
      origin_ns_ = e.enter_ns;
      started_ = true;
    }
    end_ns_ = std::max({end_ns_, e.enter_ns, e.exit_ns});
    out.append("\n[");
    append_decimal(out, uint64_t{thread});
    out.push_back(',');
    append_relative_micros(out, e.enter_ns);
    out.push_back(',');
    append_micros(out, e.duration_ns());
    out.push_back(',');
    append_decimal(out, uint64_t{name_index(e)});
    out.push_back(',');
    unsigned flags = e.failed() ? kFailed : 0;
    if (e.state == format::CallState::unfinished) flags |= kUnfinished;
    if (e.state == format::CallState::never_returned) flags |= kNeverReturned;
    append_decimal(out, uint64_t{flags});
    out.push_back(',');
    scratch_.clear();
    decoder_.append_args(scratch_, e, ArgStyle::strace);
    append_html_json_string(out, scratch_);
    out.push_back(',');
    scratch_.clear();
    decoder_.append_return(scratch_, e);
    append_html_json_string(out, scratch_);
    out.append("],");
  }

  void loss(std::string&, const format::LossMarker& loss) override {
    end_ns_ = std::max(end_ns_, loss.at_ns);
    std::string text;
    append_loss_text(text, loss);
    markers_.push_back({"loss", loss.at_ns, std::move(text)});
  }

  // A marker at its time, with strace's text.
  void notice(std::string&, const format::TaskNotice& n) override {
    end_ns_ = std::max(end_ns_, n.at_ns);
    std::string text = "[pid " + std::to_string(n.tid) + "] ";
    append_notice(text, n, decoder_.catalogue());
    markers_.push_back({n.kind == format::TaskNotice::Kind::signal ? "signal" : "exit", n.at_ns, std::move(text)});
  }

  void setup(std::string&, const SetupMarker& marker) override {
    // Hidden: the container's calls rendered so far were dropped.
    if (marker.kind == SetupMarker::Kind::hidden) tracks_.forget_calls_of(marker.container);
    std::string text;
    append_setup_line(text, marker, metadata_, false);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    markers_.push_back({"setup", marker.at_ns, std::move(text)});
  }

  void processes(const std::vector<format::ProcessInfo>& table) override { tracks_.set_processes(table); }

  void footer(std::string& out) override {
    if (!started_ && !markers_.empty()) origin_ns_ = markers_.front().at_ns;  // markers alone: they start it
    // Every call ends with its comma (one rendered and then dropped, a
    // hidden runtime setup, leaves no stray one): null closes the list.
    out.append("\nnull],\"end\":");
    append_micros(out, end_ns_ - std::min(end_ns_, origin_ns_));
    out.append(",\"host\":");
    append_html_json_string(out, metadata_.host_name);
    out.append(",\"grouped\":");
    out.append(metadata_.containers.empty() ? "false" : "true");
    out.append(",\"names\":[");
    for (size_t i = 0; i < names_.size(); ++i) {
      if (i) out.push_back(',');
      append_html_json_string(out, names_[i]);
    }
    out.append("],\"threads\":[");
    const auto& threads = tracks_.threads();
    bool first = true;
    for (uint32_t index : tracks_.lane_order()) {
      const TimelineThread& t = threads[index];
      out.append(first ? "\n{\"index\":" : ",\n{\"index\":");
      first = false;
      append_decimal(out, uint64_t{index});
      out.append(",\"pid\":");
      append_decimal(out, uint64_t{t.pid});
      out.append(",\"tid\":");
      append_decimal(out, uint64_t{t.tid});
      out.append(",\"name\":");
      append_html_json_string(out, t.comm);
      out.append(",\"process\":");
      append_html_json_string(out, tracks_.process_name(t.pid));
      out.append(",\"container\":");
      append_html_json_string(out, tracks_.container_name(t.container));
      out.push_back('}');
    }
    out.append("],\"markers\":[");
    for (size_t i = 0; i < markers_.size(); ++i) {
      const Marker& m = markers_[i];
      out.append(i ? ",\n{\"kind\":\"" : "\n{\"kind\":\"");
      out.append(m.kind);
      out.append("\",\"at\":");
      append_relative_micros(out, m.at_ns);
      out.append(",\"text\":");
      append_html_json_string(out, m.text);
      out.push_back('}');
    }
    out.append("]}");
    out.append(kTimelineHtmlAfter);
  }

 private:
  struct Marker {
    std::string_view kind;
    uint64_t at_ns = 0;
    std::string text;
  };

  // Times after the first call; a call entered before it (another CPU's
  // clock order) gets a negative time.
  void append_relative_micros(std::string& out, uint64_t ns) const {
    if (ns < origin_ns_) {
      out.push_back('-');
      append_micros(out, origin_ns_ - ns);
    } else {
      append_micros(out, ns - origin_ns_);
    }
  }

  // JSON string whose '<' is \u003c: inside <script> the text must never
  // hold "</script" or "<!--".
  void append_html_json_string(std::string& out, std::string_view bytes) {
    json_scratch_.clear();
    append_json_string(json_scratch_, bytes);
    size_t from = 0;
    for (size_t at; (at = json_scratch_.find('<', from)) != std::string::npos; from = at + 1) {
      out.append(json_scratch_, from, at - from);
      out.append("\\u003c");
    }
    out.append(json_scratch_, from);
  }

  uint32_t name_index(const format::Event& e) {
    auto [it, added] = name_indices_.try_emplace(e.nr, static_cast<uint32_t>(names_.size()));
    if (added) names_.emplace_back(decoder_.syscall_name(e));
    return it->second;
  }

  const Decoder& decoder_;
  const format::TraceMetadata& metadata_;
  TimelineTracks tracks_;
  std::unordered_map<uint32_t, uint32_t> name_indices_;  // syscall number -> index in names_
  std::vector<std::string> names_;
  std::vector<Marker> markers_;
  uint64_t origin_ns_ = 0;
  uint64_t end_ns_ = 0;
  bool started_ = false;
  std::string scratch_;
  std::string json_scratch_;
};

}  // namespace

std::unique_ptr<Renderer> make_html_renderer(const RenderOptions&, const Decoder& decoder,
                                             const format::TraceMetadata& metadata) {
  return std::make_unique<HtmlRenderer>(decoder, metadata);
}

}  // namespace traceloop::tools
