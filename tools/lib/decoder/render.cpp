// What the renderers share: the factory, timestamps, durations, loss and setup lines, row ends.

#include "tools/lib/decoder/render.h"

#include <fmt/format.h>

#include <ctime>
#include <iterator>

namespace traceloop::tools {

std::optional<OutputFormat> output_format_from_name(std::string_view name) {
  if (name == "table") return OutputFormat::table;
  if (name == "strace") return OutputFormat::strace;
  if (name == "json") return OutputFormat::json;
  if (name == "perfetto") return OutputFormat::perfetto;
  if (name == "html") return OutputFormat::html;
  return std::nullopt;
}

std::unique_ptr<Renderer> make_renderer(const RenderOptions& options, const Decoder& decoder,
                                        const format::TraceMetadata& metadata) {
  switch (options.format) {
    case OutputFormat::strace: return make_strace_renderer(options, decoder, metadata);
    case OutputFormat::json: return make_json_renderer(options, decoder, metadata);
    case OutputFormat::perfetto: return make_perfetto_renderer(options, decoder, metadata);
    case OutputFormat::html: return make_html_renderer(options, decoder, metadata);
    case OutputFormat::table: break;
  }
  return make_table_renderer(options, decoder, metadata);
}

namespace {

// Offset of local time from UTC at `wall_seconds` (for -t/-tt with local_time).
int64_t local_offset_seconds(int64_t wall_seconds) {
  const time_t t = static_cast<time_t>(wall_seconds);
  struct tm tm {};
  localtime_r(&t, &tm);
  return tm.tm_gmtoff;
}

}  // namespace

int64_t utc_offset_for(const RenderOptions& options, const format::TraceMetadata& metadata) {
  return options.local_time ? local_offset_seconds(metadata.created_wall_ns / 1'000'000'000) : 0;
}

void append_timestamp(std::string& out, TimestampMode mode, const format::Event& event, int64_t boot_to_wall_ns,
                      int64_t utc_offset_s, uint64_t& previous_enter_ns) {
  auto it = std::back_inserter(out);
  switch (mode) {
    case TimestampMode::none:
      return;
    case TimestampMode::relative: {
      const uint64_t delta =
          previous_enter_ns == 0 || event.enter_ns < previous_enter_ns ? 0 : event.enter_ns - previous_enter_ns;
      previous_enter_ns = event.enter_ns;
      fmt::format_to(it, "{:6}.{:06} ", delta / 1'000'000'000, (delta % 1'000'000'000) / 1000);
      return;
    }
    case TimestampMode::wall_seconds:
    case TimestampMode::wall_micros:
    case TimestampMode::epoch_micros: {
      const int64_t wall_ns = static_cast<int64_t>(event.enter_ns) + boot_to_wall_ns;
      int64_t seconds = wall_ns >= 0 ? wall_ns / 1'000'000'000 : (wall_ns - 999'999'999) / 1'000'000'000;
      const int64_t micros = (wall_ns - seconds * 1'000'000'000) / 1000;
      if (mode == TimestampMode::epoch_micros) {
        fmt::format_to(it, "{}.{:06} ", seconds, micros);
        return;
      }
      seconds += utc_offset_s;
      int64_t day_seconds = seconds % 86400;
      if (day_seconds < 0) day_seconds += 86400;
      fmt::format_to(it, "{:02}:{:02}:{:02}", day_seconds / 3600, (day_seconds / 60) % 60, day_seconds % 60);
      if (mode == TimestampMode::wall_micros) fmt::format_to(it, ".{:06}", micros);
      out.push_back(' ');
      return;
    }
  }
}

void append_timestamp(std::string& out, TimestampMode mode, const format::TaskNotice& notice, int64_t boot_to_wall_ns,
                      int64_t utc_offset_s, uint64_t& previous_enter_ns) {
  format::Event at;  // a notice has one time, where a call has its entry
  at.enter_ns = notice.at_ns;
  append_timestamp(out, mode, at, boot_to_wall_ns, utc_offset_s, previous_enter_ns);
}

void append_duration(std::string& out, const format::Event& event) {
  if (event.state != format::CallState::returned) return;
  const uint64_t d = event.duration_ns();
  fmt::format_to(std::back_inserter(out), " <{}.{:06}>", d / 1'000'000'000, (d % 1'000'000'000) / 1000);
}

void append_loss_text(std::string& out, const format::LossMarker& loss) {
  auto it = std::back_inserter(out);
  out.append("\u2026 ");
  if (loss.lost != 0) fmt::format_to(it, "{} event{} lost", loss.lost, loss.lost == 1 ? "" : "s");
  if (loss.overwritten != 0) {
    if (loss.lost != 0) out.append(", ");
    fmt::format_to(it, "{} event{} overwritten", loss.overwritten, loss.overwritten == 1 ? "" : "s");
  }
  if (loss.lost == 0 && loss.overwritten == 0) out.append("events lost");
  if (loss.cpu >= 0) fmt::format_to(it, " on CPU {}", loss.cpu);
  out.append(" \u2026");
}

void append_loss_line(std::string& out, const format::LossMarker& loss, bool color) {
  if (color) out.append(kYellow);
  append_loss_text(out, loss);
  if (color) out.append(kReset);
  out.push_back('\n');
}

void append_setup_line(std::string& out, const SetupMarker& marker, const format::TraceMetadata& metadata,
                       bool color) {
  auto it = std::back_inserter(out);
  if (color) out.append(kYellow);
  out.append("\u2026 runtime setup");
  if (metadata.containers.size() > 1 && marker.container < metadata.containers.size()) {
    const auto& c = metadata.containers[marker.container];
    out.append(" of ");
    append_escaped(out, std::string_view(c.name.empty() ? c.id : c.name).substr(0, 12));
  }
  switch (marker.kind) {
    case SetupMarker::Kind::hidden:
      fmt::format_to(it, " hidden: {} call{} before the entrypoint's execve (--setup shows them)", marker.calls,
                     marker.calls == 1 ? "" : "s");
      break;
    case SetupMarker::Kind::shown_no_exec:
      fmt::format_to(it, " shown: its init (pid {}) never executed the entrypoint in this trace", marker.init_pid);
      break;
    case SetupMarker::Kind::shown_too_long:
      fmt::format_to(it, " shown: too long to hold back until its init (pid {}) executes the entrypoint",
                     marker.init_pid);
      break;
  }
  out.append(" \u2026");
  if (color) out.append(kReset);
  out.push_back('\n');
}

namespace {

bool is_word_char(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }
bool is_upper_or_digit(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// The end of the signal name at `at` ("SIGINT", "SIGRT_3"), or `at` when there is none.
size_t signal_name_end(const std::string& out, size_t at) {
  if (out.compare(at, 3, "SIG") != 0) return at;
  size_t end = at + 3;
  if (end >= out.size() || !(out[end] >= 'A' && out[end] <= 'Z')) return at;
  while (end < out.size() && is_upper_or_digit(out[end])) ++end;
  if (end + 1 < out.size() && out[end] == '_' && out[end + 1] >= '0' && out[end + 1] <= '9') {
    ++end;
    while (end < out.size() && out[end] >= '0' && out[end] <= '9') ++end;
  }
  return end < out.size() && is_word_char(out[end]) ? at : end;
}

}  // namespace

size_t color_signal_names(std::string& out, size_t from) {
  if (out.find("SIG", from) == std::string::npos) return 0;  // most calls
  std::vector<std::pair<size_t, size_t>> names;
  bool in_string = false;
  for (size_t i = from; i < out.size(); ++i) {
    const char c = out[i];
    if (in_string) {
      if (c == '\\') ++i;  // escaped: \" does not end the string
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c != 'S' || (i > from && is_word_char(out[i - 1]))) continue;
    const size_t end = signal_name_end(out, i);
    if (end == i) continue;
    names.emplace_back(i, end);
    i = end - 1;
  }
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    out.insert(it->second, kReset);
    out.insert(it->first, kMagenta);
  }
  return names.size() * (kMagenta.size() + kReset.size());
}

void append_return_and_end(std::string& out, const Decoder& decoder, const format::Event& event,
                           const RenderOptions& options) {
  const bool red = options.color && event.failed();
  if (red) out.append(kRed);
  decoder.append_return(out, event);
  if (red) out.append(kReset);
  if (options.durations) append_duration(out, event);
  out.push_back('\n');
}

void append_return_and_end(StagedAppend& row, std::string& out, const Decoder& decoder, const format::Event& event,
                           const RenderOptions& options) {
  if (options.durations || (options.color && event.failed())) {
    row.flush();
    append_return_and_end(out, decoder, event, options);
    return;
  }
  decoder.append_return(row, out, event);
  row.put('\n');
  row.flush();
}

}  // namespace traceloop::tools
