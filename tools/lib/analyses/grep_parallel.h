#pragma once
// tl-grep on two cores. Rendering dominates the cost of matching whole
// lines, and `tl-show | grep` gets a second core for free from the shell, so
// tl-grep splits the work too: each worker opens its own reader, which
// reads past the other workers' events frames without decompressing them
// (TraceReader::share_events_frames), and decodes, renders and matches only
// its share of the frames (round robin); the caller writes the workers'
// outputs back in file order, so the output is byte for byte the sequential
// one.
//
// Only for the stateless cases: printing or counting, without context
// (-A/-B need the previous frame's events), -l, -o, relative timestamps or
// --since/--until (which depend on events a worker skips), and not on stdin.

#include <cstdint>
#include <ostream>
#include <string>

#include "tools/lib/analyses/grep.h"
#include "tools/lib/analyses/grep_line.h"
#include "tools/lib/decoder/output.h"

namespace traceloop::tools {

bool parallel_grep_possible(const GrepOptions& options, const std::string& path);

// Greps one file with `workers` threads; returns the number of selected events.
// Throws FatalError like the sequential path.
uint64_t parallel_grep_file(const GrepOptions& options, const std::string& path, OutputSink& sink, bool show_name,
                            GrepHeader& header, std::ostream& err, unsigned workers);

}  // namespace traceloop::tools
