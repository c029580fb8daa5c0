#pragma once
// JSON string literals for every --format json (tl-show, tl-grep, tl-stats,
// tl-diff): untrusted bytes become valid JSON whatever they hold.

#include <string>
#include <string_view>

namespace traceloop::tools {

// Appends `"..."`: control bytes, quotes and backslashes escaped; bytes that
// are not valid UTF-8 are emitted as \u00XX so the output stays valid JSON.
void append_json_string(std::string& out, std::string_view bytes);
std::string json_string(std::string_view bytes);

}  // namespace traceloop::tools
