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
#include <deque>
#include <map>
#include <mutex>
#include <unordered_set>

#include "format/catalogue.h"
#include "format/metadata.h"
#include "format/published_file.h"
#include "format/trace_reader.h"
#include "format/unique_fd.h"
#include "format/zstd_codec.h"
#include "recorder/bpf_recorder.h"
#include "recorder/cgroup.h"
#include "recorder/clock.h"
#include "recorder/daemon/cgroup_inspection.h"
#include "recorder/fd_snapshot.h"
#include "recorder/daemon/cgroup_watcher.h"
#include "recorder/daemon/container_metadata.h"
#include "recorder/daemon/container_registry.h"
#include "recorder/daemon/control_requests.h"
#include "recorder/daemon/control_server.h"
#include "recorder/daemon/flight_buffer.h"
#include "recorder/daemon/history_journal.h"
#include "recorder/daemon/history_reload.h"
#include "recorder/daemon/publisher.h"
#include "recorder/daemon/runtime_watcher.h"
#include "recorder/daemon/saved_histories.h"
#include "recorder/daemon/selection.h"
#include "recorder/daemon/total_budget.h"
#include "recorder/daemon/trace_dir.h"
#include "recorder/event_converter.h"
#include "recorder/event_sink.h"
#include "recorder/process_tracker.h"
#include "recorder/recording_setup.h"
#include "recorder/ring_consumer.h"

namespace traceloop::daemon {

namespace fs = std::filesystem;
using recorder::wall_ns;

namespace {

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
// A history goes on disk once it is this old, and then has its open batch
// sealed (and written) once its first event is this old: a crash loses about
// the last second at most. The small frames this makes for slow containers
// are merged as any others.
constexpr auto kSealAfter = std::chrono::seconds(1);
// Freed memory goes back to the system this often (malloc keeps it otherwise).
constexpr uint64_t kTicksPerTrim = 10;
// Allocations from this size on are mapped on their own, and unmapped when
// freed: merge scratch and big frames do not stay in the heap.
constexpr int kMmapThreshold = 256 << 10;
// `list` keeps the most recent problems, one per id.
constexpr size_t kMaxProblems = 64;
// Containers remembered as gone before their state was read.
constexpr size_t kMaxVanished = 1024;

}  // namespace

// The unfinished calls of one container, for its snapshot.
struct InFlightOf : recorder::EventSink {
  explicit InFlightOf(uint32_t index_in) : index(index_in) {}
  void event(const format::Event& e) override {
    if (e.container == index) events.push_back(format::OwnedEvent::from(e));
  }
  void loss(const format::LossMarker&) override {}
  void notice(const format::TaskNotice&) override {}  // a snapshot adds calls in flight only
  uint32_t index;
  std::vector<format::OwnedEvent> events;
};

struct Daemon::State : recorder::EventSink {
  DaemonOptions options;
  const format::Catalogue& catalogue = format::builtin_catalogue(format::host_arch());
  std::unique_ptr<recorder::BpfRecorder> bpf;
  std::optional<ContainerRegistry> registry;
  std::optional<recorder::EventConverter> converter;
  std::optional<recorder::RingConsumer> ring;
  std::optional<ControlServer> control;
  std::optional<CgroupWatcher> cgroups;
  std::optional<RuntimeWatcher> runtimes;
  MergeWorker merges;
  FlightCodec codec;
  UniqueFd stop_fd;
  std::string node;
  uint64_t own_mount_ns = 0;
  uint32_t events_to_budget_check = kEventsPerBudgetCheck;
  SavedHistories saved;
  std::unique_ptr<Publisher> publisher;
  // Cgroups of containers the selection left out: never traced again.
  std::unordered_set<uint64_t> unchosen;
  std::vector<Problem> problems;
  // Containers whose runtime state was gone before it could be read (a
  // container that lived a few milliseconds): id -> the root it was in. The
  // cgroup's end still publishes their history, named from this.
  std::map<std::string, RuntimeRoot> vanished;
  std::deque<std::string> vanished_order;
  // Histories an earlier daemon kept on disk and did not publish, by id (the
  // newest of each), until the containers running at start are known: those
  // go on, the others are published.
  std::map<std::string, FoundJournal> journals_at_start;
  std::vector<FoundJournal> journals_to_publish;
  // Entries whose journal could not be made (said once, not tried again).
  std::unordered_set<uint32_t> journals_refused;
  bool stopping = false;
  DaemonStats counters;
  mutable std::mutex stats_mutex;
  DaemonStats published;

  bool debug = std::getenv("TRACELOOP_DAEMON_DEBUG") != nullptr;
  uint32_t self_pid = static_cast<uint32_t>(::getpid());

  explicit State(const DaemonOptions& o)
      : options(o), merges(o.compression_level), codec(o.compression_level, &merges), saved(o.dir) {}

  // Decisions about cgroups, on stderr when TRACELOOP_DAEMON_DEBUG is set.
  void trace_decision(const char* what, const std::string& path, const std::string& id = {}) const {
    if (debug) std::fprintf(stderr, "traceloop-record daemon: %s %s %s\n", what, path.c_str(), id.c_str());
  }
  // A container the daemon cannot record as it should: always said, in the
  // log and in `list`.
  void report(const std::string& id, const std::string& state, const std::string& reason) {
    std::erase_if(problems, [&](const Problem& p) { return p.id == id; });
    if (problems.size() >= kMaxProblems) problems.erase(problems.begin());
    problems.push_back({id, state, reason});
    std::fprintf(stderr, "traceloop-record daemon: %s: %s: %s\n", id.c_str(), state.c_str(), reason.c_str());
  }

  // --- EventSink: where the converter's events go ---------------------------
  void event(const format::Event& e) override {
    Tracked* t = registry->by_index(e.container);
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
    if (Tracked* t = registry->by_index(l.container)) t->buffer.add_loss(l);
  }
  void notice(const format::TaskNotice& n) override {
    Tracked* t = registry->by_index(n.container);
    if (t == nullptr || (t->host && n.pid == self_pid)) return;
    t->buffer.add_notice(n);
    t->processes.observe(n);
  }

  // --- tracking ---------------------------------------------------------------
  FlightBufferOptions budget() const {
    FlightBufferOptions b;
    // A container never holds more than all of them may: its frames and
    // merges are sized from this.
    b.budget_bytes = std::min(options.budget_per_container, options.budget_total);
    b.time_unit_ns = options.timestamp_resolution_ns;
    return b;
  }

  void install_merges() {
    for (auto& result : merges.take_done())
      if (Tracked* t = registry->by_index(result.owner)) t->buffer.install(std::move(result));
  }

  Tracked* track(const std::string& path, uint64_t id) {
    Tracked* t = registry->track(path, id, budget());
    if (t == nullptr) return t;
    trace_decision("tracing", path);
    // Its processes may be running already (the daemon started after them):
    // the fds they hold now, read after their recording began.
    const fs::path dir = cgroups->mount() / fs::path(path).relative_path();
    t->fd_snapshots = recorder::read_fd_snapshots(recorder::cgroup_pids(dir), recorder::boot_ns());
    return t;
  }

  void forget(Tracked* t) {
    journals_refused.erase(t->index);
    registry->forget(t);
  }

  // --- histories on disk --------------------------------------------------------
  uint64_t segment_bytes() const { return std::max<uint64_t>(budget().budget_bytes / 4, 64u << 10); }

  // The container is identified: an earlier daemon's journal of it goes on.
  void resume_from_disk(Tracked& t) {
    auto it = journals_at_start.find(t.info.id);
    if (it == journals_at_start.end() || t.buffer.journal() != nullptr) return;
    FoundJournal found = std::move(it->second);
    journals_at_start.erase(it);
    if (t.buffer.events_seen() == 0 && resume(t, found)) return;
    journals_to_publish.push_back(std::move(found));
  }

  // A history is kept on disk once it is a second old (from the tick): a
  // container that lives less costs no disk work, and is published at its
  // exit anyway.
  void keep_on_disk(Tracked& t, std::chrono::steady_clock::time_point now) {
    if (!t.identified || t.buffer.journal() != nullptr || t.buffer.events_seen() == 0 ||
        now - t.noticed < kSealAfter || journals_refused.contains(t.index))
      return;
    // From its oldest frame held: what it recorded before it was identified too.
    auto journal = HistoryJournal::create(options.dir, t.info.id, metadata_for(t), segment_bytes(),
                                          t.buffer.overwritten());
    if (!journal.ok()) {
      journals_refused.insert(t.index);
      report(t.info.id, "not on disk", journal.error().message + ": a crash of the daemon would lose its history");
      return;
    }
    t.buffer.keep_on_disk(std::move(*journal));
  }

  // The history an earlier daemon kept of a container still running: read
  // back, and a loss marker of an unknown count for the time no daemon
  // recorded (from its last frame saved to now).
  bool resume(Tracked& t, const FoundJournal& found) {
    const format::TraceMetadata now = metadata_for(t);
    if (!journal_of_this_boot(found.dir, now.boot_to_wall_ns)) return false;
    auto reloaded = reload_history(found.dir, t.buffer, t.processes, codec, segment_bytes(), &now);
    if (!reloaded.ok()) return false;
    if (!reloaded->metadata.containers.empty() && reloaded->metadata.containers.front().started_wall_ns != 0)
      t.info.started_wall_ns = reloaded->metadata.containers.front().started_wall_ns;
    format::LossMarker gap;  // neither count: how many calls were missed is not known
    gap.at_ns = recorder::boot_ns();
    t.buffer.add_loss(gap);
    std::fprintf(stderr, "traceloop-record daemon: %s: history of %llu events resumed from %s\n", t.info.id.c_str(),
                 static_cast<unsigned long long>(reloaded->events), found.dir.c_str());
    return true;
  }

  // Histories of containers that ended while no daemon ran (or whose
  // journal could not go on): published as their journal holds them, with
  // a loss marker of an unknown count at their end (the calls from the last
  // frame saved to the container's exit).
  void publish_journals() {
    for (auto& [id, found] : journals_at_start) journals_to_publish.push_back(std::move(found));
    journals_at_start.clear();
    for (const auto& found : journals_to_publish) publish_journal(found);
    journals_to_publish.clear();
  }

  void publish_journal(const FoundJournal& found) {
    FlightCodec local(options.compression_level);
    FlightBuffer buffer(budget());
    recorder::ProcessTracker processes(catalogue);
    auto reloaded = reload_history(found.dir, buffer, processes, local, segment_bytes());
    if (!reloaded.ok() || reloaded->metadata.containers.empty()) {
      // No segment ever got a whole header: nothing was recorded in it.
      std::error_code ec;
      fs::remove_all(found.dir, ec);
      return;
    }
    format::TraceMetadata metadata = std::move(reloaded->metadata);
    metadata.containers.resize(1);
    metadata.containers.front().id = found.id;
    format::LossMarker end;
    end.at_ns = reloaded->last_ns;
    buffer.add_loss(end);
    const fs::path file = saved.prepare_file(found.id);
    const uint64_t events = buffer.events_held();
    saved.add(Saved{metadata.containers.front(), file, events});
    std::fprintf(stderr, "traceloop-record daemon: %s: ended while no daemon ran; its history of %llu events goes to %s\n",
                 found.id.c_str(), static_cast<unsigned long long>(events), file.c_str());
    publisher->submit(Publisher::Job{std::move(buffer), std::move(metadata), processes.table(), file});
    ++counters.containers_published;
  }

  void identify(const RuntimeContainer& c) {
    if (c.info.cgroup_path.empty()) {
      report(c.info.id, "unidentified", "its runtime state names no cgroup: not recorded");
      return;
    }
    Tracked* t = registry->by_path(c.info.cgroup_path);
    if (t == nullptr) {
      // A cgroup made before the daemon started (or before its watch): trace from now.
      if (!options.selection.matches(c.info)) return;
      fs::path dir = cgroups->mount() / fs::path(c.info.cgroup_path).relative_path();
      if (!cgroups->populated(c.info.cgroup_path)) return;
      t = track(c.info.cgroup_path, cgroup_dir_id(dir));
      if (t == nullptr) {
        report(c.info.id, "unidentified", "cgroup " + c.info.cgroup_path + " cannot be traced: not recorded");
        return;
      }
    }
    if (t->identified && t->info.id == c.info.id) return;
    if (!options.selection.matches(c.info)) {
      // Provisionally traced since its cgroup appeared; not chosen: never again.
      trace_decision("not chosen", t->cgroup_path, c.info.id);
      unchosen.insert(t->cgroup_id);
      ++counters.containers_unchosen;
      forget(t);
      return;
    }
    trace_decision("identified", t->cgroup_path, c.info.id);
    std::erase_if(problems, [&](const Problem& p) { return p.id == c.info.id; });  // read after all
    t->identified = true;
    t->unidentified_container = false;
    t->info = c.info;
    t->info.cgroup_id = t->cgroup_id;
    if (t->info.init_pid == 0 && c.init_pid > 0) t->info.init_pid = static_cast<uint32_t>(c.init_pid);
    // Its first process may have ended before its state was read (a command
    // of a few milliseconds, a busy daemon): any process left in the cgroup
    // lives in the container's mount namespace too.
    if (t->info.mount_ns_id == 0)
      t->info.mount_ns_id = first_foreign_mount_ns(cgroups->mount() / fs::path(t->cgroup_path).relative_path(),
                                                   own_mount_ns);
    if (t->info.started_wall_ns == 0) t->info.started_wall_ns = wall_ns();
    resume_from_disk(*t);
  }

  // A cgroup no runtime claimed: a container all the same when its
  // processes live in a mount namespace of their own (an engine the daemon
  // does not know, or whose state it could not read). Recorded under a name
  // made from its cgroup, and reported; else it was not a container.
  bool adopt_unknown(Tracked& t) {
    if (!options.selection.empty()) return false;  // nothing to match a selection against
    if (!may_hold_a_container(t.cgroup_path)) return false;
    const fs::path dir = cgroups->mount() / fs::path(t.cgroup_path).relative_path();
    const uint64_t mount_ns = first_foreign_mount_ns(dir, own_mount_ns);
    if (mount_ns == 0) return false;
    t.identified = true;
    t.unidentified_container = true;
    t.info.id = id_from_cgroup_path(t.cgroup_path);
    t.info.name = t.info.id;
    t.info.runtime = "unknown";
    t.info.cgroup_path = t.cgroup_path;
    t.info.cgroup_id = t.cgroup_id;
    t.info.mount_ns_id = mount_ns;
    t.info.started_wall_ns = wall_ns();
    report(t.info.id, "unidentified",
           "cgroup " + t.cgroup_path + " holds a container no known runtime describes; recorded without metadata");
    resume_from_disk(t);
    return true;
  }

  format::TraceMetadata metadata_for(const Tracked& t) const {
    format::TraceMetadata m;
    format::fill_host_metadata(m);
    m.host_name = node;
    m.catalogue = catalogue;
    const recorder::CaptureChoice capture{options.syscall_filters, options.capture_data, options.max_data,
                                          options.timestamp_resolution_ns};
    m.capture = recorder::capture_settings_for(capture, "daemon", bpf->ring_bytes());
    m.capture.budget_bytes = options.budget_per_container;
    m.containers.push_back(t.info);
    m.fd_snapshots = t.fd_snapshots;
    return m;
  }

  // --- publishing -------------------------------------------------------------
  // Calls of the container lost since its last record that reached the ring
  // (no record announced them): at the end of its history, now.
  void report_unannounced_losses(const Tracked& t) {
    if (t.host) return;  // no cgroup of its own: the daemon's stop takes them all
    auto taken = bpf->take_losses(t.cgroup_id);
    if (!taken.ok()) {
      std::fprintf(stderr, "traceloop-record daemon: %s: %s\n", t.info.id.c_str(), taken.error().message.c_str());
      return;
    }
    converter->report_unannounced(t.cgroup_id, taken->unreported, recorder::boot_ns());
  }

  // The container is gone (or the daemon stops): its history becomes
  // DIR/<id>.tl, written by the publisher's thread.
  void publish(Tracked& t) {
    report_unannounced_losses(t);
    t.info.exited_wall_ns = wall_ns();
    const fs::path file = saved.prepare_file(t.info.id);
    uint64_t events = t.buffer.events_held();
    format::TraceMetadata metadata = metadata_for(t);
    auto processes = t.processes.table();
    publisher->submit(Publisher::Job{std::move(t.buffer), std::move(metadata), std::move(processes), file});
    FlightBufferOptions b = budget();
    b.owner = t.index;
    t.buffer = FlightBuffer(b);
    t.events_before_buffer = t.events_forgotten = t.processes.observed();
    t.processes.forget_before(t.events_forgotten);
    saved.add(Saved{t.info, file, events});
    ++counters.containers_published;
  }

  void collect_published() {
    for (const auto& done : publisher->take_done()) {
      if (!done.error) continue;
      std::fprintf(stderr, "traceloop-record daemon: %s\n", done.error->c_str());
      ++counters.saves_failed;
      saved.forget_file(done.path);
    }
  }

  // A request about a saved trace waits for it to be on disk.
  void settle(const std::string& id) {
    const Saved* s = saved.find(id);
    if (s != nullptr && publisher->busy_with(s->file)) {
      publisher->wait_idle();
      collect_published();
    }
  }

  // --- discovery ------------------------------------------------------------
  void on_cgroup_change(const CgroupChange& c) {
    switch (c.kind) {
      case CgroupChange::Kind::created:
        if (!stopping && !unchosen.contains(c.id)) track(c.path, c.id);
        break;
      case CgroupChange::Kind::emptied:
      case CgroupChange::Kind::removed: {
        if (c.kind == CgroupChange::Kind::removed) unchosen.erase(c.id);
        Tracked* t = registry->by_path(c.path);
        if (t == nullptr || (c.kind == CgroupChange::Kind::removed && c.id != 0 && c.id != t->cgroup_id)) break;
        // Everything its processes did is in the ring by now: take it first.
        (void)ring->drain();
        // A container that lived and died while the daemon was busy may have
        // slipped past the runtime watch; its state is usually still there.
        if (!t->identified) {
          for (const auto& rc : scan_runtime_roots(runtimes->roots()))
            if (rc.info.cgroup_path == t->cgroup_path) identify(rc);
          t = registry->by_path(c.path);  // identify() may have left it out
          if (t != nullptr && !t->identified) identify_vanished(*t);
          t = registry->by_path(c.path);
          if (t == nullptr) break;
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
    const RuntimeRoot& root = runtimes->roots()[c.root];
    if (!c.problem.empty()) {
      report(c.id.empty() ? root.dir.string() : c.id, "unreadable", c.problem);
      return;
    }
    if (c.new_root) {
      std::fprintf(stderr, "traceloop-record daemon: watching %s (%s namespace %s)\n", root.dir.c_str(),
                   root.runtime.c_str(), root.runtime_namespace.c_str());
      return;
    }
    if (c.removed) {
      // The cgroup's end publishes the history. A state that came and went
      // while the daemon was busy (before it could watch the new directory)
      // was never read: remembered, so that the cgroup's end still saves it.
      if (!c.id.empty()) remember_vanished(c.id, root);
      return;
    }
    auto container = read_runtime_container(root, c.id);
    if (!container.ok()) {
      // Remembered either way: should its cgroup end before a later read
      // succeeds, the history is saved with what is known (the id) rather
      // than dropped. (A runtime deleting a container removes its state
      // before its directory: a read between the two fails, and the
      // directory's removal may come too late or not be seen.)
      remember_vanished(c.id, root);
      std::error_code ec;
      if (!fs::exists(root.dir / c.id, ec)) return;  // not unreadable: already gone
      report(c.id, "unreadable", container.error().message);
      return;
    }
    // Recorded all the same; what could not be read is said.
    for (const auto& warning : container->warnings)
      std::fprintf(stderr, "traceloop-record daemon: %s: %s\n", c.id.c_str(), warning.c_str());
    identify(*container);
  }

  void remember_vanished(const std::string& id, const RuntimeRoot& root) {
    if (vanished.emplace(id, root).second) vanished_order.push_back(id);
    if (vanished_order.size() > kMaxVanished) {
      vanished.erase(vanished_order.front());
      vanished_order.pop_front();
    }
  }

  // An unidentified cgroup that emptied: a container whose state was gone
  // (or unreadable) before it could be read, when its cgroup carries that
  // container's id (runc's and Docker's cgroups do). Identified with what is
  // known: its id, its runtime, and its engine's record when the engine
  // still has one (a stopped Docker container's config, a Kubernetes
  // container in containerd's store: its pod).
  void identify_vanished(const Tracked& t) {
    const std::string id = id_from_cgroup_path(t.cgroup_path);
    auto it = vanished.find(id);
    if (it == vanished.end()) return;
    RuntimeContainer c = read_vanished_container(it->second, id);
    c.info.cgroup_path = t.cgroup_path;
    const bool from_record = !c.info.image.empty() || !c.info.labels.empty() || c.info.name != id;
    if (!from_record && !options.selection.matches(c.info)) {
      // The selection's names (pod, namespace, image...) are what could not
      // be read: not kept, since the selection promises no other container,
      // and said where `list` shows it. (With the engine's record, the
      // selection decides as for any container.)
      report(id, "unreadable",
             "its runtime state was gone or unreadable when it was read, so the selection (" +
                 describe(options.selection) + ") could not be checked: not recorded");
      return;
    }
    if (options.selection.matches(c.info))
      std::fprintf(stderr,
                   "traceloop-record daemon: %s: its runtime state was gone or unreadable when it was read; %s\n",
                   id.c_str(),
                   from_record ? "saved with its engine's record (names, image, labels)" : "saved without its metadata");
    for (const auto& warning : c.warnings)
      std::fprintf(stderr, "traceloop-record daemon: %s: %s\n", id.c_str(), warning.c_str());
    identify(c);
  }

  // A scan of every runtime root: containers identified, what could not be
  // read reported.
  void scan_runtimes() {
    std::vector<RuntimeProblem> found;
    for (const auto& c : scan_runtime_roots(runtimes->roots(), "/proc", &found)) identify(c);
    for (const auto& p : found) report(p.id.empty() ? p.dir.string() : p.id, "unreadable", p.message);
  }

  void expire_unidentified() {
    auto now = std::chrono::steady_clock::now();
    std::vector<Tracked*> stale;
    for (const auto& [index, t] : registry->entries())
      if (!t->identified && !t->host && now - t->noticed > options.identify_timeout) stale.push_back(t.get());
    for (Tracked* t : stale) {
      if (adopt_unknown(*t)) continue;
      trace_decision("not a container", t->cgroup_path);
      ++counters.cgroups_dropped;
      forget(t);
    }
  }

  // --- budgets and statistics -------------------------------------------------
  // Process tables and histories being written count too: the budget is
  // the memory the recording holds, not only its events.
  void enforce_budgets() {
    uint64_t other = publisher->pending_bytes() + merges.scratch_bytes();
    for (const auto& [index, t] : registry->entries()) other += t->table_bytes;
    if (enforce_total_budget(registry->buffers(), options.budget_total, codec, other) == 0) return;
    for (const auto& [index, t] : registry->entries()) forget_overwritten(*t);
  }
  // An open batch is raw columns, several times its compressed size: a
  // container that went quiet has it compressed, so that a hundred quiet
  // ones do not hold the budget in raw bytes.
  void measure_and_compact() {
    const auto now = std::chrono::steady_clock::now();
    for (const auto& [index, t] : registry->entries()) {
      t->table_bytes = sizeof(Tracked) + t->processes.memory_bytes() + t->cgroup_path.capacity() +
                       format::memory_bytes(t->fd_snapshots) +
                       (t->buffer.journal() != nullptr ? t->buffer.journal()->memory_bytes() : 0);
      const uint64_t seen = t->buffer.events_seen();
      keep_on_disk(*t, now);
      if (seen == t->seen_at_tick && t->buffer.open_bytes() >= kQuietSealBytes) t->buffer.seal(codec);
      else if (t->buffer.journal() != nullptr && t->buffer.open_events() > 0 && now - t->buffer.open_since() >= kSealAfter)
        t->buffer.seal(codec);
      t->seen_at_tick = seen;
    }
  }

  void publish_stats() {
    counters.tracked_cgroups = registry->traced_cgroups();
    counters.live_containers = 0;
    for (const auto& [index, t] : registry->entries()) counters.live_containers += t->identified ? 1 : 0;
    std::lock_guard lock(stats_mutex);
    published = counters;
  }

  // --- control requests ---------------------------------------------------------
  std::vector<std::string> live_ids() const {
    std::vector<std::string> ids;
    for (const auto& [index, t] : registry->entries())
      if (t->identified) ids.push_back(t->info.id);
    return ids;
  }

  // A running container's history as it stands, written to `path`.
  Result<void> write_snapshot(Tracked& t, const fs::path& path) {
    (void)ring->drain();
    report_unannounced_losses(t);
    // Calls in flight now (a thread blocked in read, in wait4) end the
    // snapshot as unfinished; the history itself waits for their exits.
    InFlightOf in_flight(t.index);
    if (auto records = bpf->in_flight_records(); records.ok()) converter->emit_in_flight(*records, in_flight);
    auto table = t.processes.table();
    if (auto r = t.buffer.write(path, metadata_for(t), table, codec, in_flight.events); !r.ok()) return r.error();
    return {};
  }

  Reply snapshot(const std::string& id) {
    Tracked* t = registry->by_id(id);
    if (t == nullptr) {
      const Saved* s = saved.find(id);
      if (s == nullptr) return error_reply("no container " + id);
      return ok_reply(s->file.string() + "\n");  // exited: the saved trace is the whole history
    }
    const fs::path path = saved.snapshot_file(id);
    if (auto r = write_snapshot(*t, path); !r) return error_reply(r.error().message);
    return ok_reply(path.string() + "\n");
  }

  // The trace's bytes, for a client that may not see DIR: the saved trace,
  // or a snapshot under a name of its own (a temp name, which a daemon
  // killed meanwhile leaves to the next start's clean-up), opened and
  // unlinked at once, so that nothing of it stays in DIR.
  Reply fetch(const std::string& id) {
    fs::path path;
    bool transient = false;
    if (Tracked* t = registry->by_id(id)) {
      path = format::temp_path_for(saved.snapshot_file(id));
      if (auto r = write_snapshot(*t, path); !r) return error_reply(r.error().message);
      transient = true;
    } else if (const Saved* s = saved.find(id)) {
      path = s->file;
    } else {
      return error_reply("no container " + id);
    }
    UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    const int open_errno = errno;
    if (transient) ::unlink(path.c_str());
    struct stat st {};
    if (!file || ::fstat(file.get(), &st) != 0)
      return error_reply(path.string() + ": " + std::strerror(file ? errno : open_errno));
    return file_reply(std::move(file), static_cast<uint64_t>(st.st_size));
  }

  Reply list() const {
    std::vector<ListRow> rows;
    for (const auto& [index, t] : registry->entries()) {
      if (!t->identified) continue;
      const auto& info = t->info;
      const char* state = t->host ? "host" : t->unidentified_container ? "unidentified" : "running";
      rows.push_back({node, info.pod_namespace.empty() ? info.runtime_namespace : info.pod_namespace, info.pod_name,
                      display_name(info), info.id, state, t->buffer.events_held(), "-"});
    }
    return ok_reply(list_body(std::move(rows), saved, problems, node));
  }

  std::string recording_text() const {
    std::string filters;
    for (const auto& name : options.syscall_filters) filters += (filters.empty() ? "" : ",") + name;
    return "containers: " + describe(options.selection) + "\nsyscalls: " + (filters.empty() ? "all" : filters) + "\n";
  }

  // What is recorded changes from now on: containers no longer chosen have
  // their history published as it stands, containers newly chosen are
  // traced from now on.
  Reply select(const std::vector<std::string>& words) {
    auto change = parse_select(words);
    if (!change.ok()) return error_reply(change.error().message);
    auto& filters = change->syscalls;
    auto& selection = change->selection;
    if (filters) {
      const recorder::CaptureChoice capture{*filters, options.capture_data, options.max_data,
                                            options.timestamp_resolution_ns};
      auto plans = recorder::capture_plans_for(catalogue, capture);
      if (!plans.ok()) return error_reply(plans.error().message);
      if (auto r = bpf->set_plans(*plans); !r.ok()) return error_reply(r.error().message);
      options.syscall_filters = *filters;
    }
    if (selection) {
      options.selection = std::move(*selection);
      (void)ring->drain();
      std::vector<Tracked*> left_out;
      for (const auto& [index, t] : registry->entries())
        if (t->identified && !t->host &&
            (t->unidentified_container ? !options.selection.empty() : !options.selection.matches(t->info)))
          left_out.push_back(t.get());  // an unidentified container has nothing a selection could match
      for (Tracked* t : left_out) {
        trace_decision("no longer chosen", t->cgroup_path, t->info.id);
        if (t->buffer.events_held() > 0) publish(*t);
        else t->buffer.remove_journal();
        forget(t);
      }
      // Containers left out before may be chosen now.
      unchosen.clear();
      scan_runtimes();
    }
    std::fprintf(stderr, "traceloop-record daemon: recording %s", recording_text().c_str());
    return ok_reply(recording_text());
  }

  Reply handle(const Request& request) {
    switch (request.verb) {
      case Verb::list: return list();
      case Verb::stop: stopping = true; return ok_reply();
      case Verb::select: return select(request.words);
      case Verb::snapshot:
      case Verb::fetch:
      case Verb::remove: break;
    }
    auto id = resolve_container_id(request.id, live_ids(), saved);
    if (!id.ok()) return error_reply(id.error().message);
    settle(*id);
    if (registry->by_id(*id) == nullptr && saved.find(*id) == nullptr) return error_reply("no container " + *id);
    if (request.verb == Verb::remove) {
      if (registry->by_id(*id) != nullptr) return error_reply(*id + " is running: its history is kept until it exits");
      saved.remove(*id);
      return ok_reply();
    }
    return request.verb == Verb::fetch ? fetch(*id) : snapshot(*id);
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
  st.node = options.node.empty() ? std::string(host) : options.node;

  const recorder::CaptureChoice capture{options.syscall_filters, options.capture_data, options.max_data,
                                        options.timestamp_resolution_ns};
  auto bpf = recorder::bpf_options_for(st.catalogue, capture);
  if (!bpf.ok()) return bpf.error();
  bpf->ring_bytes = options.ring_bytes;
  bpf->filter_cgroups = !options.host;
  auto rec = recorder::BpfRecorder::start(*bpf);
  if (!rec.ok()) return rec.error();
  st.bpf = std::move(rec.value());
  st.registry.emplace(*st.bpf, st.catalogue);
  st.own_mount_ns = mount_ns_of("/proc", ::getpid());

  State* raw = s.get();
  st.converter.emplace(st.catalogue, st, [raw](uint64_t cgroup_id) { return raw->registry->index_of_cgroup(cgroup_id); });
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
  if (!st.stop_fd) return errno_error("eventfd");

  st.saved.remove_leftovers();
  st.saved.load();
  for (auto& found : find_journals(st.options.dir)) {
    // Older journals of one id (a container restarted with its id) are
    // histories of their own.
    auto [it, fresh] = st.journals_at_start.try_emplace(found.id, found);
    if (!fresh) {
      st.journals_to_publish.push_back(std::move(it->second));
      it->second = std::move(found);
    }
  }
  if (options.host) {
    Tracked* t = st.registry->add_host(st.budget());
    t->info.id = "host";
    t->info.name = st.node;
    t->info.runtime = "host";
    t->info.started_wall_ns = wall_ns();
    st.resume_from_disk(*t);
  }
  // What keeps a runtime's state from being watched is said from the start.
  for (const auto& p : st.runtimes->problems())
    st.report(p.id.empty() ? p.dir.string() : p.id, "unreadable", p.message);
  // Containers already running: traced from now on, or on from their
  // journal; the journals of the others are published.
  st.scan_runtimes();
  st.publish_journals();
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
  if (!ep || !timer) return errno_error("epoll/timerfd");
  for (int fd : {sfd.get(), st.stop_fd.get(), timer.get(), st.ring->epoll_fd(), st.control->fd(), st.cgroups->fd(),
                 st.runtimes->fd(), st.publisher->fd(), st.merges.fd()}) {
    if (fd < 0) continue;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return errno_error("epoll_ctl");
  }

  uint64_t drains = 0, ticks = 0;
  while (!st.stopping) {
    epoll_event events[16];
    int n = ::epoll_wait(ep.get(), events, 16, -1);
    if (n < 0 && errno != EINTR) return errno_error("epoll_wait");
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

  // Shutdown: what the kernel still holds, the calls still in flight (as
  // unfinished), then every live history to DIR.
  st.bpf->detach();
  (void)st.ring->drain();
  if (auto records = st.bpf->in_flight_records(); records.ok()) st.converter->emit_in_flight(*records, st);
  if (auto losses = st.bpf->take_all_losses(); losses.ok()) {
    const uint64_t now = recorder::boot_ns();
    for (const auto& [cgroup_id, l] : *losses) st.converter->report_unannounced(cgroup_id, l.unreported, now);
  }
  if (const uint64_t n = st.bpf->counters().unattributed_total(); n > 0)
    std::fprintf(stderr, "traceloop-record daemon: %llu calls lost in cgroups no longer traced\n",
                 static_cast<unsigned long long>(n));
  std::vector<Tracked*> live;
  for (const auto& [index, t] : st.registry->entries()) {
    if (t->identified && t->buffer.events_held() > 0) live.push_back(t.get());
    else t->buffer.remove_journal();  // nothing to publish
  }
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
