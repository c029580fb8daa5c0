#pragma once
// The BPF side's lifecycle: open -> configure -> load -> attach, the traced
// cgroup set and the loss counters. Owns the libbpf skeleton (RAII). Used by
// `run` and meant for the daemon too: nothing here knows about processes.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bpf/traceloop_events.h"
#include "format/catalogue.h"
#include "format/result.h"

struct traceloop_bpf;  // bpftool skeleton

namespace traceloop::recorder {

struct BpfOptions {
  uint32_t max_data = 256;          // per-argument data limit, <= TL_MAX_DATA_LIMIT
  uint64_t ring_bytes = 8u << 20;   // rounded up to a power of two pages
  // Which tasks are traced: every task (filter_cgroups false), the cgroups
  // given to trace_cgroup() (a hash lookup per syscall), or with
  // single_cgroup exactly one cgroup (run: a compare, the cheapest for the
  // rest of the host).
  bool filter_cgroups = true;
  bool single_cgroup = false;
  // Instead of cgroups: the processes given to trace_process() and every
  // process they fork from then on (run -p). Takes precedence over the above.
  bool filter_processes = false;
  uint32_t max_processes = 32768;   // traced at once (filter_processes)
  bool force_raw_tracepoint = false;  // skip tp_btf (tests the fallback)
  uint32_t max_cgroups = 4096;
  std::vector<tl_plan> plans;       // from build_capture_plans()
  // Keep the verifier's statistics of each program (program_stats()).
  bool verifier_stats = false;
};

// What the kernel says of one loaded program.
struct ProgramStats {
  std::string name;
  uint32_t instructions = 0;     // as loaded (after libbpf's relocations)
  uint32_t verified_insns = 0;   // instructions the verifier walked, every path counted
  std::optional<uint64_t> verification_us;  // with BpfOptions::verifier_stats
  // With kernel.bpf_stats_enabled=1 only (it costs every run two clock reads).
  uint64_t run_count = 0;
  uint64_t run_time_ns = 0;
};

// Losses are calls (a call whose record the ring had no room for), see
// bpf/traceloop_events.h.
struct BpfCounters {
  std::vector<uint64_t> lost_per_cpu;              // calls lost, by CPU
  std::vector<uint64_t> unattributed_per_cpu;      // of those, of no traced cgroup
  std::vector<uint64_t> results_lost_per_cpu;      // exit records lost: calls recorded unfinished
  std::map<uint64_t, uint64_t> lost_per_cgroup;    // calls lost, by v2 cgroup id still traced
  uint64_t lost_total() const;
  uint64_t unattributed_total() const;
  uint64_t results_lost_total() const;
};

// A cgroup's losses taken by take_losses().
struct CgroupLosses {
  uint64_t unreported = 0;  // lost calls no record reported: the caller reports them now
  uint64_t total = 0;       // every call lost since its first loss
};

class BpfRecorder {
 public:
  // Loads and attaches; nothing is traced until trace_cgroup() (unless
  // filter_cgroups is false). A refused load names the missing capability.
  static Result<std::unique_ptr<BpfRecorder>> start(const BpfOptions& options);
  ~BpfRecorder();
  BpfRecorder(const BpfRecorder&) = delete;
  BpfRecorder& operator=(const BpfRecorder&) = delete;

  Result<void> trace_cgroup(uint64_t cgroup_id, uint32_t container_index);
  // filter_processes: traces every thread of process `tgid`, and the
  // processes it forks from now on. The BPF side forgets a process when its
  // last thread exits.
  Result<void> trace_process(uint32_t tgid);
  // filter_processes: the processes traced now (those given and their
  // children since), or that exited without their exit being seen.
  std::vector<uint32_t> traced_processes() const;
  void untrace_process(uint32_t tgid);
  // filter_processes: a call that thread `enter.tid` was already blocked in
  // when its process became traced (`enter` as user space made it, from
  // /proc). Its exit then makes an exit record, with the entry data its plan
  // reads (read at exit) and its exit data, which pairs with `enter`.
  // False when the thread has made a traced call since: the call it was
  // blocked in has returned, and what follows is in the ring already.
  Result<bool> resume_in_flight(const tl_enter_record& enter);
  // Stops tracing the cgroup and forgets its losses (take_losses() first
  // for those no record reported).
  Result<void> untrace_cgroup(uint64_t cgroup_id);
  // The cgroup's lost calls that no record reported (it made no call since,
  // or none the ring had room for): from now on the caller's to report, no
  // record will. For the end of a history and for a snapshot. `forget`
  // also drops its counter (the cgroup is no longer traced).
  Result<CgroupLosses> take_losses(uint64_t cgroup_id, bool forget = false);
  // take_losses() of every cgroup that has lost calls (the end of a recording).
  Result<std::map<uint64_t, CgroupLosses>> take_all_losses();
  // Cgroups with lost calls not reported yet: while not 0, every record
  // looks its cgroup's losses up (a hash lookup); 0 once all are reported.
  uint64_t cgroups_owing() const;
  // New capture plans while the programs run (another syscall filter). Each
  // plan is replaced whole, one after the other: a call that straddles the
  // change may be captured by the old plan at entry and the new one at exit.
  Result<void> set_plans(std::span<const tl_plan> plans);
  // Detaches the programs; returns once no program is running any more, so
  // that the ring then holds everything that will ever be produced.
  void detach();

  // The calls in flight now that are not in the ring: one enter record per
  // thread blocked in (or still inside) a traced call, as
  // EventConverter::consume_records() and emit_in_flight() take them. A
  // call's exit may run while this reads: for a snapshot, the call is then
  // both in flight here and completed in the ring; after detach() nothing
  // moves.
  Result<std::vector<uint8_t>> in_flight_records() const;

  int ring_map_fd() const;
  bool uses_raw_tracepoint() const { return raw_tracepoint_; }
  uint64_t ring_bytes() const { return ring_bytes_; }
  BpfCounters counters() const;
  std::vector<ProgramStats> program_stats() const;

 private:
  BpfRecorder() = default;
  struct SkelDeleter {
    void operator()(struct ::traceloop_bpf* skel) const;
  };
  std::unique_ptr<struct ::traceloop_bpf, SkelDeleter> skel_;
  bool raw_tracepoint_ = false;
  bool single_cgroup_ = false;
  // The verifier's logs (statistics only), one per program that loaded;
  // libbpf writes into them during the load.
  std::map<std::string, std::string> verifier_logs_;
  // Traced cgroups per slot of the BPF side's traced_slots (filter set).
  std::vector<uint16_t> slot_counts_;
  uint64_t ring_bytes_ = 0;
};

// Ring sizes must be a power-of-two multiple of the page size.
uint64_t round_ring_size(uint64_t bytes);

}  // namespace traceloop::recorder
