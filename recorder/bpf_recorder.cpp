#include "recorder/bpf_recorder.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "format/unique_fd.h"
#include "recorder/signal_frame.h"
#include "traceloop_bpf.skel.h"

namespace traceloop::recorder {

namespace {

// libbpf prints its diagnostics (verifier log) only when asked: they matter
// when a kernel refuses the programs, not on every run.
int libbpf_print(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  if (std::getenv("TRACELOOP_LIBBPF_VERBOSE") == nullptr) return 0;
  return std::vfprintf(stderr, format, args);
}

bool has_bpf_capabilities() {
  __user_cap_header_struct header{};
  __user_cap_data_struct data[2]{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  if (syscall(SYS_capget, &header, data) != 0) return false;
  auto has = [&](int cap) { return (data[cap / 32].effective & (1u << (cap % 32))) != 0; };
  constexpr int kCapSysAdmin = 21, kCapPerfmon = 38, kCapBpf = 39;
  return has(kCapSysAdmin) || (has(kCapBpf) && has(kCapPerfmon));
}

std::string describe_errno(int err, const char* what) {
  err = std::abs(err);
  std::string msg = std::string(what) + ": " + std::strerror(err);
  if ((err == EPERM || err == EACCES) && !has_bpf_capabilities())
    msg += " (recording needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN: run as root)";
  else if (err == EACCES || err == EINVAL)
    msg += " (the kernel refused the programs; TRACELOOP_LIBBPF_VERBOSE=1 shows the verifier log)";
  return msg;
}

struct Attempt {
  struct ::traceloop_bpf* skel = nullptr;
  int err = 0;
  const char* step = "";
};

// BPF_LOG_STATS: the verifier prints only its totals (processed
// instructions, states, verification time), a few hundred bytes.
constexpr uint32_t kLogStats = 4;
constexpr size_t kStatsLogBytes = 4096;

Attempt try_load(const BpfOptions& options, bool raw, uint64_t ring_bytes,
                 std::map<std::string, std::string>& verifier_logs) {
  Attempt a;
  a.skel = traceloop_bpf__open();
  if (a.skel == nullptr) {
    a.err = errno ? errno : EINVAL;
    a.step = "opening the BPF object";
    return a;
  }
  auto* skel = a.skel;
  skel->rodata->max_data = options.max_data;
  skel->rodata->sigreturn_mask_at_sp = sigreturn_mask_at_sp(format::host_arch());
  skel->rodata->filter_mode = options.filter_processes ? TL_FILTER_PIDS
                              : !options.filter_cgroups ? TL_FILTER_ALL
                              : options.single_cgroup   ? TL_FILTER_SINGLE
                                                        : TL_FILTER_SET;
  // the consumer drains on a timer and is woken once the ring is half full
  skel->rodata->wakeup_bytes = ring_bytes / 2;
  bpf_program__set_autoload(skel->progs.tl_sys_enter_btf, !raw);
  bpf_program__set_autoload(skel->progs.tl_sys_exit_btf, !raw);
  bpf_program__set_autoload(skel->progs.tl_sys_enter_raw, raw);
  bpf_program__set_autoload(skel->progs.tl_sys_exit_raw, raw);
  bpf_program__set_autoload(skel->progs.tl_signal_btf, !raw);
  bpf_program__set_autoload(skel->progs.tl_task_exit_btf, !raw);
  bpf_program__set_autoload(skel->progs.tl_signal_raw, raw);
  bpf_program__set_autoload(skel->progs.tl_signal_generate_btf, !raw);
  bpf_program__set_autoload(skel->progs.tl_signal_generate_raw, raw);
  bpf_program__set_autoload(skel->progs.tl_task_exit_raw, raw);
  // Following forks costs every process on the host something: only when
  // processes, not cgroups, are traced (their exits are the task exit
  // programs' work).
  const bool pids = options.filter_processes;
  bpf_program__set_autoload(skel->progs.tl_pid_fork_btf, pids && !raw);
  bpf_program__set_autoload(skel->progs.tl_pid_fork_raw, pids && raw);
  // read on demand through its own link (in_flight_records)
  bpf_program__set_autoattach(skel->progs.tl_in_flight, false);
  // run on demand (take_losses)
  bpf_program__set_autoattach(skel->progs.tl_take_losses, false);
  verifier_logs.clear();
  if (options.verifier_stats) {
    bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, skel->obj) {
      if (!bpf_program__autoload(prog)) continue;
      std::string& log = verifier_logs[bpf_program__name(prog)];
      log.assign(kStatsLogBytes, '\0');
      bpf_program__set_log_buf(prog, log.data(), log.size());
      bpf_program__set_log_level(prog, kLogStats);
    }
  }
  bpf_map__set_max_entries(skel->maps.events, static_cast<uint32_t>(ring_bytes));
  bpf_map__set_max_entries(skel->maps.traced_cgroups, options.max_cgroups);
  bpf_map__set_max_entries(skel->maps.lost_per_cgroup, options.max_cgroups);
  bpf_map__set_max_entries(skel->maps.traced_tgids, pids ? std::max<uint32_t>(options.max_processes, 1) : 1);
  // The plans are the initial value of .bss: the map is created with them.
  static_assert(sizeof(skel->bss->plans) == sizeof(tl_plan) * TL_MAX_SYSCALLS);
  std::memcpy(skel->bss->plans, options.plans.data(), sizeof(skel->bss->plans));
  int err = traceloop_bpf__load(skel);
  if (err != 0) {
    a.err = err;
    a.step = "loading the BPF programs";
  }
  return a;
}

}  // namespace

namespace {
uint64_t sum(const std::vector<uint64_t>& v) {
  uint64_t total = 0;
  for (uint64_t n : v) total += n;
  return total;
}
}  // namespace

uint64_t BpfCounters::lost_total() const { return sum(lost_per_cpu); }
uint64_t BpfCounters::unattributed_total() const { return sum(unattributed_per_cpu); }
uint64_t BpfCounters::results_lost_total() const { return sum(results_lost_per_cpu); }

uint64_t round_ring_size(uint64_t bytes) {
  uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  uint64_t size = page;
  while (size < bytes && size < (1ull << 31)) size <<= 1;
  return size;
}

void BpfRecorder::SkelDeleter::operator()(struct ::traceloop_bpf* skel) const { traceloop_bpf__destroy(skel); }

BpfRecorder::~BpfRecorder() = default;

Result<std::unique_ptr<BpfRecorder>> BpfRecorder::start(const BpfOptions& options) {
  if (options.max_data > TL_MAX_DATA_LIMIT)
    return Error{"--max-data must be at most " + std::to_string(TL_MAX_DATA_LIMIT)};
  if (options.plans.size() != TL_MAX_SYSCALLS) return Error{"internal: capture plans missing"};
  // memlock cannot be raised here and need not be: the kernel accounts BPF
  // memory to the memory cgroup. STRICT_ALL only bumps the rlimit when needed.
  libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
  libbpf_set_print(libbpf_print);

  std::unique_ptr<BpfRecorder> rec(new BpfRecorder());
  rec->ring_bytes_ = round_ring_size(options.ring_bytes);
  bool raw = options.force_raw_tracepoint || std::getenv("TRACELOOP_FORCE_RAW_TRACEPOINT") != nullptr;
  Attempt a = try_load(options, raw, rec->ring_bytes_, rec->verifier_logs_);
  if (a.err != 0 && !raw && has_bpf_capabilities()) {
    // BTF tracepoints need kernel BTF and a recent kernel: fall back.
    if (a.skel) traceloop_bpf__destroy(a.skel);
    raw = true;
    a = try_load(options, raw, rec->ring_bytes_, rec->verifier_logs_);
  }
  if (a.err != 0) {
    if (a.skel) traceloop_bpf__destroy(a.skel);
    return Error{describe_errno(a.err, a.step)};
  }
  rec->skel_.reset(a.skel);
  rec->raw_tracepoint_ = raw;
  rec->single_cgroup_ = options.filter_cgroups && options.single_cgroup;
  rec->slot_counts_.assign(TL_CGROUP_SLOTS, 0);

  if (traceloop_bpf__attach(rec->skel_.get()) != 0)
    return Error{describe_errno(errno, "attaching to the sys_enter, sys_exit, signal_deliver, signal_generate and sched_process_exit tracepoints")};
  return rec;
}

Result<void> BpfRecorder::trace_cgroup(uint64_t cgroup_id, uint32_t container_index) {
  if (single_cgroup_) {
    auto* slot = &skel_->bss->single_cgroup_id;
    if (__atomic_load_n(slot, __ATOMIC_RELAXED) != 0 && __atomic_load_n(slot, __ATOMIC_RELAXED) != cgroup_id)
      return Error{"internal: this recorder traces a single cgroup"};
    __atomic_store_n(slot, cgroup_id, __ATOMIC_RELEASE);
    return ok_result();
  }
  uint32_t existing = 0;
  const bool known = bpf_map_lookup_elem(bpf_map__fd(skel_->maps.traced_cgroups), &cgroup_id, &existing) == 0;
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.traced_cgroups), &cgroup_id, &container_index, BPF_ANY) != 0)
    return Error{describe_errno(errno, "adding a cgroup to the traced set")};
  if (!known) {
    // After the map entry: a program that sees the slot set finds the entry.
    const size_t slot = cgroup_id & (TL_CGROUP_SLOTS - 1);
    if (slot_counts_[slot]++ == 0) __atomic_store_n(&skel_->bss->traced_slots[slot], 1, __ATOMIC_RELEASE);
  }
  return ok_result();
}

Result<void> BpfRecorder::trace_process(uint32_t tgid) {
  const uint8_t one = 1;
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.traced_tgids), &tgid, &one, BPF_ANY) != 0)
    return Error{describe_errno(errno, "adding a process to the traced set")};
  return ok_result();
}

std::vector<uint32_t> BpfRecorder::traced_processes() const {
  std::vector<uint32_t> out;
  const int fd = bpf_map__fd(skel_->maps.traced_tgids);
  uint32_t key = 0, next = 0;
  const uint32_t* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    out.push_back(next);
    key = next;
    prev = &key;
  }
  return out;
}

void BpfRecorder::untrace_process(uint32_t tgid) { bpf_map_delete_elem(bpf_map__fd(skel_->maps.traced_tgids), &tgid); }

namespace {

// Whether the capture of `p` is made for these arguments (its condition,
// as the BPF side's tl_cond_holds tests it).
bool capture_applies(const tl_arg_plan& p, const uint64_t* args) {
  if (p.cond_count == 0) return true;
  if (p.cond_arg >= TL_ARGS) return false;
  const uint64_t v = args[p.cond_arg] & p.cond_mask;
  bool found = false;
  for (unsigned k = 0; k < p.cond_count && k < TL_COND_VALUES; ++k) found = found || p.cond_values[k] == v;
  return found != (p.cond_negate != 0);
}

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

}  // namespace

Result<bool> BpfRecorder::resume_in_flight(const tl_enter_record& enter) {
  if (enter.nr >= TL_MAX_SYSCALLS) return false;
  const tl_plan& plan = skel_->bss->plans[enter.nr];
  if (!plan.traced || plan.never_returns) return false;
  tl_stash stash{};
  stash.state = TL_STASH_SENT;
  stash.rec.enter = enter;
  // Its entry data were never read: all of them are read at exit, as a
  // capture that failed at entry would be.
  for (unsigned i = 0; i < TL_ARGS; ++i)
    if (plan.args[i].when == TL_WHEN_ENTRY && plan.args[i].how != TL_CAP_NONE &&
        capture_applies(plan.args[i], enter.args))
      stash.retry_mask |= static_cast<uint8_t>(1u << i);
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, enter.tid, PIDFD_THREAD)));
  if (!pidfd) return false;  // the thread is gone
  // NOEXIST: a store the thread made since (it entered a traced call) wins.
  const int key = pidfd.get();
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.calls), &key, &stash, BPF_NOEXIST) == 0) return true;
  if (errno == EEXIST || errno == ESRCH) return false;
  return Error{describe_errno(errno, "resuming a call in flight at attach")};
}

Result<void> BpfRecorder::set_plans(std::span<const tl_plan> plans) {
  if (plans.size() != TL_MAX_SYSCALLS) return Error{"internal: capture plans missing"};
  // .bss is mapped into this process once loaded: the programs read it in place.
  for (size_t nr = 0; nr < plans.size(); ++nr)
    std::memcpy(static_cast<void*>(&skel_->bss->plans[nr]), &plans[nr], sizeof(tl_plan));
  return ok_result();
}

Result<void> BpfRecorder::untrace_cgroup(uint64_t cgroup_id) {
  if (single_cgroup_) {
    __u64 expected = cgroup_id;  // the .bss field's own type (unsigned long long, not uint64_t's unsigned long)
    __atomic_compare_exchange_n(&skel_->bss->single_cgroup_id, &expected, __u64{0}, false, __ATOMIC_RELEASE,
                                __ATOMIC_RELAXED);
    if (auto r = take_losses(cgroup_id, true); !r.ok()) return r.error();
    return ok_result();
  }
  const bool known = bpf_map_delete_elem(bpf_map__fd(skel_->maps.traced_cgroups), &cgroup_id) == 0;
  if (!known && errno != ENOENT) return Error{describe_errno(errno, "removing a cgroup from the traced set")};
  // After the cgroup left the set: the programs make no new entry for it.
  if (auto r = take_losses(cgroup_id, true); !r.ok()) return r.error();
  if (!known) return ok_result();
  // The slot is cleared after the entry is gone; until then the lookup decides.
  const size_t slot = cgroup_id & (TL_CGROUP_SLOTS - 1);
  if (slot_counts_[slot] > 0 && --slot_counts_[slot] == 0)
    __atomic_store_n(&skel_->bss->traced_slots[slot], 0, __ATOMIC_RELEASE);
  return ok_result();
}

std::vector<ProgramStats> BpfRecorder::program_stats() const {
  std::vector<ProgramStats> out;
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, skel_->obj) {
    const int fd = bpf_program__fd(prog);
    if (fd < 0) continue;  // not loaded (the other attach kind)
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) continue;
    ProgramStats s;
    s.name = bpf_program__name(prog);
    s.instructions = static_cast<uint32_t>(bpf_program__insn_cnt(prog));
    s.verified_insns = info.verified_insns;
    s.run_count = info.run_cnt;
    s.run_time_ns = info.run_time_ns;
    if (auto it = verifier_logs_.find(s.name); it != verifier_logs_.end()) {
      constexpr std::string_view kKey = "verification time ";
      if (const size_t at = it->second.find(kKey); at != std::string::npos)
        s.verification_us = std::strtoull(it->second.c_str() + at + kKey.size(), nullptr, 10);
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<uint8_t>> BpfRecorder::in_flight_records() const {
  struct LinkDeleter {
    void operator()(bpf_link* link) const { bpf_link__destroy(link); }
  };
  std::unique_ptr<bpf_link, LinkDeleter> link(bpf_program__attach_iter(skel_->progs.tl_in_flight, nullptr));
  if (!link) return Error{describe_errno(errno, "attaching the in-flight call iterator")};
  UniqueFd fd(bpf_iter_create(bpf_link__fd(link.get())));
  if (!fd) return Error{describe_errno(errno, "creating the in-flight call iterator")};
  std::vector<uint8_t> out;
  constexpr size_t kChunk = 64 * 1024;
  while (true) {
    const size_t at = out.size();
    out.resize(at + kChunk);
    const ssize_t n = ::read(fd.get(), out.data() + at, kChunk);
    if (n < 0 && errno == EINTR) {
      out.resize(at);
      continue;
    }
    if (n < 0) return Error{describe_errno(errno, "reading the in-flight calls")};
    out.resize(at + static_cast<size_t>(n));
    if (n == 0) return out;
  }
}

void BpfRecorder::detach() { traceloop_bpf__detach(skel_.get()); }

Result<CgroupLosses> BpfRecorder::take_losses(uint64_t cgroup_id, bool forget) {
  tl_take_losses_ctx ctx{};
  ctx.cgroup_id = cgroup_id;
  ctx.forget = forget ? 1 : 0;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));
  if (bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.tl_take_losses), &opts) != 0)
    return Error{describe_errno(errno, "reading a cgroup's lost calls")};
  return CgroupLosses{ctx.taken, ctx.total};
}

Result<std::map<uint64_t, CgroupLosses>> BpfRecorder::take_all_losses() {
  std::vector<uint64_t> ids;
  const int fd = bpf_map__fd(skel_->maps.lost_per_cgroup);
  uint64_t key = 0, next = 0;
  const uint64_t* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    ids.push_back(next);
    key = next;
    prev = &key;
  }
  std::map<uint64_t, CgroupLosses> out;
  for (uint64_t id : ids) {
    auto taken = take_losses(id);
    if (!taken.ok()) return taken.error();
    if (taken->total > 0) out[id] = *taken;
  }
  return out;
}

uint64_t BpfRecorder::cgroups_owing() const {
  return __atomic_load_n(&skel_->data_owing->cgroups_owing, __ATOMIC_RELAXED);
}

int BpfRecorder::ring_map_fd() const { return bpf_map__fd(skel_->maps.events); }

BpfCounters BpfRecorder::counters() const {
  BpfCounters out;
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return out;
  std::vector<tl_cpu_counters> values(static_cast<size_t>(ncpu));
  uint32_t zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.counters), &zero, values.data()) == 0)
    for (const auto& v : values) {
      out.lost_per_cpu.push_back(v.lost_total);
      out.unattributed_per_cpu.push_back(v.lost_unattributed);
      out.results_lost_per_cpu.push_back(v.results_lost);
    }
  int fd = bpf_map__fd(skel_->maps.lost_per_cgroup);
  uint64_t key = 0;
  uint64_t next = 0;
  uint64_t* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    tl_cgroup_losses value{};
    if (bpf_map_lookup_elem(fd, &next, &value) == 0) out.lost_per_cgroup[next] = value.lost_total;
    key = next;
    prev = &key;
  }
  return out;
}

}  // namespace traceloop::recorder
