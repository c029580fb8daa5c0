// The default table, the original tool's columns: CPU PID COMM SYSCALL PARAMS
// RET, with TIME first when timestamps are asked and CONTAINER when the trace
// holds several containers. Column widths are fixed so rows stream without
// a first pass; a long PARAMS just pushes RET to the right.

#include <fmt/format.h>

#include <array>
#include <iterator>
#include <vector>

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
    if (options_.color) {
      colored_event(out, e);
      return;
    }
    // The row gathered on the stack and appended to `out` in one piece, when
    // it ends: each append to `out` is a call, and a row has a dozen pieces.
    // (A rare value is appended to `out` directly; `written()` counts it.)
    StagedAppend row(out);
    append_thread_columns(row, e.container, e.cpu, e.pid, e.comm);
    append_syscall_column(row, e.nr);
    const size_t params_start = row.written();
    decoder_.append_args(row, out, e, ArgStyle::table);
    pad_column(row, params_start, kParamsWidth);
    row.put(' ');  // RET's leading space
    append_return_and_end(row, out, decoder_, e, options_);
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
      describe_notice_siginfo(writer, n, decoder_.catalogue());
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
  // The row with colours: the signal names in PARAMS are coloured once they
  // are in `out`, and the padding leaves out the escapes.
  void colored_event(std::string& out, const format::Event& e) {
    {
      StagedAppend head(out);
      append_thread_columns(head, e.container, e.cpu, e.pid, e.comm);
      const size_t start = head.written();
      head.append(kBold);
      head.append(decoder_.syscall_name(e));
      head.append(kReset);
      pad_column(head, start, 17 + kBold.size() + kReset.size());
      head.flush();
    }
    const size_t col = out.size();
    decoder_.append_args(out, e, ArgStyle::table);
    const size_t width = kParamsWidth + color_signal_names(out, col);
    const size_t used = out.size() - col;  // the colours' escapes included, as in `width`
    out.append((used < width ? width - used : 1) + 1, ' ');
    append_return_and_end(out, decoder_, e, options_);
  }

  // SYSCALL, padded: the name and its padding are the same on every row of
  // the syscall, so they are made once per number.
  void append_syscall_column(StagedAppend& row, uint32_t nr) {
    if (nr >= kCachedNames) [[unlikely]] {
      append_padded_name(row, nr);
      return;
    }
    if (nr >= syscall_columns_.size()) syscall_columns_.resize(nr + 1);
    std::string& column = syscall_columns_[nr];
    if (column.empty()) {
      StagedAppend text(column);
      append_padded_name(text, nr);
      text.flush();
    }
    row.append(column);
  }
  void append_padded_name(StagedAppend& out, uint32_t nr) const {
    const size_t start = out.written();
    out.append(decoder_.syscall_name(nr));
    pad_column(out, start, 17);
  }

  // CONTAINER (when shown), CPU, PID and COMM, each padded, gathered in
  // `head` with what follows them on the row.
  void append_thread_columns(StagedAppend& head, uint32_t container, uint32_t cpu, uint32_t pid,
                             std::string_view comm) {
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
    // CPU, PID and COMM are the same on most rows of a thread, and a
    // process's name changes rarely: their escaped and padded columns are
    // kept by pid and cpu (a few slots, for threads that take turns) rather
    // than written again on every row.
    ThreadColumns& cached = thread_columns_[(pid ^ cpu * 7) % thread_columns_.size()];
    if (!cached.known || cached.pid != pid || cached.cpu != cpu || comm != cached.comm) {
      cached.known = true;
      cached.pid = pid;
      cached.cpu = cpu;
      cached.comm.assign(comm);
      cached.text.clear();
      StagedAppend column(cached.text);
      append_padded(column, cpu, 4);
      append_padded(column, pid, 8);
      const size_t start = column.written();
      append_escaped(column, comm);
      pad_column(column, start, 16);
      column.flush();
    }
    head.append(cached.text);
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
  struct ThreadColumns {
    bool known = false;
    uint32_t pid = 0;
    uint32_t cpu = 0;
    std::string comm;
    std::string text;  // CPU, PID and COMM as written
  };
  std::array<ThreadColumns, 32> thread_columns_;
  // SYSCALL columns by number, made when first needed (empty: not yet);
  // numbers from a hostile file beyond the bound are padded on every row.
  static constexpr uint32_t kCachedNames = 4096;
  std::vector<std::string> syscall_columns_;
};

}  // namespace

std::unique_ptr<Renderer> make_table_renderer(const RenderOptions& options, const Decoder& decoder,
                                              const format::TraceMetadata& metadata) {
  return std::make_unique<TableRenderer>(options, decoder, metadata);
}

}  // namespace traceloop::tools
