// tl-show FILE: render a trace as text (table, strace, JSON lines) or as a
// timeline (Perfetto's trace-event JSON, a self-contained HTML page).

#include <CLI/CLI.hpp>

#include <iostream>
#include <unistd.h>

#include "format/version_text.h"
#include "tools/cli_completion/cli_completion.h"
#include "tools/lib/decoder/cli_no_abbrev.h"
#include "tools/lib/decoder/cli_options.h"
#include "tools/lib/decoder/fd_paths_option.h"
#include "tools/lib/decoder/output.h"
#include "tools/lib/decoder/show.h"
#include "tools/progress/progress_meter.h"

int main(int argc, char** argv) {
  using namespace traceloop::tools;
  CLI::App app{"Render a traceloop trace as text"};
  app.set_version_flag("--version", traceloop::format::version_text("tl-show", false));
  ShowOptions options;
  std::vector<std::string> files;
  std::string format = "table";
  TimestampFlags timestamps;
  bool no_header = false;
  size_t string_limit = 0;
  std::string color = "auto";
  bool no_progress = false;
  int hex = 0;
  FdPathsFlag fd_paths;
  app.add_option("file", files, "Trace files (- for stdin); several are merged by time")->required()->type_name("FILE");
  app.add_option("--format,-f", format, "table, strace, json, perfetto (trace-event JSON) or html (timeline page)")
      ->check(CLI::IsMember({"table", "strace", "json", "perfetto", "html"}));
  auto* limit = app.add_option("-s,--string-limit", string_limit, "Bytes of strings shown (0: all)");
  add_string_hex_option(app, hex);
  add_no_abbrev_option(app, options.no_abbrev, true);
  app.add_flag("--no-header", no_header, "No table header");
  add_timestamp_options(app, timestamps, options.render.durations);
  add_filter_options(app, options.filter);
  add_fd_paths_option(app, fd_paths);
  add_setup_option(app);
  add_info_option(app, options.info);
  add_color_option(app, color);
  add_no_progress_option(app, no_progress);
  app.footer(
      "Examples:\n"
      "  tl-show trace.tl                             the table, one row per call\n"
      "  tl-show -f strace -tt -Z trace.tl            failed calls as strace -f -tt -Z prints them\n"
      "  tl-show -e trace=openat,execve --comm sh trace.tl\n"
      "  tl-show -e trace=%file -e status=failed trace.tl\n"
      "  tl-show -P /etc/passwd --duration=10ms trace.tl\n"
      "  tl-show -f strace -yy trace.tl               fds with their paths and socket addresses\n"
      "  tl-show -f json trace.tl | jq .syscall       JSON Lines\n"
      "  tl-show -f html trace.tl > timeline.html     a timeline page\n"
      "  tl-show web.tl db.tl                         two traces as one, merged by time\n"
      "See tl-show(1).");
  traceloop::cli_completion::add_completion_option(app, "tl-show");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // usage errors are errors: exit status 2 like every tl-* failure
  }

  warn_deprecated_filters(app, std::cerr, "tl-show");
  options.strings_in_hex = string_hex_from_count(hex);
  options.path = files.front();
  options.more_paths.assign(files.begin() + 1, files.end());
  options.render.format = *output_format_from_name(format);
  options.render.timestamps = timestamps.mode();
  options.render.header = !no_header;
  options.render.color = color_from_option(color, STDOUT_FILENO);
  options.render.local_time = true;
  if (limit->count() > 0) options.string_limit = string_limit;
  options.show_setup = setup_wanted(app);
  options.fd_paths = fd_paths.mode();
  // The exports' progress; text streams to the terminal, where it is its own progress.
  const bool exporting =
      options.render.format == OutputFormat::perfetto || options.render.format == OutputFormat::html;
  const auto meter = traceloop::progress::ProgressMeter::start(
      "tl-show", files, exporting && !options.info && !no_progress && ::isatty(STDOUT_FILENO) != 1);
  options.progress = meter.get();
  ignore_sigpipe();
  std::ios::sync_with_stdio(false);
  return run_show(options, std::cout, std::cerr);
}
