// tl-grep PATTERN FILE...: find events, grep-style (see tools/lib/analyses/grep.h).
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <iostream>

#include "format/version_text.h"
#include "tools/cli_completion/cli_completion.h"
#include "tools/lib/decoder/cli_no_abbrev.h"
#include "tools/lib/decoder/cli_options.h"
#include "tools/lib/decoder/fd_paths_option.h"
#include "tools/lib/analyses/grep.h"
#include "tools/lib/decoder/output.h"
#include "tools/progress/progress_meter.h"

int main(int argc, char** argv) {
  using namespace traceloop::tools;
  GrepOptions options;
  std::vector<std::string> args;
  std::string format = "table";
  std::string color = "auto";
  std::string field;
  size_t context = 0;
  bool with_name = false, without_name = false;
  TimestampFlags timestamps;
  bool no_progress = false;
  int hex = 0;
  CLI::App app{"Find events in traceloop traces, grep-style"};
  app.set_version_flag("--version", traceloop::format::version_text("tl-grep", true));
  app.set_help_flag("--help", "Print this help message and exit");
  app.add_option("args", args, "PATTERN FILE... (FILE... alone with -e)")->required()->type_name("FILE");
  app.add_option("-e,--regexp", options.match.patterns,
                 "Pattern (RE2 syntax); repeat for any of several. -e trace=SET, status=SET, signal=SET are "
                 "strace's filters, as in tl-show")
      ->allow_extra_args(false);
  app.add_option("--field", field, "Match one field: syscall, comm, pid, tid, cpu, ret, errno, path, args, or a parameter name");
  app.add_flag("-i,--ignore-case", options.match.ignore_case, "Ignore case");
  app.add_flag("-v,--invert-match", options.invert, "Select events that do not match");
  app.add_flag("-c,--count", options.count, "Print the number of selected events per file");
  app.add_flag("-l,--files-with-matches", options.files_with_matches, "Print the names of files with a selected event");
  app.add_flag("-n,--event-number", options.event_numbers, "Prefix the number of the event in its file");
  app.add_flag("-H,--with-filename", with_name, "Prefix the file name");
  app.add_flag("-h,--no-filename", without_name, "Never prefix the file name");
  app.add_option("-A,--after-context", options.after, "Events of the same thread after each match");
  app.add_option("-B,--before-context", options.before, "Events of the same thread before each match");
  app.add_option("-C,--context", context, "Events of the same thread before and after each match");
  app.add_option("--format", format, "table, strace or json")->check(CLI::IsMember({"table", "strace", "json"}));
  add_color_option(app, color);
  app.add_option("-s,--string-limit", options.string_limit, "Bytes of strings and buffers shown");
  add_string_hex_option(app, hex);
  add_no_abbrev_option(app, options.no_abbrev, false);
  app.add_option("-o,--output", options.output_path, "Write the selected events as a new trace (a slice) instead of printing")
      ->type_name("FILE");
  app.add_flag("--no-data", options.strip_data, "With -o: drop captured buffers, keep paths");
  app.add_option("--threads", options.threads, "Worker threads (default: 2 on a machine with 2+ cores; 1: none)");
  add_timestamp_options(app, timestamps, options.render.durations);
  add_filter_options(app, options.filter, {.e = false});
  FdPathsFlag fd_paths;
  add_fd_paths_option(app, fd_paths);
  add_no_progress_option(app, no_progress);
  app.footer(
      "Examples:\n"
      "  tl-grep /tmp/file trace.tl                   calls whose line mentions /tmp/file\n"
      "  tl-grep --field errno ENOENT -c *.tl         failed lookups counted per file\n"
      "  tl-grep -C 2 --field syscall '^execve$' trace.tl\n"
      "  tl-grep --field comm bc -o bc.tl trace.tl    the calls of bc as a new trace\n"
      "  tl-grep -e trace=%file -Z passwd trace.tl    failed file calls that mention passwd\n"
      "See tl-grep(1).");
  traceloop::cli_completion::add_completion_option(app, "tl-grep");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  warn_deprecated_filters(app, std::cerr, "tl-grep");
  // strace's -e qualifiers go to the filters, the rest are patterns.
  auto& patterns = options.match.patterns;
  for (auto it = patterns.begin(); it != patterns.end();) {
    if (is_filter_qualifier(*it)) {
      options.filter.qualifiers.push_back(*it);
      it = patterns.erase(it);
    } else {
      ++it;
    }
  }
  options.strings_in_hex = string_hex_from_count(hex);
  if (options.match.patterns.empty()) {
    options.match.patterns.push_back(args.front());
    args.erase(args.begin());
  }
  if (args.empty()) {
    std::cerr << "tl-grep: no FILE given\n";
    return 2;
  }
  options.paths = args;
  if (!field.empty()) options.match.field = field;
  if (context > 0) {
    if (options.before == 0) options.before = context;
    if (options.after == 0) options.after = context;
  }
  if (with_name) options.with_file_name = true;
  if (without_name) options.with_file_name = false;
  options.render.format = *output_format_from_name(format);
  options.fd_paths = fd_paths.mode();
  options.render.timestamps = timestamps.mode();
  options.render.color = color_from_option(color, STDOUT_FILENO);
  options.render.local_time = true;  // -t/-tt as tl-show and strace print them, and --since reads them
  // Matches printed on the terminal are progress enough, and would break the line.
  const auto meter = traceloop::progress::ProgressMeter::start(
      "tl-grep", options.paths, !no_progress && ::isatty(STDOUT_FILENO) != 1);
  options.progress = meter.get();
  ignore_sigpipe();
  return run_grep(options, std::cout, std::cerr);
}
