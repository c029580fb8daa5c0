#pragma once
// What `run` and the daemon choose alike about a recording: which syscalls
// and how much of their data, turned into the BPF side's options and into the
// capture settings a trace file states.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "format/catalogue.h"
#include "format/metadata.h"
#include "format/result.h"
#include "format/syscall_set.h"
#include "recorder/bpf_recorder.h"

namespace traceloop::recorder {

struct CaptureChoice {
  // strace's -e trace= set, in comma-separated pieces (joined with commas
  // before it is parsed: the control protocol carries it split); empty:
  // every syscall.
  std::span<const std::string> syscall_filters;
  bool capture_data = true;
  uint32_t max_data = 256;                       // per argument, when capture_data
  uint32_t timestamp_resolution_ns = 1000;
  // Also trace execve and execveat in the kernel, whatever the set: `run`
  // starts its trace at the command's execve, and must see it (the events
  // outside the set are dropped after that; see recorded_syscalls).
  bool trace_exec = false;
};

// The syscalls a choice records: its set, parsed (every syscall when it
// names none). An unknown name, class or a bad regex fails, naming it.
Result<format::SyscallSet> recorded_syscalls(const format::Catalogue& catalogue, const CaptureChoice& choice);

// The capture plans, indexed by syscall number; an unknown name fails.
Result<std::vector<tl_plan>> capture_plans_for(const format::Catalogue& catalogue, const CaptureChoice& choice);

// BpfOptions with the plans and the data limit set; the caller sets how
// tasks are chosen and the ring.
Result<BpfOptions> bpf_options_for(const format::Catalogue& catalogue, const CaptureChoice& choice);

// The settings a trace header states (mode "run" or "daemon").
format::CaptureSettings capture_settings_for(const CaptureChoice& choice, std::string mode, uint64_t ring_bytes);

}  // namespace traceloop::recorder
