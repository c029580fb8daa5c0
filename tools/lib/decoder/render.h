#pragma once
// Renderers: one per output format, each its own module (render_table.cpp,
// render_strace.cpp, render_json.cpp, render_perfetto.cpp, render_html.cpp).
// A renderer appends text for the header, each event, each loss marker and
// the footer to a std::string the caller flushes in big writes (see
// output.h), so rendering allocates nothing per event. The text of an event
// may be dropped after it was rendered (a hidden runtime setup: see
// setup_hiding.h), so a renderer's state must not assume its text was
// written; setup() with SetupMarker::Kind::hidden says which was not.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/event.h"
#include "format/metadata.h"
#include "tools/lib/decoder/decode.h"

namespace traceloop::tools {

// perfetto: Chrome trace-event JSON (one document, for the Perfetto UI);
// html: a self-contained page drawing one lane per thread.
enum class OutputFormat { table, strace, json, perfetto, html };
// "table", "strace", "json", "perfetto", "html"
std::optional<OutputFormat> output_format_from_name(std::string_view name);

enum class TimestampMode {
  none,
  relative,      // -r: seconds since the previous shown event's entry
  wall_seconds,  // -t: HH:MM:SS wall clock
  wall_micros,   // -tt: HH:MM:SS.uuuuuu
  epoch_micros,  // -ttt: seconds.uuuuuu since the epoch
};

struct RenderOptions {
  OutputFormat format = OutputFormat::table;
  TimestampMode timestamps = TimestampMode::none;
  bool durations = false;  // -T: time spent in the call, <0.000123>
  bool header = true;      // table header line / JSON has none
  bool color = false;      // ANSI colors (terminals only: see output.h)
  // Table: CONTAINER column. Automatic when the trace holds several containers.
  std::optional<bool> container_column;
  // Wall clock zone for -t/-tt: UTC unless local is asked (tests need stable output).
  bool local_time = false;
};

// Where a container's runtime setup was (see setup_hiding.h): hidden, with
// the number of calls, or shown after all, with the reason.
struct SetupMarker {
  enum class Kind {
    hidden,          // the calls before the entrypoint's execve are left out
    shown_no_exec,   // the trace holds no entrypoint execve: the setup is all there is
    shown_too_long,  // too much setup to hold back while waiting for the execve
  };
  Kind kind = Kind::hidden;
  uint32_t container = 0;  // index into the trace's containers
  uint32_t init_pid = 0;
  uint64_t calls = 0;  // calls concerned (that the filters let through)
  uint64_t at_ns = 0;  // entry time of the first of them
};

class Renderer {
 public:
  virtual ~Renderer() = default;
  virtual void header(std::string& out) = 0;
  virtual void event(std::string& out, const format::Event& event) = 0;
  virtual void loss(std::string& out, const format::LossMarker& loss) = 0;
  // A signal delivered or a thread's end: a row of its own.
  virtual void notice(std::string& out, const format::TaskNotice& notice) = 0;
  virtual void setup(std::string& out, const SetupMarker& marker) = 0;
  // The trace's process table, complete once every event was read: given
  // just before footer() to the formats that name processes at the end.
  virtual void processes(const std::vector<format::ProcessInfo>&) {}
  virtual void footer(std::string& out) = 0;
};

// The decoder and metadata must outlive the renderer.
std::unique_ptr<Renderer> make_renderer(const RenderOptions& options, const Decoder& decoder,
                                        const format::TraceMetadata& metadata);

// Per-format factories (render_table.cpp, render_strace.cpp, render_json.cpp,
// render_perfetto.cpp, render_html.cpp).
std::unique_ptr<Renderer> make_table_renderer(const RenderOptions& options, const Decoder& decoder,
                                              const format::TraceMetadata& metadata);
std::unique_ptr<Renderer> make_strace_renderer(const RenderOptions& options, const Decoder& decoder,
                                               const format::TraceMetadata& metadata);
std::unique_ptr<Renderer> make_json_renderer(const RenderOptions& options, const Decoder& decoder,
                                             const format::TraceMetadata& metadata);
std::unique_ptr<Renderer> make_perfetto_renderer(const RenderOptions& options, const Decoder& decoder,
                                                 const format::TraceMetadata& metadata);
std::unique_ptr<Renderer> make_html_renderer(const RenderOptions& options, const Decoder& decoder,
                                             const format::TraceMetadata& metadata);

// Shared by the text renderers: the timestamp prefix (with trailing space,
// nothing for TimestampMode::none). `utc_offset_s` shifts -t/-tt to local
// time (0: UTC); `previous_enter_ns` feeds -r and is updated.
void append_timestamp(std::string& out, TimestampMode mode, const format::Event& event,
                      int64_t boot_to_wall_ns, int64_t utc_offset_s, uint64_t& previous_enter_ns);
// The same for a task notice, at its time.
void append_timestamp(std::string& out, TimestampMode mode, const format::TaskNotice& notice,
                      int64_t boot_to_wall_ns, int64_t utc_offset_s, uint64_t& previous_enter_ns);
// The offset of local time from UTC when the trace was made (0 unless
// options.local_time): computed once per renderer, not per event.
int64_t utc_offset_for(const RenderOptions& options, const format::TraceMetadata& metadata);
// " <0.000123>" for -T (nothing for calls that did not return).
void append_duration(std::string& out, const format::Event& event);
// "… 12 events lost …" / "… 3 events lost, 40 overwritten …" (no newline).
void append_loss_text(std::string& out, const format::LossMarker& loss);
// The loss marker as a line of its own, yellow when `color`.
void append_loss_line(std::string& out, const format::LossMarker& loss, bool color);
// The setup marker as a line of its own, framed like loss markers (yellow
// when `color`); names the container when the trace holds several.
void append_setup_line(std::string& out, const SetupMarker& marker, const format::TraceMetadata& metadata,
                       bool color);
// The return value (red for a failure when colouring), then the -T duration
// when asked, then the newline: how every text row ends.
void append_return_and_end(std::string& out, const Decoder& decoder, const format::Event& event,
                           const RenderOptions& options);
// The same at the end of a row staged in `row` (flushed by the time it
// returns), straight into the staging where neither colour nor a duration
// asks for more.
void append_return_and_end(StagedAppend& row, std::string& out, const Decoder& decoder, const format::Event& event,
                           const RenderOptions& options);

// Colours the signal names (SIGINT, SIGRT_3) that decoding appended to `out`
// from `from` on, outside quoted strings (SIG_DFL is a handler, SIGEV_SIGNAL
// a notification: neither is coloured). Returns the bytes of escapes added,
// which the columns do not count.
size_t color_signal_names(std::string& out, size_t from);

// Terminal colours of the text renderers.
inline constexpr std::string_view kBold = "\x1b[1m";
inline constexpr std::string_view kRed = "\x1b[31m";
inline constexpr std::string_view kYellow = "\x1b[33m";
inline constexpr std::string_view kMagenta = "\x1b[35m";
inline constexpr std::string_view kReset = "\x1b[0m";

}  // namespace traceloop::tools
