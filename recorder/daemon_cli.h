#pragma once
// The daemon's subcommands of traceloop-record: `daemon`, `watch` (the
// containers chosen, until Ctrl-C, then printed like `show`) and the control
// clients `list [-o json]`, `show ID [--info]`, `snapshot ID [-o FILE|-]`,
// `delete ID`, `select` (what a running daemon records), `stop`. `show` and
// `snapshot -o` take the trace's bytes through the control socket, so they
// work from anywhere the socket is reachable (another mount namespace, a
// sidecar, `kubectl exec`), not only where the daemon's DIR is.
// The main registers them on its CLI::App before parsing and runs them after:
//
//   traceloop::daemon::DaemonCliState daemon_cli;
//   traceloop::daemon::add_daemon_commands(app, daemon_cli);
//   ... app.parse(argc, argv) ...
//   if (auto status = traceloop::daemon::run_daemon_commands(daemon_cli)) return *status;

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "recorder/daemon/daemon.h"
#include "recorder/trace_option.h"
#include "tools/lib/decoder/filter.h"
#include "tools/lib/decoder/cli_options.h"
#include "tools/lib/decoder/fd_paths_option.h"

namespace CLI {
class App;
}

namespace traceloop::daemon {

struct DaemonCliState {
  std::string dir = "/var/lib/traceloop";
  std::string socket;  // default DIR/control.sock
  std::string budget_per_container = "4M";
  std::string budget_total = "256M";
  recorder::TraceOption trace;  // -e trace=, --trace (--syscall-filters)
  uint32_t max_data = 256;
  bool no_data = false;
  uint32_t timestamp_resolution_ns = recorder::kDefaultTimestampResolutionNs;
  bool host = false;
  std::string group;  // name or number: may use the socket besides root
  std::string id;
  std::string output;
  std::string show_format = "table";
  std::string list_format = "table";
  bool info = false;       // show --info
  tools::FilterOptions show_filter;  // show: tl-show's filters
  int show_hex = 0;                  // show -x, -xx
  tools::FdPathsFlag fd_paths;  // show -y, -yy
  bool no_abbrev = false;  // show -v, --no-abbrev (strace's -v)
  tools::TimestampFlags show_timestamps;  // show -t, -tt, -ttt, -r
  bool show_durations = false;            // show -T
  std::string color = "auto";  // show --color
  bool no_headers = false; // list
  std::string node;        // daemon --node
  // Which containers: daemon and watch.
  std::vector<std::string> namespaces, pods, containers, labels, images;

  bool every = false;  // select: every container
  std::string host_root = "/";  // where the host's / is (a daemon in a container: its mount of it)

  CLI::App* watch_cmd = nullptr;
  CLI::App* select_cmd = nullptr;

  CLI::App* daemon_cmd = nullptr;
  CLI::App* list_cmd = nullptr;
  CLI::App* show_cmd = nullptr;
  CLI::App* snapshot_cmd = nullptr;
  CLI::App* delete_cmd = nullptr;
  CLI::App* stop_cmd = nullptr;
};

void add_daemon_commands(CLI::App& app, DaemonCliState& state);

// The exit status when one of these subcommands was parsed (0 ok, 1 the
// daemon answered with an error, 2 usage or connection error); nullopt
// otherwise. Throws FatalError only for the daemon's start-up failures.
std::optional<int> run_daemon_commands(const DaemonCliState& state, std::ostream& out, std::ostream& err);
std::optional<int> run_daemon_commands(const DaemonCliState& state);

}  // namespace traceloop::daemon
