#include "tools/lib/analyses/grep_line.h"

#include <fmt/format.h>

namespace traceloop::tools {

std::string_view without_newline(std::string_view line) {
  while (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  return line;
}

void append_grep_line(std::string& out, const LinePrefix& prefix, uint64_t number, char mark, std::string_view line,
                      const GrepMatcher* highlight) {
  const bool color = prefix.color;
  if (prefix.show_name) {
    if (color) out += "\x1b[35m";
    out += prefix.name;
    if (color) out += "\x1b[36m";
    out += mark;
    if (color) out += "\x1b[0m";
  }
  if (prefix.numbers) {
    if (color) out += "\x1b[32m";
    fmt::format_to(std::back_inserter(out), "{}", number);
    if (color) out += "\x1b[36m";
    out += mark;
    if (color) out += "\x1b[0m";
  }
  const std::string_view text = without_newline(line);
  if (color && highlight != nullptr) {
    size_t at = 0;
    for (const auto& [begin, end] : highlight->match_ranges(text)) {
      out.append(text.substr(at, begin - at));
      out += "\x1b[1;31m";
      out.append(text.substr(begin, end - begin));
      out += "\x1b[0m";
      at = end;
    }
    out.append(text.substr(at));
  } else {
    out.append(text);
  }
  out += '\n';
}

}  // namespace traceloop::tools
