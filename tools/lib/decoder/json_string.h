#pragma once
// JSON string literals for every --format json (tl-show, tl-grep, tl-stats,
// tl-diff): untrusted bytes become valid JSON whatever they hold.

#include <string>
#include <string_view>

namespace traceloop::tools {

// Appends `"..."`: control characters (C0, DEL and C1), quotes and
// backslashes escaped; each byte that is not part of valid UTF-8 becomes
// U+FFFD (\ufffd), so the output stays valid JSON and never passes such a
// byte off as the Latin-1 character of the same number.
void append_json_string(std::string& out, std::string_view bytes);
std::string json_string(std::string_view bytes);
// The same when `bytes` are valid UTF-8; false otherwise, `out` then holding
// a partial string the caller cuts off.
bool append_json_string_if_utf8(std::string& out, std::string_view bytes);

}  // namespace traceloop::tools
