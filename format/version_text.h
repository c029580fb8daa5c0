#pragma once
// What every binary's --version prints: the build's version and the trace
// format versions it writes and reads, so that a file's "format 4.2" (tl-show
// --info) can be matched with the tools that open it.

#include <cstdint>
#include <string>
#include <string_view>

namespace traceloop::format {

// The oldest major version the reader opens (0 is no version). Newer
// majors up to kFormatMajor are read too: the header is Cap'n Proto, whose
// structures only grow, and every event column kept its meaning.
inline constexpr uint16_t kOldestFormatMajor = 1;

// "tl-show 0.1.0\ntrace format 4.2 (reads formats 1.0 to 4.x)" (no final
// newline: CLI11's --version adds it); a program that `writes` trace files
// says that it writes 4.2.
std::string version_text(std::string_view program, bool writes);

}  // namespace traceloop::format
