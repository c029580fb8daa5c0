#pragma once
// One output line of tl-grep: [FILE<mark>][NUMBER<mark>]LINE, with grep's
// colors on a terminal (file magenta, number green, separator cyan, matches bold red).

#include <cstdint>
#include <string>
#include <string_view>

#include "tools/lib/analyses/grep_matcher.h"

namespace traceloop::tools {

struct LinePrefix {
  bool show_name = false;
  std::string_view name;
  bool numbers = false;
  bool color = false;
};

// The renderer's header line (the table's column names) is printed once per
// run, before the first line, when `wanted`.
struct GrepHeader {
  bool wanted = true;
  bool done = false;
};

// `mark` is ':' for a selected event, '-' for context. `highlight`: the
// matcher whose matches are colored (nullptr: none). `line` may end in '\n'.
void append_grep_line(std::string& out, const LinePrefix& prefix, uint64_t number, char mark, std::string_view line,
                      const GrepMatcher* highlight);

std::string_view without_newline(std::string_view line);

}  // namespace traceloop::tools
