// The default table, the original tool's columns: CPU PID COMM SYSCALL PARAMS
// RET, with TIME first when timestamps are asked and CONTAINER when the trace
// holds several containers. Column widths are fixed so rows stream without
// a first pass; a long PARAMS just pushes RET to the right.

#include <fmt/format.h>

#include <iterator>

#include "tools/lib/decoder/render.h"
#include "tools/lib/decoder/text_append.h"

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
    if (container_column_) {
      const size_t col = out.size();
      if (e.container < metadata_.containers.size()) {
        const auto& c = metadata_.containers[e.container];
        append_escaped(out, std::string_view(c.name.empty() ? c.id : c.name).substr(0, 12));
      } else {
        out.push_back('-');
      }
      pad_to(out, col, 14);
    }
    {
      // CPU to SYSCALL in one append: each append is a call.
      StagedAppend head(out);
      append_padded(head, e.cpu, 4);
      append_padded(head, e.pid, 8);
      size_t start = head.written();
      append_escaped(head, e.comm);
      pad_column(head, start, 16);
      start = head.written();
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

  void setup(std::string& out, const SetupMarker& marker) override {
    append_setup_line(out, marker, metadata_, options_.color);
  }

  void footer(std::string&) override {}

 private:
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
