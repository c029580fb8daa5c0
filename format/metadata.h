#pragma once
// What a trace says about itself, besides its events.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "format/catalogue.h"
#include "format/fd_snapshot.h"

namespace traceloop::format {

inline constexpr uint16_t kFormatMajor = 5;
inline constexpr uint16_t kFormatMinor = 0;

struct CaptureSettings {
  std::string mode = "run";  // run, daemon, synthetic, slice
  std::vector<std::string> syscall_filters;  // empty: all
  uint32_t max_data_bytes = 256;
  bool capture_data = true;
  uint64_t ring_bytes = 0;
  uint64_t budget_bytes = 0;
  // Event times are floored to this many ns when written (1: full
  // resolution). Recorders default to 1000: what strace shows, at a fraction
  // of the bytes, since the nanoseconds of a syscall's times are noise.
  uint32_t timestamp_resolution_ns = 1;
  friend bool operator==(const CaptureSettings&, const CaptureSettings&) = default;
};

struct ContainerInfo {
  std::string id;
  std::string name;
  std::string runtime;
  std::string pod_name;
  std::string pod_namespace;
  std::string container_name;
  std::string cgroup_path;
  uint64_t cgroup_id = 0;
  uint64_t mount_ns_id = 0;
  std::vector<std::pair<std::string, std::string>> annotations;
  int64_t started_wall_ns = 0;
  int64_t exited_wall_ns = 0;
  std::string image;                                         // as the engine names it
  std::vector<std::pair<std::string, std::string>> labels;   // the engine's container labels
  std::string runtime_namespace;                             // containerd's namespace, empty elsewhere
  uint32_t init_pid = 0;  // the container's init (host pid); its first execve starts the entrypoint
  friend bool operator==(const ContainerInfo&, const ContainerInfo&) = default;
};

struct TraceMetadata {
  uint16_t format_major = kFormatMajor;  // filled by the reader; writers always write the current one
  uint16_t format_minor = kFormatMinor;
  std::string recorder_version;
  std::string host_name;
  std::string kernel_release;
  Arch arch = Arch::x86_64;
  int64_t boot_to_wall_ns = 0;  // wall ns = boot-time ns + this
  int64_t created_wall_ns = 0;
  CaptureSettings capture;
  std::vector<ContainerInfo> containers;
  Catalogue catalogue;
  std::vector<std::string> command;
  // The fds of processes already running when recording began (daemon,
  // run -p); empty when every process was traced from its start.
  std::vector<FdSnapshot> fd_snapshots;
};

struct Counters {
  uint64_t events_recorded = 0;
  uint64_t events_lost = 0;
  uint64_t events_overwritten = 0;
  std::vector<uint64_t> lost_per_cpu;
  uint64_t first_ns = 0;
  uint64_t last_ns = 0;
  int64_t end_wall_ns = 0;
  friend bool operator==(const Counters&, const Counters&) = default;
};

// Fills host name, kernel release, arch, clock offset and creation time from
// the running system; recorder_version from the build.
void fill_host_metadata(TraceMetadata& metadata);

// Version string of this build ("0.1.0").
std::string_view traceloop_version();

}  // namespace traceloop::format
