// JSON Lines: one object per event (and per loss or setup marker) with raw and
// typed decoded values (value_json.h), for jq; schemas/tl-show.schema.json
// describes every line. Every string is valid JSON whatever the trace holds.

#include <fmt/format.h>

#include <iterator>

#include "tools/lib/decoder/json_string.h"
#include "tools/lib/decoder/render.h"
#include "tools/lib/decoder/text_append.h"
#include "tools/lib/decoder/value_json.h"

namespace traceloop::tools {
namespace {

std::string_view state_name(format::CallState s) {
  switch (s) {
    case format::CallState::returned: return "returned";
    case format::CallState::never_returned: return "never_returned";
    case format::CallState::unfinished: return "unfinished";
  }
  return "unknown";
}

class JsonRenderer final : public Renderer {
 public:
  JsonRenderer(const RenderOptions& options, const Decoder& decoder, const format::TraceMetadata& metadata)
      : options_(options), decoder_(decoder), metadata_(metadata) {}

  void header(std::string&) override {}

  void event(std::string& out, const format::Event& e) override {
    out.append("{\"type\":\"event\",\"enter_ns\":");
    append_decimal(out, e.enter_ns);
    out.append(",\"wall_ns\":");
    append_decimal(out, static_cast<int64_t>(e.enter_ns) + metadata_.boot_to_wall_ns);
    out.append(",\"pid\":");
    append_decimal(out, uint64_t{e.pid});
    out.append(",\"tid\":");
    append_decimal(out, uint64_t{e.tid});
    out.append(",\"cpu\":");
    append_decimal(out, uint64_t{e.cpu});
    out.append(",\"comm\":");
    append_json_bytes(out, e.comm, false);
    append_container(out, e.container);
    out.append(",\"nr\":");
    append_decimal(out, uint64_t{e.nr});
    out.append(",\"syscall\":");
    append_json_string(out, decoder_.syscall_name(e));
    out.append(",\"args\":[");
    const size_t n = std::min<size_t>(decoder_.param_count(e), 6);
    for (size_t i = 0; i < n; ++i) {
      if (i) out.push_back(',');
      out.append("{\"name\":");
      append_json_string(out, decoder_.param_name(e, i));
      out.append(",\"raw\":");
      append_decimal(out, e.args[i]);
      out.append(",\"value\":");
      JsonValueWriter value(out);
      decoder_.describe_arg(value, e, i);
      out.push_back('}');
    }
    out.append("],\"state\":\"");
    out.append(state_name(e.state));
    out.push_back('"');
    if (e.state == format::CallState::returned) {
      out.append(",\"ret\":");
      append_decimal(out, e.ret);
      out.append(",\"duration_ns\":");
      append_decimal(out, e.duration_ns());
      const size_t mark = out.size();
      out.append(",\"return\":");
      JsonValueWriter value(out);
      if (!decoder_.describe_return(value, e)) out.resize(mark);  // a call that never returns
    }
    out.append("}\n");
  }

  void loss(std::string& out, const format::LossMarker& loss) override {
    fmt::format_to(std::back_inserter(out), "{{\"type\":\"loss\",\"at_ns\":{},\"lost\":{},\"overwritten\":{},\"cpu\":{}",
                   loss.at_ns, loss.lost, loss.overwritten, loss.cpu);
    append_container(out, loss.container);
    out.append("}\n");
  }

  // The same fields whatever happened to the setup, so one jq filter reads all:
  // "action" says whether the calls are left out, "reason" why they are not.
  void setup(std::string& out, const SetupMarker& marker) override {
    auto it = std::back_inserter(out);
    std::string_view action = "hidden", reason;
    if (marker.kind == SetupMarker::Kind::shown_no_exec) action = "shown", reason = "no_exec";
    if (marker.kind == SetupMarker::Kind::shown_too_long) action = "shown", reason = "too_long";
    fmt::format_to(it, "{{\"type\":\"setup\",\"action\":\"{}\"", action);
    if (!reason.empty()) fmt::format_to(it, ",\"reason\":\"{}\"", reason);
    fmt::format_to(it, ",\"at_ns\":{},\"calls\":{},\"init_pid\":{}", marker.at_ns, marker.calls, marker.init_pid);
    append_container(out, marker.container);
    out.append("}\n");
  }

  void footer(std::string&) override {}

 private:
  // The container's id, as every line names it (none for a host-wide trace's
  // calls outside containers).
  void append_container(std::string& out, uint32_t index) const {
    if (index < metadata_.containers.size() && !metadata_.containers[index].id.empty()) {
      out.append(",\"container\":");
      append_json_string(out, metadata_.containers[index].id);
    }
  }

  RenderOptions options_;
  const Decoder& decoder_;
  const format::TraceMetadata& metadata_;
};

}  // namespace

std::unique_ptr<Renderer> make_json_renderer(const RenderOptions& options, const Decoder& decoder,
                                             const format::TraceMetadata& metadata) {
  return std::make_unique<JsonRenderer>(options, decoder, metadata);
}

}  // namespace traceloop::tools
