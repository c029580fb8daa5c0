#pragma once
// tl-grep PATTERN FILE...: events whose rendered line (the text tl-show
// prints in the chosen --format) or one --field matches, with grep's
// conventions; or, with -o, the matching events written as a slice trace.

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tools/lib/decoder/fd_annotation.h"
#include "tools/lib/decoder/filter.h"
#include "tools/lib/analyses/grep_matcher.h"
#include "tools/progress/progress_sink.h"
#include "tools/lib/decoder/render.h"
#include "tools/lib/decoder/value_text.h"

namespace traceloop::tools {

struct GrepOptions {
  MatchSpec match;                 // -e patterns, --field, -i
  std::vector<std::string> paths;  // "-" reads stdin
  bool invert = false;             // -v
  bool count = false;              // -c
  bool files_with_matches = false;  // -l
  bool event_numbers = false;      // -n: 1-based number of the event in its file
  std::optional<bool> with_file_name;  // -H / -h; default: when several files
  size_t before = 0;               // -B: events of the same thread before a match
  size_t after = 0;                // -A
  RenderOptions render;            // --format, timestamps, color (the matches are highlighted)
  std::optional<size_t> string_limit;  // -s, default as tl-show
  StringHex strings_in_hex = StringHex::none;  // -x, -xx
  // -y, -yy: lines show what fds refer to, and the patterns match that too.
  // Every event is then read in order on one thread.
  FdPaths fd_paths = FdPaths::off;
  bool no_abbrev = false;          // --no-abbrev: strace's -v (-v is grep's here)
  FilterOptions filter;            // tl-show's filters, applied before matching
  std::string output_path;         // -o OUT.tl: write a slice instead of printing
  bool strip_data = false;         // --no-data (with -o)
  // Worker threads for the cases grep_parallel.h can split (0: two when the
  // machine has two cores); 1 keeps everything on the calling thread.
  unsigned threads = 0;
  progress::ProgressSink* progress = nullptr;  // events read, for a progress line (null: none shown)
};

// Exit status like grep: 0 some event selected, 1 none, 2 error.
int run_grep(const GrepOptions& options, std::ostream& out, std::ostream& err);

}  // namespace traceloop::tools
