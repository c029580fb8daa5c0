#include "recorder/daemon/daemon.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

#include "format/catalogue.h"
#include "format/metadata.h"
#include "format/trace_reader.h"
#include "format/unique_fd.h"
#include "format/zstd_codec.h"
#include "recorder/bpf_recorder.h"
#include "recorder/capture_plan.h"
#include "recorder/cgroup.h"
#include "recorder/daemon/cgroup_watcher.h"
#include "recorder/daemon/container_metadata.h"
#include "recorder/daemon/control_server.h"
#include "recorder/daemon/flight_buffer.h"
#include "recorder/daemon/publisher.h"
#include "recorder/daemon/runtime_watcher.h"
#include "recorder/daemon/total_budget.h"
#include "recorder/daemon/trace_dir.h"
#include "recorder/event_converter.h"
#include "recorder/event_sink.h"
#include "recorder/process_tracker.h"
#include "recorder/ring_consumer.h"

namespace traceloop::daemon {

namespace fs = std::filesystem;

namespace {

constexpr uint32_t kNoContainer = 0xffffffffu;
// The ring is drained at least this often: the BPF side wakes the loop only
// when half the ring is full, which at a million syscalls a second is a few
// tens of milliseconds from losing events; a drain every 20 ms keeps most of
// the ring free for the moments the loop is not scheduled.
constexpr auto kDrain = std::chrono::milliseconds(20);
constexpr uint64_t kDrainsPerTick = 5;  // budgets, expiry and stats: every 100 ms
// Between ticks the total budget is also checked every so many events: six
// busy containers fill megabytes in 100 ms.
constexpr uint32_t kEventsPerBudgetCheck = 4096;
// A container without events for a tick has an open batch this big sealed.
constexpr uint64_t kQuietSealBytes = 16u << 10;
// Freed memory goes back to the system this often (malloc keeps it otherwise).
constexpr uint64_t kTicksPerTrim = 10;
// Allocations from this size on are mapped on their own, and unmapped when
// freed: merge scratch and big frames do not stay in the heap.
constexpr int kMmapThreshold = 256 << 10;

int64_t wall_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000ll + ts.tv_nsec;
}


std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// One traced cgroup: a container once identified, provisional before.
struct Tracked {
  Tracked(uint32_t index_in, uint64_t cgroup_id_in, std::string cgroup_path_in, FlightBufferOptions budget,
          const format::Catalogue& catalogue)
      : index(index_in), cgroup_id(cgroup_id_in), cgroup_path(std::move(cgroup_path_in)), buffer(budget),
        processes(catalogue) {}
  uint32_t index;
  uint64_t cgroup_id;
  std::string cgroup_path;
  bool identified = false;
  bool host = false;
  format::ContainerInfo info;
  FlightBuffer buffer;
  recorder::ProcessTracker processes;
  // Of the events `processes` observed: how many came before `buffer`'s
  // first (those of an earlier, published history), and how many it has
  // been told are gone.
  uint64_t events_before_buffer = 0;
  uint64_t events_forgotten = 0;
  uint64_t table_bytes = 0;  // processes.memory_bytes() and this entry, as of the last tick
  uint64_t seen_at_tick = 0;  // buffer.events_seen() then
  std::chrono::steady_clock::time_point noticed = std::chrono::steady_clock::now();
};

// A published trace, kept until `delete`.
struct Saved {
  format::ContainerInfo info;
  fs::path file;
  uint64_t events = 0;
};

}  // namespace

struct Daemon::State : recorder::EventSink {
  DaemonOptions options;
  const format::Catalogue& catalogue = format::builtin_catalogue(format::host_arch());
  std::unique_ptr<recorder::BpfRecorder> bpf;
  std::optional<recorder::EventConverter> converter;
  std::optional<recorder::RingConsumer> ring;
  std::optional<ControlServer> control;
  std::optional<CgroupWatcher> cgroups;
  std::optional<RuntimeWatcher> runtimes;
  MergeWorker merges;
  FlightCodec codec;
  UniqueFd stop_fd;
  std::string node;
  uint32_t next_index = 0;
  std::unordered_map<uint32_t, std::unique_ptr<Tracked>> by_index;
  std::vector<FlightBuffer*> buffers;  // of by_index, for the total budget
  uint32_t events_to_budget_check = kEventsPerBudgetCheck;
  std::unordered_map<uint64_t, uint32_t> index_by_cgroup;
  std::unordered_map<std::string, uint32_t> index_by_path;
  std::map<std::string, Saved> saved;
  std::optional<uint32_t> host_index;
  std::unique_ptr<Publisher> publisher;
  bool stopping = false;
  DaemonStats counters;
  mutable std::mutex stats_mutex;
  DaemonStats published;

  bool debug = std::getenv("TRACELOOP_DAEMON_DEBUG") != nullptr;
  uint32_t self_pid = static_cast<uint32_t>(::getpid());

  explicit State(const DaemonOptions& o)
      : options(o), merges(o.compression_level), codec(o.compression_level, &merges) {}

  // Decisions about cgroups, on stderr when TRACELOOP_DAEMON_DEBUG is set.
  void trace_decision(const char* what, const std::string& path, const std::string& id = {}) const {
    if (debug) std::fprintf(stderr, "traceloop-record daemon: %s %s %s\n", what, path.c_str(), id.c_str());
  }

  // --- EventSink: where the converter's events go ---------------------------
  Tracked* target(uint32_t index) {
    if (index == kNoContainer) return nullptr;
    auto it = by_index.find(index);
    return it == by_index.end() ? nullptr : it->second.get();
  }
  void event(const format::Event& e) override {
    Tracked* t = target(e.container);
    // --host traces every task, the daemon too: its own calls would only
    // record the recording.
    if (t != nullptr && t->host && e.pid == self_pid) t = nullptr;
    if (t == nullptr) {
      ++counters.events_unattributed;
      return;
    }
    ++counters.events;
    t->buffer.add(e, codec);
    t->processes.observe(e);
    forget_overwritten(*t);
    if (--events_to_budget_check == 0) {
      events_to_budget_check = kEventsPerBudgetCheck;
      enforce_budgets();
    }
  }
  // Processes that only overwritten events spoke of go with them: the table
  // stays as bounded as the history.
  static void forget_overwritten(Tracked& t) {
    const uint64_t gone = t.events_before_buffer + t.buffer.overwritten();
    if (gone == t.events_forgotten) return;
    t.events_forgotten = gone;
    t.processes.forget_before(gone);
  }
  void loss(const format::LossMarker& l) override {
    if (Tracked* t = target(l.container)) t->buffer.add_loss(l);
  }
  uint32_t container_of(uint64_t cgroup_id) {
    auto it = index_by_cgroup.find(cgroup_id);
    if (it != index_by_cgroup.end()) return it->second;
    return host_index.value_or(kNoContainer);
  }

  // --- tracking ---------------------------------------------------------------
  FlightBufferOptions budget(uint32_t index) const {
    FlightBufferOptions b;
    // A container never holds more than all of them may: its frames and
    // merges are sized from this.
    b.budget_bytes = std::min(options.budget_per_container, options.budget_total);
    b.time_unit_ns = options.timestamp_resolution_ns;
    b.owner = index;
    return b;
  }

  void install_merges() {
    for (auto& result : merges.take_done())
      if (Tracked* t = target(result.owner)) t->buffer.install(std::move(result));
  }

  Tracked* track(const std::string& path, uint64_t id) {
    if (id == 0) return nullptr;
    if (auto it = index_by_cgroup.find(id); it != index_by_cgroup.end()) return target(it->second);
    uint32_t index = next_index++;
    // Not traced (and forgotten) when the BPF set is full: the map's size is
    // the daemon's bound on cgroups, better than failing the others.
    if (!bpf->trace_cgroup(id, index).ok()) return nullptr;
    auto t = std::make_unique<Tracked>(index, id, path, budget(index), catalogue);
    Tracked* raw = t.get();
    trace_decision("tracing", path);
    by_index[index] = std::move(t);
    index_by_cgroup[id] = index;
    index_by_path[path] = index;
    buffers.push_back(&raw->buffer);
    return raw;
  }

  void forget(Tracked* t) {
    (void)bpf->untrace_cgroup(t->cgroup_id);
    index_by_cgroup.erase(t->cgroup_id);
    if (auto it = index_by_path.find(t->cgroup_path); it != index_by_path.end() && it->second == t->index)
      index_by_path.erase(it);
    std::erase(buffers, &t->buffer);
    by_index.erase(t->index);  // t dies here
  }

  void identify(const RuntimeContainer& c) {
    if (c.info.cgroup_path.empty()) return;
    Tracked* t = nullptr;
    if (auto it = index_by_path.find(c.info.cgroup_path); it != index_by_path.end()) t = target(it->second);
    if (t == nullptr) {
      // A cgroup made before the daemon started (or before its watch): trace from now.
      fs::path dir = cgroups->mount() / fs::path(c.info.cgroup_path).relative_path();
      if (!cgroups->populated(c.info.cgroup_path)) return;
      t = track(c.info.cgroup_path, cgroup_dir_id(dir));
      if (t == nullptr) return;
    }
    if (t->identified && t->info.id == c.info.id) return;
    trace_decision("identified", t->cgroup_path, c.info.id);
    t->identified = true;
    t->info = c.info;
    t->info.cgroup_id = t->cgroup_id;
    if (t->info.started_wall_ns == 0) t->info.started_wall_ns = wall_ns();
  }

  format::TraceMetadata metadata_for(const Tracked& t) const {
    format::TraceMetadata m;
    format::fill_host_metadata(m);
    m.catalogue = catalogue;
    m.capture.mode = "daemon";
    m.capture.syscall_filters = options.syscall_filters;
    m.capture.max_data_bytes = options.capture_data ? options.max_data : 0;
    m.capture.capture_data = options.capture_data;
    m.capture.ring_bytes = bpf->ring_bytes();
    m.capture.budget_bytes = options.budget_per_container;
    m.capture.timestamp_resolution_ns = options.timestamp_resolution_ns;
    m.containers.push_back(t.info);
    return m;
  }

  Result<fs::path> write_history(Tracked& t, const fs::path& path) {
    auto table = t.processes.table();
    if (auto r = t.buffer.write(path, metadata_for(t), table, codec); !r.ok()) return r.error();
    return path;
  }

  // The container is gone (or the daemon stops): its history becomes
  // DIR/<id>.tl, written by the publisher's thread.
  // A history saved earlier under this id (before the daemon restarted, or
  // by a container restarted with its id) is kept beside as ID.N.tl, never
  // replaced by the new one.
  void keep_earlier_history(const fs::path& file, const std::string& id) const {
    if (::access(file.c_str(), F_OK) != 0) return;
    for (int n = 1; n < 10000; ++n) {
      const fs::path aside = options.dir / (id + "." + std::to_string(n) + ".tl");
      if (::renameat2(AT_FDCWD, file.c_str(), AT_FDCWD, aside.c_str(), RENAME_NOREPLACE) == 0) return;
      if (errno != EEXIST) break;
    }
    std::fprintf(stderr, "traceloop-record daemon: %s: cannot keep the earlier history aside (%s); it is replaced\n",
                 file.c_str(), std::strerror(errno));
  }

  // What earlier daemons left in DIR and nothing will use: the temporary
  // files of writes a SIGKILL interrupted, and snapshots.
  void remove_leftovers() const {
    std::error_code ec;
    size_t seen = 0;
    for (const auto& entry : fs::directory_iterator(options.dir, ec)) {
      if (++seen > 100000) break;
      const std::string name = entry.path().filename().string();
      bool leftover = name.size() > 12 && name.compare(name.size() - 12, 12, ".snapshot.tl") == 0;
      if (const size_t at = name.find(".tl.tmp."); at != std::string::npos) {
        // NAME.tl.tmp.PID.RANDOM: a writer that is still alive keeps its file
        const long pid = std::strtol(name.c_str() + at + 8, nullptr, 10);
        leftover = pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
      }
      if (leftover && entry.is_regular_file(ec)) ::unlink(entry.path().c_str());
    }
  }

  void publish(Tracked& t) {
    t.info.exited_wall_ns = wall_ns();
    fs::path file = options.dir / (t.info.id + ".tl");
    keep_earlier_history(file, t.info.id);
    uint64_t events = t.buffer.events_held();
    format::TraceMetadata metadata = metadata_for(t);
    auto processes = t.processes.table();
    publisher->submit(Publisher::Job{std::move(t.buffer), std::move(metadata), std::move(processes), file});
    t.buffer = FlightBuffer(budget(t.index));
    t.events_before_buffer = t.events_forgotten = t.processes.observed();
    t.processes.forget_before(t.events_forgotten);
    saved[t.info.id] = Saved{t.info, file, events};
    ++counters.containers_published;
  }

  void collect_published() {
    for (const auto& done : publisher->take_done()) {
      if (!done.error) continue;
      std::fprintf(stderr, "traceloop-record daemon: %s\n", done.error->c_str());
      ++counters.saves_failed;
      for (auto it = saved.begin(); it != saved.end(); ++it)
        if (it->second.file == done.path) {
          saved.erase(it);
          break;
        }
    }
  }

  // A request about a saved trace waits for it to be on disk.
  void settle(const std::string& id) {
    auto it = saved.find(id);
    if (it != saved.end() && publisher->busy_with(it->second.file)) {
      publisher->wait_idle();
      collect_published();
    }
  }

  void on_cgroup_change(const CgroupChange& c) {
    switch (c.kind) {
      case CgroupChange::Kind::created:
        if (!stopping) track(c.path, c.id);
        break;
      case CgroupChange::Kind::emptied:
      case CgroupChange::Kind::removed: {
        auto it = index_by_path.find(c.path);
        if (it == index_by_path.end()) break;
        Tracked* t = target(it->second);
        if (t == nullptr || (c.kind == CgroupChange::Kind::removed && c.id != 0 && c.id != t->cgroup_id)) break;
        // Everything its processes did is in the ring by now: take it first.
        (void)ring->drain();
        // A container that lived and died while the daemon was busy may have
        // slipped past the runtime watch; its state is usually still there.
        if (!t->identified) {
          for (const auto& rc : scan_runtime_roots(runtimes->roots()))
            if (rc.info.cgroup_path == t->cgroup_path) identify(rc);
        }
        trace_decision(t->identified ? "publishing" : "dropping", t->cgroup_path, t->info.id);
        if (t->identified) publish(*t);
        else ++counters.cgroups_dropped;
        forget(t);
        break;
      }
    }
  }

  void on_runtime_change(const RuntimeChange& c) {
    if (c.removed) return;  // the cgroup's end publishes the history
    auto container = read_runtime_container(runtimes->roots()[c.root], c.id);
    if (container.ok()) identify(*container);
    else trace_decision("unreadable runtime state", c.id, container.error().message);
  }

  void expire_unidentified() {
    auto now = std::chrono::steady_clock::now();
    std::vector<Tracked*> stale;
    for (auto& [index, t] : by_index)
      if (!t->identified && !t->host && now - t->noticed > options.identify_timeout) stale.push_back(t.get());
    for (Tracked* t : stale) {
      trace_decision("not a container", t->cgroup_path);
      ++counters.cgroups_dropped;
      forget(t);
    }
  }

  // Process tables and histories being written count too: the budget is
  // the memory the recording holds, not only its events.
  void enforce_budgets() {
    uint64_t other = publisher->pending_bytes() + merges.scratch_bytes();
    for (const auto& [index, t] : by_index) other += t->table_bytes;
    if (enforce_total_budget(buffers, options.budget_total, codec, other) == 0) return;
    for (auto& [index, t] : by_index) forget_overwritten(*t);
  }
  // An open batch is raw columns, several times its compressed size: a
  // container that went quiet has it compressed, so that a hundred quiet
  // ones do not hold the budget in raw bytes.
  void measure_and_compact() {
    for (auto& [index, t] : by_index) {
      t->table_bytes = sizeof(Tracked) + t->processes.memory_bytes() + t->cgroup_path.capacity();
      const uint64_t seen = t->buffer.events_seen();
      if (seen == t->seen_at_tick && t->buffer.open_bytes() >= kQuietSealBytes) t->buffer.seal(codec);
      t->seen_at_tick = seen;
    }
  }

  void publish_stats() {
    counters.tracked_cgroups = index_by_cgroup.size();
    counters.live_containers = 0;
    for (auto& [index, t] : by_index) counters.live_containers += t->identified ? 1 : 0;
    std::lock_guard lock(stats_mutex);
    published = counters;
  }

  // --- control requests ---------------------------------------------------------
  // An id or an unambiguous prefix of one, among live and saved containers.
  Result<std::string> resolve(const std::string& prefix) const {
    std::vector<std::string> matches;
    auto consider = [&](const std::string& id) {
      if (id == prefix) matches = {id};
      else if (id.rfind(prefix, 0) == 0 && std::find(matches.begin(), matches.end(), id) == matches.end())
        matches.push_back(id);
    };
    for (const auto& [index, t] : by_index) {
      if (t->identified && t->info.id == prefix) return t->info.id;
      if (t->identified) consider(t->info.id);
    }
    for (const auto& [id, s] : saved) {
      if (id == prefix) return id;
      consider(id);
    }
    if (matches.empty()) return Error{"no container matches " + prefix};
    if (matches.size() > 1) return Error{"ambiguous id " + prefix + " (" + std::to_string(matches.size()) + " containers)"};
    return matches.front();
  }

  Tracked* live(const std::string& id) {
    for (auto& [index, t] : by_index)
      if (t->identified && t->info.id == id) return t.get();
    return nullptr;
  }

  Reply snapshot(const std::string& id) {
    Tracked* t = live(id);
    if (t == nullptr) {
      auto s = saved.find(id);
      if (s == saved.end()) return error_reply("no container " + id);
      return ok_reply(s->second.file.string() + "\n");  // exited: the saved trace is the whole history
    }
    (void)ring->drain();
    auto path = write_history(*t, options.dir / (id + ".snapshot.tl"));
    if (!path.ok()) return error_reply(path.error().message);
    return ok_reply(path->string() + "\n");
  }

  Reply list() const {
    std::vector<ListRow> rows;
    for (const auto& [index, t] : by_index) {
      if (!t->identified) continue;
      rows.push_back({node, t->info.pod_namespace, t->info.pod_name, t->info.container_name, t->info.id,
                      t->host ? "host" : "running", t->buffer.events_held(), "-"});
    }
    for (const auto& [id, s] : saved) {
      bool running = false;
      for (const auto& r : rows) running |= r.id == id;
      if (running) continue;
      rows.push_back({node, s.info.pod_namespace, s.info.pod_name, s.info.container_name, id, "exited", s.events,
                      s.file.string()});
    }
    std::sort(rows.begin(), rows.end(), [](const ListRow& a, const ListRow& b) { return a.id < b.id; });
    std::string body;
    for (const auto& r : rows) body += format_list_row(r);
    return ok_reply(body);
  }

  Reply handle(const Request& request) {
    switch (request.verb) {
      case Verb::list: return list();
      case Verb::stop: stopping = true; return ok_reply();
      case Verb::snapshot:
      case Verb::show:
      case Verb::remove: break;
    }
    auto id = resolve(request.id);
    if (!id.ok()) return error_reply(id.error().message);
    settle(*id);
    if (live(*id) == nullptr && saved.find(*id) == saved.end()) return error_reply("no container " + *id);
    if (request.verb == Verb::remove) {
      if (live(*id) != nullptr) return error_reply(*id + " is running: its history is kept until it exits");
      auto s = saved.find(*id);
      std::error_code ec;
      fs::remove(s->second.file, ec);
      fs::remove(options.dir / (*id + ".snapshot.tl"), ec);
      saved.erase(s);
      return ok_reply();
    }
    return snapshot(*id);
  }

  // Traces published by an earlier run of the daemon are listed again.
  void load_saved() {
    std::error_code ec;
    size_t seen = 0;
    for (const auto& entry : fs::directory_iterator(options.dir, ec)) {
      if (++seen > 100000) break;
      const fs::path& p = entry.path();
      std::string name = p.filename().string();
      if (p.extension() != ".tl" || name.find(".snapshot.") != std::string::npos || !entry.is_regular_file(ec)) continue;
      auto reader = format::TraceReader::open(p);
      if (!reader.ok() || reader->metadata().containers.empty()) continue;
      const auto& info = reader->metadata().containers.front();
      if (sanitize_container_id(info.id) != info.id || p.stem().string() != info.id) continue;
      uint64_t events = 0;
      for (;;) {
        auto batch = reader->next_batch();
        if (!batch.ok() || *batch == nullptr) break;
        events += (*batch)->size();
      }
      saved[info.id] = Saved{info, p, events};
    }
  }
};

Daemon::Daemon(std::unique_ptr<State> state) : state_(std::move(state)) {}
Daemon::~Daemon() = default;

Result<std::unique_ptr<Daemon>> Daemon::start(const DaemonOptions& options) {
  ::mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
  auto s = std::make_unique<State>(options);
  State& st = *s;
  if (st.options.socket_path.empty()) st.options.socket_path = st.options.dir / "control.sock";
  if (auto r = prepare_trace_dir(st.options.dir); !r) return r.error();
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  st.node = host;

  recorder::PlanOptions plan;
  plan.capture_data = options.capture_data;
  if (!options.syscall_filters.empty()) {
    auto nrs = format::resolve_syscall_names(st.catalogue, options.syscall_filters);
    if (!nrs.ok()) return nrs.error();
    plan.syscall_filter = *nrs;
  }
  recorder::BpfOptions bpf;
  bpf.max_data = options.capture_data ? options.max_data : 0;
  bpf.ring_bytes = options.ring_bytes;
  bpf.filter_cgroups = !options.host;
  bpf.plans = recorder::build_capture_plans(st.catalogue, plan);
  auto rec = recorder::BpfRecorder::start(bpf);
  if (!rec.ok()) return rec.error();
  st.bpf = std::move(rec.value());

  State* raw = s.get();
  st.converter.emplace(st.catalogue, st, [raw](uint64_t cgroup_id) { return raw->container_of(cgroup_id); });
  auto ring = recorder::RingConsumer::create(st.bpf->ring_map_fd(),
                                             [raw](std::span<const uint8_t> sample) { raw->converter->consume(sample); });
  if (!ring.ok()) return ring.error();
  st.ring.emplace(std::move(ring.value()));

  auto mount = recorder::cgroup2_mount();
  if (!mount.ok()) return mount.error();
  auto cgroups = CgroupWatcher::create(*mount);
  if (!cgroups.ok()) return cgroups.error();
  st.cgroups.emplace(std::move(cgroups.value()));
  auto runtimes = RuntimeWatcher::create(default_runtime_roots(options.runtime_prefix));
  if (!runtimes.ok()) return runtimes.error();
  st.runtimes.emplace(std::move(runtimes.value()));

  ControlServerOptions control;
  control.socket_path = st.options.socket_path;
  control.group = options.group;
  auto server = ControlServer::create(control);
  if (!server.ok()) return server.error();
  st.control.emplace(std::move(server.value()));
  st.publisher = std::make_unique<Publisher>(options.compression_level);
  st.stop_fd.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!st.stop_fd) return Error{errno_text("eventfd")};

  if (options.host) {
    const uint32_t index = st.next_index++;
    auto t = std::make_unique<Tracked>(index, 0, "", st.budget(index), st.catalogue);
    t->identified = true;
    t->host = true;
    t->info.id = "host";
    t->info.name = st.node;
    t->info.runtime = "host";
    t->info.started_wall_ns = wall_ns();
    st.host_index = t->index;
    st.buffers.push_back(&t->buffer);
    st.by_index[t->index] = std::move(t);
  }
  st.remove_leftovers();
  st.load_saved();
  // Containers already running: traced from now on.
  for (const auto& c : scan_runtime_roots(st.runtimes->roots())) st.identify(c);
  st.publish_stats();
  return std::unique_ptr<Daemon>(new Daemon(std::move(s)));
}

void Daemon::request_stop() {
  uint64_t one = 1;
  (void)!::write(state_->stop_fd.get(), &one, sizeof(one));
}

DaemonStats Daemon::stats() const {
  std::lock_guard lock(state_->stats_mutex);
  return state_->published;
}

Result<void> Daemon::run(bool handle_signals) {
  State& st = *state_;
  if (st.options.loop_nice != 0)  // this thread only: the publisher and the merges keep theirs
    (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), st.options.loop_nice);
  sigset_t mask, old;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  UniqueFd sfd;
  if (handle_signals) {
    pthread_sigmask(SIG_BLOCK, &mask, &old);
    sfd.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  }
  struct Restore {
    bool active;
    sigset_t old;
    ~Restore() {
      if (active) pthread_sigmask(SIG_SETMASK, &old, nullptr);
    }
  } restore{handle_signals, old};

  // The ring wakes the consumer only once a good share of it is full: a
  // periodic drain keeps histories current and the ring's room for bursts
  // (this is not how container ends are noticed: those come from inotify).
  UniqueFd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  itimerspec its{};
  its.it_interval.tv_nsec = std::chrono::nanoseconds(kDrain).count();
  its.it_value = its.it_interval;
  ::timerfd_settime(timer.get(), 0, &its, nullptr);
  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  if (!ep || !timer) return Error{errno_text("epoll/timerfd")};
  for (int fd : {sfd.get(), st.stop_fd.get(), timer.get(), st.ring->epoll_fd(), st.control->fd(), st.cgroups->fd(),
                 st.runtimes->fd(), st.publisher->fd(), st.merges.fd()}) {
    if (fd < 0) continue;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return Error{errno_text("epoll_ctl")};
  }

  uint64_t drains = 0, ticks = 0;
  while (!st.stopping) {
    epoll_event events[16];
    int n = ::epoll_wait(ep.get(), events, 16, -1);
    if (n < 0 && errno != EINTR) return Error{errno_text("epoll_wait")};
    bool tick = false;
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == st.merges.fd()) st.install_merges();
      if (fd == sfd.get() || fd == st.stop_fd.get()) {
        // Consumed, so that restoring the signal mask does not deliver it again.
        char buf[sizeof(signalfd_siginfo)];
        while (::read(fd, buf, fd == sfd.get() ? sizeof(signalfd_siginfo) : sizeof(uint64_t)) > 0) {
        }
        st.stopping = true;
      } else if (fd == timer.get()) {
        uint64_t expirations = 0;
        (void)!::read(timer.get(), &expirations, sizeof(expirations));
        drains += expirations;
        if (drains >= kDrainsPerTick) {
          drains = 0;
          tick = true;
        }
      }
    }
    // Order matters: new cgroups are traced and runtime state read before
    // the ring's events are attributed; ends are handled after.
    for (const auto& change : st.runtimes->read_changes()) st.on_runtime_change(change);
    for (const auto& change : st.cgroups->read_changes()) st.on_cgroup_change(change);
    // At most about two rings' worth of records per pass: a producer faster
    // than the converter must not keep the loop from signals and requests.
    if (auto r = st.ring->drain(std::max<uint64_t>(st.bpf->ring_bytes() / 32, 4096)); !r.ok()) return r.error();
    st.collect_published();
    st.control->process([&st](const Request& r) { return st.handle(r); });
    if (tick) {
      st.expire_unidentified();
      st.measure_and_compact();
      st.enforce_budgets();
      st.publish_stats();
      if (++ticks % kTicksPerTrim == 0) ::malloc_trim(0);
    }
  }

  // Shutdown: what the kernel still holds, then every live history to DIR.
  (void)st.ring->drain();
  std::vector<Tracked*> live;
  for (auto& [index, t] : st.by_index)
    if (t->identified && t->buffer.events_held() > 0) live.push_back(t.get());
  for (Tracked* t : live) st.publish(*t);
  st.publisher->wait_idle();
  st.collect_published();
  st.publish_stats();
  if (st.counters.saves_failed > 0)
    return Error{std::to_string(st.counters.saves_failed) + " histories could not be saved (see above)"};
  return ok_result();
}

Result<uint64_t> parse_size(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return Error{"bad size: " + std::string(text)};
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  uint64_t mult = 1;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "K" || unit == "k" || unit == "KiB" || unit == "KB") mult = 1ull << 10;
  else if (unit == "M" || unit == "MiB" || unit == "MB") mult = 1ull << 20;
  else if (unit == "G" || unit == "GiB" || unit == "GB") mult = 1ull << 30;
  else return Error{"bad size unit: " + std::string(text) + " (use K, M or G)"};
  if (value == 0 || value > (1ull << 44) / mult) return Error{"size out of range: " + std::string(text)};
  return value * mult;
}

}  // namespace traceloop::daemon
