// tl-diff A B: where two traces diverge (see tools/lib/analyses/diff.h).
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <iostream>

#include "format/version_text.h"
#include "tools/cli_completion/cli_completion.h"
#include "tools/lib/analyses/diff.h"
#include "tools/lib/decoder/cli_options.h"
#include "tools/lib/decoder/output.h"
#include "tools/progress/progress_meter.h"

int main(int argc, char** argv) {
  using namespace traceloop::tools;
  DiffOptions options;
  std::string format = "text";
  bool no_progress = false;
  CLI::App app{"Where two traceloop traces diverge, process by process, after normalising volatile values"};
  app.set_version_flag("--version", traceloop::format::version_text("tl-diff", false));
  app.add_option("A", options.path_a, "First trace")->required()->type_name("FILE");
  app.add_option("B", options.path_b, "Second trace")->required()->type_name("FILE");
  app.add_option("-U,--context", options.context, "Events of context around each change");
  app.add_option("-s,--string-limit", options.string_limit, "Bytes of strings shown per argument");
  app.add_option("--format", format, "text or json")->check(CLI::IsMember({"text", "json"}));
  add_no_progress_option(app, no_progress);
  app.footer(
      "Examples:\n"
      "  tl-diff good.tl bad.tl                       where the runs took different paths\n"
      "  tl-diff -U 5 good.tl bad.tl                  with five events of context\n"
      "  tl-diff --format json good.tl bad.tl | jq .\n"
      "See tl-diff(1).");
  traceloop::cli_completion::add_completion_option(app, "tl-diff");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // usage errors are errors: exit status 2 like every tl-* failure
  }
  options.format = format == "json" ? DiffFormat::json : DiffFormat::text;
  options.color = options.format == DiffFormat::text && color_wanted(STDOUT_FILENO);
  ignore_sigpipe();
  const auto meter =
      traceloop::progress::ProgressMeter::start("tl-diff", {options.path_a, options.path_b}, !no_progress);
  options.progress = meter.get();
  return run_diff(options, std::cout, std::cerr);
}
