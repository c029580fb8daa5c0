#pragma once
// strace's -v (--no-abbrev) for the commands that print calls: execve's envp
// and getdents' entries in full instead of `0x7ffd1000 /* 37 vars */`.
// (Header only: the tools link CLI11, the library does not.)
//
// One spelling everywhere: --no-abbrev, strace's long name. The short -v is
// added where it means nothing else: tl-grep keeps grep's -v (invert), and
// `traceloop-record run -v` is the recording's summary (run prints no calls).

#include <CLI/CLI.hpp>

namespace traceloop::tools {

inline void add_no_abbrev_option(CLI::App& app, bool& no_abbrev, bool with_short_v) {
  app.add_flag(with_short_v ? "-v,--no-abbrev" : "--no-abbrev", no_abbrev,
               "Like strace -v: execve's environment and getdents' entries in full, not as "
               "/* 37 vars */ and /* 4 entries */");
}

}  // namespace traceloop::tools
