// The default table, the original tool's columns: CPU PID COMM SYSCALL PARAMS
// RET, with TIME first when timestamps are asked and CONTAINER when the trace
// holds several containers. Column widths are fixed so rows stream without
// a first pass; a long PARAMS just pushes RET to the right.

#include <fmt/format.h>

#include <iterator>

#include "tools/lib/decoder/flag_sets.h"
#include "tools/lib/decoder/notice_text.h"
#include "tools/lib/decoder/render.h"
#include "tools/lib/decoder/text_append.h"
#include "tools/lib/decoder/value_text.h"

namespace traceloop::tools {
namespace {

constexpr size_t kParamsWidth = 60;

void pad_to(std::string& out, size_t line_start, size_t column) {
  const size_t used = out.size() - line_start;
  out.append(used < column ? column - used : 1, ' ');
}

class TableRenderer final : public Renderer {
 public:
  TableRenderer(const RenderOptions& options, const Decoder& decoder, const format::TraceMetadata& metadata)
      : options_(options), decoder_(decoder), metadata_(metadata), utc_offset_s_(utc_offset_for(options, metadata)) {
    container_column_ = options.container_column.value_or(metadata.containers.size() > 1);
  }

  void header(std::string& out) override {
    if (!options_.header) return;
    const size_t start = out.size();
    if (options_.timestamps != TimestampMode::none) {
      out.append("TIME");
      pad_to(out, start, time_width());
    }
    if (container_column_) out.append("CONTAINER     ");
    out.append("CPU PID     COMM            SYSCALL          ");
    const size_t params_start = out.size();
    out.append("PARAMS");
    pad_to(out, params_start, kParamsWidth);
    out.append(" RET\n");
  }

  void event(std::string& out, const format::Event& e) override {
    append_timestamp(out, options_.timestamps, e, metadata_.boot_to_wall_ns, utc_offset_s_, previous_ns_);
    {
      // The thread's columns to SYSCALL in one append: each append is a call.
      StagedAppend head(out);
      append_thread_columns(head, e.container, e.cpu, e.pid, e.comm);
      const size_t start = head.written();
      if (options_.color) head.append(kBold);
      head.append(decoder_.syscall_name(e));
      if (options_.color) head.append(kReset);
      pad_column(head, start, 17 + (options_.color ? kBold.size() + kReset.size() : 0));
      head.flush();
    }
    size_t col = out.size();
    decoder_.append_args(out, e, ArgStyle::table);
    {
      // The padding and RET's leading space in one append.
      StagedAppend pad(out);
      const size_t width = kParamsWidth + (options_.color ? color_signal_names(out, col) : 0);
      const size_t used = out.size() - col;  // the colours' escapes included, as in `width`
      pad_column(pad, 0, (used < width ? width - used : 1) + 1);
      pad.flush();
    }
    append_return_and_end(out, decoder_, e, options_);
  }

  void loss(std::string& out, const format::LossMarker& loss) override { append_loss_line(out, loss, options_.color); }

  // SYSCALL "--- SIGSEGV" with the siginfo as PARAMS, or "+++" with how the
  // thread ended; no RET.
  void notice(std::string& out, const format::TaskNotice& n) override {
    append_timestamp(out, options_.timestamps, n, metadata_.boot_to_wall_ns, utc_offset_s_, previous_ns_);
    {
      StagedAppend head(out);
      append_thread_columns(head, n.container, n.cpu, n.pid, n.comm);
      head.flush();
    }
    const size_t col = out.size();
    if (n.kind == format::TaskNotice::Kind::signal) {
      out.append("--- ");
      append_signal(out, n.signo);
      size_t escapes = options_.color ? color_signal_names(out, col) : 0;
      pad_to(out, col, 17 + escapes);
      const size_t params = out.size();
      TextValueWriter writer(out);
      describe_notice_siginfo(writer, n, decoder_.catalogue().arch());
      if (options_.color) color_signal_names(out, params);
    } else {
      out.append("+++");
      pad_to(out, col, 17);
      const size_t params = out.size();
      append_exit_outcome(out, n.exit_status);
      if (options_.color) color_signal_names(out, params);
    }
    out.push_back('\n');
  }

  void setup(std::string& out, const SetupMarker& marker) override {
    append_setup_line(out, marker, metadata_, options_.color);
  }

  void footer(std::string&) override {}

 private:
  // CONTAINER (when shown), CPU, PID and COMM, each padded to its column.
  // CONTAINER (when shown), CPU, PID and COMM, each padded, gathered in
  // `head` with what follows them on the row.
  void append_thread_columns(StagedAppend& head, uint32_t container, uint32_t cpu, uint32_t pid,
                             std::string_view comm) const {
    if (container_column_) {
      const size_t start = head.written();
      if (container < metadata_.containers.size()) {
        const auto& c = metadata_.containers[container];
        append_escaped(head, std::string_view(c.name.empty() ? c.id : c.name).substr(0, 12));
      } else {
        head.put('-');
      }
      pad_column(head, start, 14);
    }
    append_padded(head, cpu, 4);
    append_padded(head, pid, 8);
    const size_t start = head.written();
    append_escaped(head, comm);
    pad_column(head, start, 16);
  }

  size_t time_width() const {
    switch (options_.timestamps) {
      case TimestampMode::relative: return 14;
      case TimestampMode::wall_seconds: return 9;
      case TimestampMode::wall_micros: return 16;
      case TimestampMode::epoch_micros: return 18;
      case TimestampMode::none: break;
    }
    return 0;
  }

  RenderOptions options_;
  const Decoder& decoder_;
  const format::TraceMetadata& metadata_;
  bool container_column_ = false;
  int64_t utc_offset_s_ = 0;
  uint64_t previous_ns_ = 0;
};

}  // namespace

std::unique_ptr<Renderer> make_table_renderer(const RenderOptions& options, const Decoder& decoder,
                                              const format::TraceMetadata& metadata) {
  return std::make_unique<TableRenderer>(options, decoder, metadata);
}

}  // namespace traceloop::tools
