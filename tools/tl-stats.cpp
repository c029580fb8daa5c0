// tl-stats FILE...: summaries of traces (see tools/lib/analyses/stats.h).
#include <CLI/CLI.hpp>

#include <iostream>

#include "format/version_text.h"
#include "tools/cli_completion/cli_completion.h"
#include "tools/lib/analyses/stats.h"
#include "tools/lib/decoder/cli_options.h"
#include "tools/progress/progress_meter.h"

int main(int argc, char** argv) {
  using namespace traceloop::tools;
  StatsOptions options;
  std::string sort = "time";
  std::string format = "text";
  bool no_progress = false;
  CLI::App app{"Summaries of traceloop traces: the strace -c table, errors, paths, latency histograms"};
  app.set_version_flag("--version", traceloop::format::version_text("tl-stats", false));
  app.add_option("files", options.paths, "Trace files")->required()->type_name("FILE");
  app.add_option("-S,--sort", sort, "Sort the syscall table by time|seconds|usecs|calls|errors|syscall")
      ->check(CLI::IsMember({"time", "%time", "seconds", "usecs", "usecs/call", "avg", "calls", "errors", "syscall", "name"}));
  app.add_flag("--per-process", options.per_process, "Breakdown per process");
  app.add_flag("--per-container", options.per_container, "Breakdown per container");
  app.add_option("--histogram", options.histograms, "log2 latency histogram of these syscalls (comma separated)")
      ->delimiter(',')
      ->allow_extra_args(false);  // `--histogram read FILE` leaves FILE to the positionals
  app.add_option("--top", options.top_paths, "Number of paths listed (most opened / failed)");
  app.add_option("--format", format, "text or json")->check(CLI::IsMember({"text", "json"}));
  add_filter_options(app, options.filter);
  add_no_progress_option(app, no_progress);
  app.footer(
      "Examples:\n"
      "  tl-stats trace.tl                            the strace -c table, errors, paths\n"
      "  tl-stats -S calls --per-process trace.tl\n"
      "  tl-stats --histogram read,write trace.tl     log2 latency histograms\n"
      "  tl-stats --format json *.tl\n"
      "  tl-stats -e trace=%network -Z trace.tl       the failed network calls only\n"
      "See tl-stats(1).");
  traceloop::cli_completion::add_completion_option(app, "tl-stats");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // usage errors are errors: exit status 2 like every tl-* failure
  }
  warn_deprecated_filters(app, std::cerr, "tl-stats");
  options.sort = *stats_sort_key_from_name(sort);
  options.format = format == "json" ? StatsFormat::json : StatsFormat::text;
  const auto meter = traceloop::progress::ProgressMeter::start("tl-stats", options.paths, !no_progress);
  options.progress = meter.get();
  return run_stats(options, std::cout, std::cerr);
}
