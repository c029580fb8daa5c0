#pragma once
// Command-line options shared by the tl-* mains (header only: the tools link
// CLI11, the library does not).

#include <CLI/CLI.hpp>

#include <ostream>
#include <string>
#include <string_view>

#include "tools/lib/decoder/filter.h"
#include "tools/lib/decoder/output.h"
#include "tools/lib/decoder/render.h"
#include "tools/lib/decoder/value_text.h"

namespace traceloop::tools {

// Which of the filters' spellings a command takes besides the others:
// tl-grep reads -e as its pattern (and passes qualifiers on itself; see
// is_filter_qualifier); `traceloop-record watch` has -e, --trace and
// --container of its own, which decide what it records.
struct FilterSpellings {
  bool e = true;
  bool trace = true;      // --trace (and the old --syscall)
  bool container = true;  // --container
};

// strace's filters (-e trace=/status=/signal=, --trace/--status/--signal,
// -z, -Z, -P) and --duration, --pid, --tid, --comm, --since, --until,
// --container.
inline void add_filter_options(CLI::App& app, FilterOptions& filter, FilterSpellings spellings = {}) {
  if (spellings.e) {
    app.add_option("-e", filter.qualifiers,
                   "strace's filters: trace=SET (or just SET), status=SET, signal=SET; see --trace, --status")
        ->type_name("EXPR")
        ->allow_extra_args(false);
  }
  if (spellings.trace) {
    app.add_option_function<std::string>(
           "--trace", [&filter](const std::string& set) { filter.qualifiers.push_back("trace=" + set); },
           "Only these syscalls: names, numbers, classes (%file, %process, %network, %signal, %ipc, %desc, "
           "%memory, %creds, %clock, %stat, %lstat, %fstat, %%stat, %statfs, %fstatfs, %%statfs, %pure), /REGEX, "
           "!SET, all, none; comma separated")
        ->type_name("SET")
        ->allow_extra_args(false);
  }
  app.add_option_function<std::string>(
         "--status", [&filter](const std::string& set) { filter.qualifiers.push_back("status=" + set); },
         "Only calls that ended so: successful, failed, unfinished, unavailable, detached (comma separated, !SET)")
      ->type_name("SET")
      ->allow_extra_args(false);
  app.add_option_function<std::string>(
         "--signal", [&filter](const std::string& set) { filter.qualifiers.push_back("signal=" + set); },
         "Only these signals: names (with or without SIG), numbers, !SET, all, none")
      ->type_name("SET")
      ->allow_extra_args(false);
  app.add_flag("-z", filter.successful, "Only calls that succeeded (-e status=successful)");
  app.add_flag("-Z,--failed", filter.failed, "Only calls that failed, -1 Exxx (-e status=failed)");
  app.add_option("-P,--trace-path", filter.paths,
                 "Only calls on this path: path arguments equal to it, or fds that refer to it (repeatable); "
                 "a path that resolves here to another one (a symbolic link) matches that one too, as in strace")
      ->type_name("PATH")
      ->allow_extra_args(false);
  app.add_option("--duration", filter.duration,
                 "Only calls that took at least this long: 10ms, 1.5s, 250us (a bare number is milliseconds)")
      ->type_name("TIME");
  if (spellings.trace) {
    app.add_option("--syscall", filter.syscalls, "Deprecated: use -e trace=NAMES")
        ->delimiter(',')
        ->allow_extra_args(false)
        ->group("");
  }
  // Lists take commas, one value per occurrence: `--pid 42 FILE` leaves
  // FILE (or a container ID) to the positionals.
  app.add_option("--pid", filter.pids, "Only these process ids")->delimiter(',')->allow_extra_args(false);
  app.add_option("--tid", filter.tids, "Only these thread ids")->delimiter(',')->allow_extra_args(false);
  app.add_option("--comm", filter.comms, "Only these command names")->delimiter(',')->allow_extra_args(false);
  app.add_option("--since", filter.since,
                 "From this time: +SECONDS/1.5s/250ms after the first event, @EPOCH, or [DATE T]HH:MM:SS[.frac] "
                 "in local time as -t/-tt print it (a Z or +HH:MM suffix: UTC or that offset)");
  app.add_option("--until", filter.until, "Up to this time (same forms as --since)");
  if (spellings.container) {
    app.add_option("--container", filter.containers, "Only these containers (id, id prefix or name)")
        ->delimiter(',')
        ->allow_extra_args(false);
  }
}

// tl-grep's -e is grep's pattern, unless it is one of strace's filters.
inline bool is_filter_qualifier(const std::string& value) {
  return value.starts_with("trace=") || value.starts_with("status=") || value.starts_with("signal=");
}

// One line on `err` for each deprecated spelling used (one spelling per
// option: the old ones still work, and say which to use).
inline void warn_deprecated_filters(const CLI::App& app, std::ostream& err, std::string_view program) {
  if (app.get_option_no_throw("--syscall") != nullptr && app.count("--syscall") > 0) err << program << ": --syscall is deprecated; use -e trace=NAMES\n";
}

// -x: non-ASCII strings in hex; -xx: all strings in hex (strace's).
inline void add_string_hex_option(CLI::App& app, int& count) {
  app.add_flag("-x", count, "Strings with non-ASCII bytes in \\xNN form; -xx: every string");
}
inline StringHex string_hex_from_count(int count) {
  return count >= 2 ? StringHex::all : count == 1 ? StringHex::non_ascii : StringHex::none;
}

// --setup: the calls each container's OCI runtime made setting it up, hidden
// by default (see setup_hiding.h). One flag, read back with setup_wanted(), for
// tl-show and the daemon's show and watch alike.
inline void add_setup_option(CLI::App& app) {
  app.add_flag("--setup")->description(
      "Also show each container's runtime setup: the calls before its init executed the entrypoint "
      "(hidden by default)");
}
inline bool setup_wanted(const CLI::App& app) { return app.count("--setup") > 0; }

// --info: what the file knows instead of its calls, for tl-show and the
// daemon's show alike.
inline void add_info_option(CLI::App& app, bool& info) {
  app.add_flag("--info", info,
               "Print what the file knows instead of its calls: recorder, host, kernel, capture settings, "
               "containers, counters and the process tree (with -f json: one JSON object)");
}

// --color=auto|always|never (--colour too): auto colours `fd` when it is a
// terminal and NO_COLOR is unset or empty; always wins over NO_COLOR.
inline void add_color_option(CLI::App& app, std::string& when) {
  app.add_option("--color,--colour", when,
                 "Colour: auto (on a terminal, unless NO_COLOR is set), always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
}
inline bool color_from_option(const std::string& when, int fd) {
  return when == "always" || (when == "auto" && color_wanted(fd));
}

// --no-progress: no progress line on a terminal (see tools/progress/progress_meter.h).
inline void add_no_progress_option(CLI::App& app, bool& no_progress) {
  app.add_flag("--no-progress", no_progress, "No progress line on the terminal while big files are read");
}

// Timestamp flags counted like strace: -t, -tt, -ttt, -r; -T durations.
struct TimestampFlags {
  int t = 0;
  bool relative = false;
  TimestampMode mode() const {
    if (t >= 3) return TimestampMode::epoch_micros;
    if (t == 2) return TimestampMode::wall_micros;
    if (t == 1) return TimestampMode::wall_seconds;
    return relative ? TimestampMode::relative : TimestampMode::none;
  }
};

inline void add_timestamp_options(CLI::App& app, TimestampFlags& flags, bool& durations) {
  app.add_flag("-t", flags.t, "Wall clock time of day; -tt with microseconds; -ttt seconds since the epoch");
  app.add_flag("-r", flags.relative, "Time since the previous event");
  app.add_flag("-T", durations, "Time spent in each call");
}

}  // namespace traceloop::tools
