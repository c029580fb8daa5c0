// The line format of `strace -f`: "TID syscall(args) = ret", the return value
// at column 40 like strace, "= ?" for calls that never return and
// "<unfinished ...>" for calls still in flight, signals and ends as
// "TID --- SIG... {...} ---" and "TID +++ exited with N +++", so people and
// scripts used to strace feel at home.

#include <fmt/format.h>

#include <iterator>

#include "tools/lib/decoder/notice_text.h"
#include "tools/lib/decoder/render.h"
#include "tools/lib/decoder/text_append.h"

namespace traceloop::tools {
namespace {

class StraceRenderer final : public Renderer {
 public:
  StraceRenderer(const RenderOptions& options, const Decoder& decoder, const format::TraceMetadata& metadata)
      : options_(options), decoder_(decoder), metadata_(metadata), utc_offset_s_(utc_offset_for(options, metadata)) {}

  void header(std::string&) override {}

  void event(std::string& out, const format::Event& e) override {
    const size_t start = out.size();
    if (options_.color || options_.timestamps != TimestampMode::none) {
      event_in_pieces(out, e, start);
      return;
    }
    // The row gathered on the stack and appended to `out` in one piece, when
    // it ends: each append to `out` is a call, and a row has a dozen pieces.
    // (A rare value is appended to `out` directly; `written()` counts it.)
    StagedAppend row(out);
    append_decimal(row, uint64_t{e.tid});
    row.put(' ');
    row.append(decoder_.syscall_name(e));
    row.put('(');
    decoder_.append_args(row, out, e, ArgStyle::strace);
    if (e.state == format::CallState::unfinished) {
      row.append(" <unfinished ...>\n");
      row.flush();
      return;
    }
    row.put(')');
    // `=` at column 41 at least, one space before it whatever the length.
    pad_column(row, start, 40);
    row.append("= ");
    if (!returns(e)) {
      row.flush();
      end_without_return(out, e);
      return;
    }
    append_return_and_end(row, out, decoder_, e, options_);
  }

  void loss(std::string& out, const format::LossMarker& loss) override { append_loss_line(out, loss, options_.color); }

  // strace -f -o's "TID --- SIGCHLD {...} ---" and "TID +++ exited with 0 +++".
  void notice(std::string& out, const format::TaskNotice& n) override {
    append_decimal(out, uint64_t{n.tid});
    out.push_back(' ');
    append_timestamp(out, options_.timestamps, n, metadata_.boot_to_wall_ns, utc_offset_s_, previous_ns_);
    const size_t text_start = out.size();
    append_notice(out, n, decoder_.catalogue());
    if (options_.color) color_signal_names(out, text_start);
    out.push_back('\n');
  }

  void setup(std::string& out, const SetupMarker& marker) override {
    append_setup_line(out, marker, metadata_, options_.color);
  }

  void footer(std::string&) override {}

 private:
  // Whether the row shows a return value after its `=`.
  bool returns(const format::Event& e) const {
    const auto* spec = decoder_.spec(e);
    return e.state != format::CallState::never_returned && !(spec && spec->returns == format::ReturnKind::none);
  }

  void end_without_return(std::string& out, const format::Event& e) {
    out.append("?");
    if (options_.durations) append_duration(out, e);
    out.push_back('\n');
  }

  // A row with a timestamp after the TID or colours (the signal names are
  // coloured once they are in `out`, and the column leaves out the escapes).
  void event_in_pieces(std::string& out, const format::Event& e, size_t start) {
    {
      StagedAppend tid(out);  // the number and its space in one append
      append_decimal(tid, uint64_t{e.tid});
      tid.put(' ');
      tid.flush();
    }
    append_timestamp(out, options_.timestamps, e, metadata_.boot_to_wall_ns, utc_offset_s_, previous_ns_);
    size_t escapes = 0;  // bytes the return's column does not count
    if (options_.color) {
      out.append(kBold);
      out.append(decoder_.syscall_name(e));
      out.append(kReset);
      escapes = kBold.size() + kReset.size();
    } else {
      out.append(decoder_.syscall_name(e));
    }
    out.push_back('(');
    const size_t args_start = out.size();
    decoder_.append_args(out, e, ArgStyle::strace);
    if (options_.color) escapes += color_signal_names(out, args_start);
    if (e.state == format::CallState::unfinished) {
      out.append(" <unfinished ...>\n");
      return;
    }
    out.push_back(')');
    const size_t used = out.size() - start - escapes;
    if (used < 39) out.append(39 - used, ' ');
    out.append(" = ");
    if (!returns(e)) {
      end_without_return(out, e);
      return;
    }
    append_return_and_end(out, decoder_, e, options_);
  }

  RenderOptions options_;
  const Decoder& decoder_;
  const format::TraceMetadata& metadata_;
  int64_t utc_offset_s_ = 0;
  uint64_t previous_ns_ = 0;
};

}  // namespace

std::unique_ptr<Renderer> make_strace_renderer(const RenderOptions& options, const Decoder& decoder,
                                               const format::TraceMetadata& metadata) {
  return std::make_unique<StraceRenderer>(options, decoder, metadata);
}

}  // namespace traceloop::tools
