#pragma once
// `traceloop-record daemon`: the flight recorder for every container on the
// host. One BPF recorder traces the containers' cgroups; each container's
// recent history lives in its own FlightBuffer; when a container's cgroup
// empties its history is published as DIR/<container-id>.tl. Serves the
// control socket (list, show, snapshot, delete, stop).
//
// Discovery: a cgroup is traced from the moment its directory appears
// (CgroupWatcher), provisionally; it becomes a container when an OCI
// runtime's state names it (RuntimeWatcher), and is dropped if none does
// within identify_timeout. Events of cgroups nobody traces never leave the
// kernel (BPF filters by cgroup id), unless --host.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "format/result.h"
#include "recorder/daemon/selection.h"
#include "recorder/timestamp_resolution.h"

namespace traceloop::daemon {

// The daemon's memory (RSS) stays below budget_total + 2 * ring_bytes (the
// ring is mapped twice, so that a record never wraps) + this: code and
// libraries, compression contexts, the merge worker's and the publisher's
// scratch, the converter's per-thread slots. Everything that grows with the
// containers and their load (frames, open batches as allocated, process
// tables, merges in flight, histories being written) counts in budget_total.
inline constexpr uint64_t kFixedMemoryOverhead = 24u << 20;

struct DaemonOptions {
  std::filesystem::path dir = "/var/lib/traceloop";
  std::filesystem::path socket_path;  // default: dir/control.sock
  std::optional<gid_t> group;         // may use the socket besides root
  uint64_t budget_per_container = 4u << 20;
  uint64_t budget_total = 256u << 20;
  std::vector<std::string> syscall_filters;
  uint32_t max_data = 256;
  bool capture_data = true;
  bool host = false;  // also record processes outside containers (as container "host")
  // The node's name in `list` and in each trace's header; empty: the host
  // name (in a Kubernetes pod, that is the pod's: the node's comes from the
  // downward API).
  std::string node;
  // The containers recorded; the others are never traced once identified
  // (their cgroup is traced only from its creation until its runtime's
  // state names it, so that a chosen container is recorded from its start).
  Selection selection;
  uint64_t ring_bytes = 16u << 20;
  std::filesystem::path runtime_prefix = "/";  // where /run/runc ... are looked for
  std::chrono::milliseconds identify_timeout{10000};
  int compression_level = 3;
  // The loop thread's nice value. The ring holds a few tens of milliseconds
  // of a busy container's calls: a loop kept off the CPU that long by other
  // work loses events, though it needs a third of a core at a million a
  // second. Only raised when allowed (CAP_SYS_NICE); 0 leaves it.
  int loop_nice = -10;
  uint32_t timestamp_resolution_ns = recorder::kDefaultTimestampResolutionNs;
};

// What the daemon counts about itself (tests, diagnostics).
struct DaemonStats {
  uint64_t events = 0;
  uint64_t events_unattributed = 0;  // from cgroups no longer (or never) tracked
  uint64_t containers_published = 0;
  uint64_t saves_failed = 0;         // publications that could not be written
  uint64_t cgroups_dropped = 0;      // traced provisionally, never identified
  uint64_t containers_unchosen = 0;  // identified, left out by the selection
  size_t tracked_cgroups = 0;        // entries of the BPF traced set
  size_t live_containers = 0;
};

class Daemon {
 public:
  // Loads BPF, checks or creates DIR (prepare_trace_dir), the control socket
  // and the watchers.
  static Result<std::unique_ptr<Daemon>> start(const DaemonOptions& options);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Runs until SIGTERM/SIGINT (when `handle_signals`), a `stop` request or
  // request_stop(); then publishes every live container's history and
  // returns. Errors that end the recording come back as Error, and so does
  // any history that could not be saved, at shutdown or before.
  Result<void> run(bool handle_signals = true);
  // From any thread.
  void request_stop();
  // From any thread: the figures as of the last loop iteration.
  DaemonStats stats() const;

 private:
  struct State;
  explicit Daemon(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// "4M", "512KiB", "1G", "100000" (bytes).
Result<uint64_t> parse_size(std::string_view text);

}  // namespace traceloop::daemon
