#pragma once
// What a trace file knows besides its calls (tl-show --info, and the
// daemon's `show --info`): the recorder and host, the capture settings, each
// container's metadata, the counters, and the process tree with each
// process's command line and how it ended. Read without decompressing a
// single events frame.

#include <ostream>
#include <string>
#include <string_view>

#include "format/event.h"
#include "format/metadata.h"
#include "tools/lib/decoder/render.h"

namespace traceloop::tools {

struct TraceInfo {
  std::string file;
  uint64_t file_bytes = 0;
  format::TraceMetadata metadata;
  std::vector<format::ProcessInfo> processes;
  std::optional<format::Counters> counters;  // absent in a file cut short
  uint64_t events = 0;                      // as the frame headers count them
  std::vector<std::string> warnings;
};

Result<TraceInfo> read_trace_info(const std::string& path);

// Text for people (times in local time when `local_time`), or one JSON object.
std::string format_trace_info_text(const TraceInfo& info, bool local_time);
std::string format_trace_info_json(const TraceInfo& info);

// Exit status as run_show's: 0, or 2 with one line on `err`.
int run_info(const std::string& path, OutputFormat format, std::string_view program, std::ostream& out,
             std::ostream& err);

}  // namespace traceloop::tools
