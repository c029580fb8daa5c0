#include "recorder/trace_option.h"

#include <CLI/CLI.hpp>

#include <ostream>

namespace traceloop::recorder {

void add_trace_option(CLI::App* cmd, TraceOption& option) {
  cmd->add_option("-e", option.qualifiers,
                  "record only the syscalls of this strace set: trace=SET (or just SET); see --trace")
      ->type_name("EXPR")
      ->allow_extra_args(false);
  cmd->add_option_function<std::string>(
         "--trace", [&option](const std::string& set) { option.qualifiers.push_back("trace=" + set); },
         "record only these syscalls, decided in the kernel: names, classes (%file, %process, %network, "
         "%signal, %ipc, %desc, %memory, %creds, %clock, %stat, %%stat, %pure, ...), /REGEX, !SET, all; "
         "comma separated")
      ->type_name("SET")
      ->allow_extra_args(false);
  cmd->add_option("--syscall-filters", option.syscall_filters, "deprecated: use -e trace=NAMES")
      ->delimiter(',')
      ->group("");
}

Result<std::vector<std::string>> trace_choice(const TraceOption& option, std::ostream& err) {
  std::vector<std::string> chosen;
  if (!option.syscall_filters.empty()) {
    err << "traceloop-record: --syscall-filters is deprecated; use -e trace=NAMES\n";
    std::string names;
    for (const auto& name : option.syscall_filters) names += (names.empty() ? "" : ",") + name;
    chosen = {names};
  }
  for (const std::string& value : option.qualifiers) {
    const auto eq = value.find('=');
    const std::string kind = eq == std::string::npos ? "trace" : value.substr(0, eq);
    if (kind != "trace" && kind != "t")
      return Error{"-e " + kind + "=: only -e trace= decides what is recorded (filter the rest with tl-show)"};
    chosen = {eq == std::string::npos ? value : value.substr(eq + 1)};
  }
  if (chosen.size() == 1 && chosen[0] == "all") chosen.clear();
  return chosen;
}

}  // namespace traceloop::recorder
