#pragma once
// tl-show: render a trace as text (table, strace, JSON lines).

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "tools/lib/decoder/fd_annotation.h"
#include "tools/lib/decoder/filter.h"
#include "tools/lib/decoder/render.h"
#include "tools/lib/decoder/setup_hiding.h"
#include "tools/lib/decoder/value_text.h"
#include "tools/progress/progress_sink.h"

namespace traceloop::tools {

struct ShowOptions {
  std::string path;  // "-" reads stdin
  // Further files: all are shown as one, their events merged by time (each
  // file's containers stay apart: the table's CONTAINER column names them).
  std::vector<std::string> more_paths;
  // Names the command in messages: "tl-show", "traceloop-record show".
  std::string program = "tl-show";
  RenderOptions render;
  FilterOptions filter;
  // -y, -yy: fds shown with what they refer to (tracked through the trace).
  FdPaths fd_paths = FdPaths::off;
  // -s: bytes of strings/buffers shown; unset: 32 (strace), 64 (table), unlimited (json).
  std::optional<size_t> string_limit;
  StringHex strings_in_hex = StringHex::none;  // -x, -xx
  // -v (strace's): execve's envp and getdents' entries in full, not counted.
  bool no_abbrev = false;
  // Also the calls each container's OCI runtime made setting it up, before
  // its init executed the entrypoint (hidden by default: see setup_hiding.h).
  bool show_setup = false;
  // Rendered setup text held back while waiting for the entrypoint's execve.
  size_t setup_hold_bytes = SetupHider::kDefaultHoldBytes;
  // What the file knows instead of its calls (trace_info.h): text, or JSON
  // with the json format.
  bool info = false;
  progress::ProgressSink* progress = nullptr;  // events read, for a progress line (null: none shown)
};

// Default -s of a format.
size_t default_string_limit(OutputFormat format);

// Exit status: 0 ok (also when the reader of `out` went away), 2 error (one
// line on `err`: "PROGRAM: FILE: not a traceloop trace"). Reader warnings
// (file cut short) go to `err` after the output.
int run_show(const ShowOptions& options, std::ostream& out, std::ostream& err);

}  // namespace traceloop::tools
