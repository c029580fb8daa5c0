#include "recorder/cli.h"

#include "format/version_text.h"

#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "bpf/traceloop_events.h"
#include "recorder/daemon_cli.h"
#include "recorder/run_command.h"
#include "recorder/trace_option.h"
#include "tools/cli_completion/cli_completion.h"

namespace traceloop::recorder {

namespace {

int run_subcommand(const RunOptions& options, bool verbose) {
  auto result = run_traced(options);
  if (!result.ok()) throw FatalError(result.error());
  if (verbose) {
    rusage self{};
    getrusage(RUSAGE_SELF, &self);
    auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
    std::cerr << "traceloop-record: " << result->events_written << " events, " << result->lost_written
              << " lost (BPF counted " << result->bpf.lost_total() << ")"
              << (result->raw_tracepoint ? ", raw tracepoints" : "") << ", recorder cpu " << secs(self.ru_utime)
              << "s user " << secs(self.ru_stime) << "s sys -> " << result->output.string() << "\n";
    auto ms = [](uint64_t ns) { return static_cast<double>(ns) / 1e6; };
    if (options.attach_pids.empty())
      std::fprintf(stderr, "traceloop-record: started the command after %.1f ms, finished %.1f ms after it ended\n",
                   ms(result->startup_ns), ms(result->finish_ns));
    else
      std::fprintf(stderr, "traceloop-record: attached after %.1f ms, finished %.1f ms after detaching\n",
                   ms(result->startup_ns), ms(result->finish_ns));
    for (const auto& p : result->programs) {
      std::fprintf(stderr, "traceloop-record: bpf %s: %u instructions, %u verified", p.name.c_str(), p.instructions,
                   p.verified_insns);
      if (p.verification_us) std::fprintf(stderr, " in %.1f ms", static_cast<double>(*p.verification_us) / 1e3);
      if (p.run_count > 0)
        std::fprintf(stderr, "; %llu runs, %.0f ns each", static_cast<unsigned long long>(p.run_count),
                     static_cast<double>(p.run_time_ns) / static_cast<double>(p.run_count));
      std::fprintf(stderr, "\n");
    }
  }
  return result->exit_status;
}

}  // namespace

int record_main(int argc, char** argv) {
  CLI::App app{"traceloop-record: flight recorder for system calls"};
  app.require_subcommand(1);
  app.set_version_flag("--version", format::version_text("traceloop-record", true));

  RunOptions run;
  std::string output;
  bool verbose = false;
  auto* run_cmd = app.add_subcommand(
      "run", "record CMD and all its descendants until CMD exits, like strace -f; or with -p, running processes");
  run_cmd->add_option("-o,--output", output, "trace file (default: traceloop-<cmd>-<pid>.tl in the current directory)")
      ->type_name("FILE");
  TraceOption trace;
  add_trace_option(run_cmd, trace);
  run_cmd->add_option("--max-data", run.max_data, "bytes of data captured per argument")
      ->default_val(256)
      ->check(CLI::Range(0u, static_cast<unsigned>(TL_MAX_DATA_LIMIT)));
  bool no_data = false;
  run_cmd->add_flag("--no-data", no_data, "capture no data buffers or strings (raw arguments only)");
  run_cmd->add_option("--ring-size", run.ring_bytes, "BPF ring buffer bytes (power of two pages)")->default_val(8u << 20);
  add_timestamp_resolution_option(*run_cmd, run.timestamp_resolution_ns);
  run_cmd->add_flag("--raw-tracepoint", run.force_raw_tracepoint,
                    "use raw tracepoints instead of BTF tracepoints");
  run_cmd->add_flag("-v,--verbose", verbose,
                    "print a summary on stderr: events, losses, start-up and finish times, and per BPF program "
                    "the instructions verified and the verification time (and, with kernel.bpf_stats_enabled=1, "
                    "the runs and their mean cost)");
  auto* command_opt = run_cmd->add_option("command", run.command, "CMD ARGS...")->type_name("CMD");
  run_cmd->add_option("-p,--attach", run.attach_pids,
                      "instead of CMD, attach to these running processes (comma-separated ids), their threads and "
                      "the processes they fork from then on, like strace -f -p; Ctrl-C (SIGINT, SIGTERM) detaches "
                      "and writes the trace, as does the end of every traced process. The processes run on untouched")
      ->delimiter(',')
      ->type_name("PID")
      ->excludes(command_opt);
  run_cmd->positionals_at_end();

  traceloop::daemon::DaemonCliState daemon_cli;
  traceloop::daemon::add_daemon_commands(app, daemon_cli);
  app.footer(
      "Examples:\n"
      "  traceloop-record run -o demo.tl -- sh -c 'echo 3*7*2 | bc'   strace -f, into a trace file\n"
      "  tl-show demo.tl\n"
      "  traceloop-record daemon &                                    every container, in memory\n"
      "  traceloop-record list\n"
      "  traceloop-record show 3f1c9a2b7d4e                           a container's recent calls\n"
      "  traceloop-record watch -c web                                one container until Ctrl-C\n"
      "See traceloop-record(1); each command's --help for its options.");
  run_cmd->footer(
      "Examples:\n"
      "  traceloop-record run -o make.tl -e trace=openat,execve -- make\n"
      "  traceloop-record run -o make.tl -e trace=%file,%process -- make\n"
      "  traceloop-record run -o make.tl -e 'trace=!%memory' -- make");
  traceloop::cli_completion::add_completion_option(app, "traceloop-record");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (auto status = traceloop::daemon::run_daemon_commands(daemon_cli)) return *status;
    if (run_cmd->parsed()) {
      run.capture_data = !no_data;
      run.verifier_stats = verbose;
      if (!output.empty()) run.output = output;
      run.notice = [](const std::string& line) { std::cerr << "traceloop-record: " << line << std::endl; };
      if (run.command.empty() && run.attach_pids.empty()) {
        std::cerr << "traceloop-record run: a command or -p PID is required\n" << run_cmd->help();
        return 2;
      }
      run.syscall_filters = value_or_throw(trace_choice(trace, std::cerr));
      return run_subcommand(run, verbose);
    }
  } catch (const FatalError& e) {
    std::cerr << "traceloop-record: " << e.what() << "\n";
    return 2;
  }
  return 2;
}

}  // namespace traceloop::recorder
