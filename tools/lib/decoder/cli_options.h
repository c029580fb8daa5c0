#pragma once
// Command-line options shared by the tl-* mains (header only: the tools link
// CLI11, the library does not).

#include <CLI/CLI.hpp>

#include <string>

#include "tools/lib/decoder/filter.h"
#include "tools/lib/decoder/output.h"
#include "tools/lib/decoder/render.h"

namespace traceloop::tools {

// --syscall, --pid, --tid, --comm, --failed, --since, --until, --container.
inline void add_filter_options(CLI::App& app, FilterOptions& filter) {
  app.add_option("--syscall", filter.syscalls, "Only these syscalls (comma separated names)")
      ->delimiter(',');
  app.add_option("--pid", filter.pids, "Only these process ids")->delimiter(',');
  app.add_option("--tid", filter.tids, "Only these thread ids")->delimiter(',');
  app.add_option("--comm", filter.comms, "Only these command names")->delimiter(',');
  app.add_flag("--failed", filter.failed, "Only calls that failed (-1 Exxx)");
  app.add_option("--since", filter.since,
                 "From this time: +SECONDS/1.5s/250ms after the first event, @EPOCH, or [DATE T]HH:MM:SS[.frac] "
                 "in local time as -t/-tt print it (a Z or +HH:MM suffix: UTC or that offset)");
  app.add_option("--until", filter.until, "Up to this time (same forms as --since)");
  app.add_option("--container", filter.containers, "Only these containers (id, id prefix or name)")
      ->delimiter(',');
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
