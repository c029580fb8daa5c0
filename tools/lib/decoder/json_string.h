#pragma once
// JSON string literals for every --format json (tl-show, tl-grep, tl-stats,
// tl-diff): untrusted bytes become valid JSON whatever they hold.

#include <cstddef>
#include <string>
#include <string_view>

namespace traceloop::tools {

class JsonBuffer;

// Appends `"..."`: control characters (C0, DEL and C1), quotes and
// backslashes escaped; each byte that is not part of valid UTF-8 becomes
// U+FFFD (\ufffd), so the output stays valid JSON and never passes such a
// byte off as the Latin-1 character of the same number.
void append_json_string(std::string& out, std::string_view bytes);
std::string json_string(std::string_view bytes);
// The same when `bytes` are valid UTF-8; false otherwise, `out` then holding
// a partial string the caller cuts off.
bool append_json_string_if_utf8(std::string& out, std::string_view bytes);

// The same into a line being written (json_buffer.h).
void append_json_string(JsonBuffer& out, std::string_view bytes);
bool append_json_string_if_utf8(JsonBuffer& out, std::string_view bytes);

// How many bytes from `p` on JSON copies as they are: printable ASCII other
// than `"` and `\`. Sixteen at a time where SSE2 is there (every x86_64),
// short strings and the tail of long ones in overlapping blocks, never
// reading outside [p, p + n).
size_t json_plain_run(const char* p, size_t n);

}  // namespace traceloop::tools
