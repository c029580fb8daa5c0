#pragma once
// What `run`, `daemon` and `select` record: strace's `-e trace=SET` (also
// `-e SET` and `--trace=SET`), decided in the kernel. `--syscall-filters` is
// the old spelling, still accepted (hidden) with a one-line notice.

#include <iosfwd>
#include <string>
#include <vector>

#include "format/result.h"

namespace CLI {
class App;
}

namespace traceloop::recorder {

struct TraceOption {
  std::vector<std::string> qualifiers;       // -e values and --trace, in order
  std::vector<std::string> syscall_filters;  // --syscall-filters (deprecated): names
};

void add_trace_option(CLI::App* cmd, TraceOption& option);

// True when the command line chose a set.
inline bool trace_option_given(const TraceOption& option) {
  return !option.qualifiers.empty() || !option.syscall_filters.empty();
}

// The set chosen, in CaptureChoice::syscall_filters form (empty: every
// syscall): the last -e trace= wins, as in strace; the old names list counts
// as an -e before them (and prints its notice on `err`). status= and signal=
// decide nothing a recorder records, and are refused.
Result<std::vector<std::string>> trace_choice(const TraceOption& option, std::ostream& err);

}  // namespace traceloop::recorder
