#pragma once
// `traceloop-record run`: records one command and all its descendants into a
// trace file, like `strace -f -o FILE CMD`; or, with attach_pids, processes
// already running, their threads and the processes they fork from then on,
// like `strace -f -p PID`.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "format/result.h"
#include "recorder/bpf_recorder.h"
#include "recorder/event_converter.h"
#include "recorder/timestamp_resolution.h"

namespace traceloop::recorder {

struct RunOptions {
  std::vector<std::string> command;            // CMD ARGS...
  // Instead of a command: the processes to attach to (any thread id names
  // its process), traced until SIGINT/SIGTERM/SIGHUP/SIGQUIT or until every
  // one of them and of their children has exited. They are left running.
  std::vector<int> attach_pids;
  // With attach_pids: told each line strace prints on attaching and on
  // detaching ("Process 1234 attached with 3 threads"), when it happens.
  std::function<void(const std::string&)> notice;
  std::optional<std::filesystem::path> output;  // default: traceloop-<cmd>-<pid>.tl in cwd
  std::vector<std::string> syscall_filters;     // strace -e trace= set (see CaptureChoice); empty: all
  uint32_t max_data = 256;
  bool capture_data = true;
  uint64_t ring_bytes = 8u << 20;
  bool force_raw_tracepoint = false;
  uint32_t timestamp_resolution_ns = kDefaultTimestampResolutionNs;
  bool verifier_stats = false;  // RunResult::programs gets the verification times
};

struct RunResult {
  int exit_status = 0;                 // CMD's, shell style (128+signal when killed); 0 when attached
  std::filesystem::path output;
  BpfCounters bpf;                     // what the BPF side counted
  ConverterStats conversion;
  uint64_t events_written = 0;
  uint64_t lost_written = 0;           // sum of the loss markers in the file
  bool raw_tracepoint = false;
  std::vector<ProgramStats> programs;  // the BPF programs, as the kernel counted them
  uint64_t startup_ns = 0;             // from run_traced() until CMD was let go
  uint64_t finish_ns = 0;              // from CMD's end (or the detach) until the trace was published
};

// Errors before CMD starts (bad options, unwritable output, no BPF permission)
// come back as Error; CMD's own failure is its exit status (127: not found).
Result<RunResult> run_traced(const RunOptions& options);

}  // namespace traceloop::recorder
