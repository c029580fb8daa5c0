#include "recorder/run_command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "format/catalogue.h"
#include "format/metadata.h"
#include "format/trace_writer.h"
#include "format/unique_fd.h"
#include "recorder/attached_process.h"
#include "recorder/fd_snapshot.h"
#include "recorder/cgroup.h"
#include "recorder/clock.h"
#include "recorder/process_tracker.h"
#include "recorder/recording_setup.h"
#include "recorder/ring_consumer.h"

namespace traceloop::recorder {

namespace fs = std::filesystem;

namespace {

// Traces up to this many raw bytes of frames are recompressed when the
// command ends (see WriterOptions::compact_max_raw_bytes).
constexpr uint64_t kCompactMaxRawBytes = 4u << 20;

// Blocks the signals the recorder handles through a signalfd (to forward
// them to CMD) and restores the previous mask on exit.
class SignalBlock {
 public:
  SignalBlock() {
    sigemptyset(&set_);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&set_, sig);
    sigprocmask(SIG_BLOCK, &set_, &old_);
  }
  ~SignalBlock() { sigprocmask(SIG_SETMASK, &old_, nullptr); }
  const sigset_t& set() const { return set_; }
  const sigset_t& old() const { return old_; }

 private:
  sigset_t set_{};
  sigset_t old_{};
};

// The BPF side does not wake the consumer (too costly per record): it drains
// the ring this often. 8 MiB of ring hold ~60k syscalls, far more than a
// target makes in 10 ms.
constexpr int kDrainIntervalMs = 10;

int shell_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

std::string file_safe(std::string_view name) {
  std::string out;
  for (char c : name) out.push_back((std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_');
  return out.empty() ? "cmd" : out;
}

// Descriptors open right now, as listed in /proc/self/fd.
std::vector<int> open_fds() {
  std::vector<int> fds;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd", ec)) {
    try {
      fds.push_back(std::stoi(entry.path().filename().string()));
    } catch (...) {
    }
  }
  return fds;
}

// PATH search done before tracing starts, like strace: the trace then shows
// one execve of the real program instead of one failed execve per PATH entry.
std::optional<std::string> resolve_command(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

struct ChildSetup {
  int go_fd;
  int go_write_fd;  // closed in the child: EOF on go_fd when the parent dies
  pid_t recorder;   // the parent
  const sigset_t* mask;
  const char* program;  // resolved path, nullptr: not found
  char* const* argv;
  const std::vector<int>* recorder_fds;  // the recorder's own: not for CMD
};

// The child: waits until the parent has placed it in the traced cgroup, then
// becomes CMD. Everything before the wait is untraced, so the trace of CMD
// starts with its execve. Only async-signal-safe calls between fork and exec.
[[noreturn]] void child_main(const ChildSetup& setup) {
  ::close(setup.go_write_fd);
  // A recorder killed with SIGKILL takes the command with it: a command
  // running on untraced would be a silent hole in the recording.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != setup.recorder) _exit(126);
  for (int fd : *setup.recorder_fds)
    if (fd != setup.go_fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  sigprocmask(SIG_SETMASK, setup.mask, nullptr);
  char byte = 0;
  ssize_t n;
  do {
    n = ::read(setup.go_fd, &byte, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) _exit(126);  // the parent gave up before starting the command
  int err = ENOENT;
  if (setup.program != nullptr) {
    ::execv(setup.program, setup.argv);
    err = errno;
  }
  const char* what = err == ENOENT ? "command not found" : std::strerror(err);
  for (const char* part : {"traceloop-record: ", static_cast<const char*>(setup.argv[0]), ": ", what, "\n"})
    (void)!::write(STDERR_FILENO, part, std::strlen(part));
  _exit(err == ENOENT ? 127 : 126);
}

// Writes the command's events. The child is born in the traced cgroup, so
// the calls it makes before its execve (closing the recorder's descriptors,
// the signal mask, waiting for the go) are the recorder's, not the
// command's: they are left out, as strace's trace starts with the execve.
// The kernel traces the execve even when the chosen set leaves it out
// (CaptureChoice::trace_exec): the calls outside `recorded` are dropped here.
class TraceFileSink : public EventSink {
 public:
  TraceFileSink(format::TraceWriter& writer, ProcessTracker& tracker, const format::Catalogue& catalogue,
                uint32_t command_tid, format::SyscallSet recorded)
      : writer_(writer), tracker_(tracker), command_tid_(command_tid), recorded_(std::move(recorded)) {
    for (const char* name : {"execve", "execveat"})
      if (const format::SyscallSpec* spec = catalogue.find(name)) exec_nrs_.push_back(spec->nr);
  }
  void event(const format::Event& e) override {
    if (!command_started_ && e.tid == command_tid_) {
      if (std::find(exec_nrs_.begin(), exec_nrs_.end(), e.nr) == exec_nrs_.end()) return;
      command_started_ = true;
    }
    if (error_) return;
    tracker_.observe(e);
    if (!recorded_.contains(e.nr)) return;
    keep_error(writer_.append(e));
    ++events_;
  }
  void loss(const format::LossMarker& l) override {
    if (error_) return;
    keep_error(writer_.append_loss(l));
    lost_ += l.lost;
  }
  void notice(const format::TaskNotice& n) override {
    if (!command_started_ && n.tid == command_tid_) return;  // the recorder's own child, before the exec
    if (error_) return;
    tracker_.observe(n);
    keep_error(writer_.append_notice(n));
  }
  uint64_t events() const { return events_; }
  uint64_t lost() const { return lost_; }
  // The first write that failed (a full disk): the trace is lost, but the
  // command runs on to its end, as under strace; run reports it then.
  const std::optional<Error>& error() const { return error_; }

 private:
  void keep_error(Result<void> r) {
    if (!r.ok()) error_ = r.error();
  }

  format::TraceWriter& writer_;
  ProcessTracker& tracker_;
  const uint32_t command_tid_;
  const format::SyscallSet recorded_;
  std::vector<uint32_t> exec_nrs_;
  std::optional<Error> error_;
  bool command_started_ = false;
  uint64_t events_ = 0;
  uint64_t lost_ = 0;
};

uint64_t mount_ns_id() {
  struct stat st {};
  return ::stat("/proc/self/ns/mnt", &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

// Ends an attached recording: every record the programs will ever make is
// in the trace, with the losses no record announced, the calls still in
// flight (unfinished) and the process table.
Result<void> finish_attached(BpfRecorder& recorder, RingConsumer& consumer, EventConverter& converter,
                             ProcessTracker& tracker, format::TraceWriter& writer, RunResult& result) {
  // No program runs after detach() returns: the ring then holds the rest.
  recorder.detach();
  result.programs = recorder.program_stats();
  value_or_throw(consumer.drain());
  auto in_flight = recorder.in_flight_records();
  if (!in_flight.ok()) return in_flight.error();
  converter.consume_records(*in_flight);
  // Losses by cgroup: the attached processes may live in several.
  auto unannounced = recorder.take_all_losses();
  if (!unannounced.ok()) return unannounced.error();
  result.bpf = recorder.counters();
  const uint64_t end = boot_ns();
  converter.finish();
  for (const auto& [cgroup_id, losses] : *unannounced) converter.report_unannounced(cgroup_id, losses.unreported, end);
  value_or_throw(writer.append_processes(tracker.table()));
  writer.counters().lost_per_cpu = result.bpf.lost_per_cpu;
  writer.counters().end_wall_ns = wall_ns();
  return writer.finish();
}

// The calls the attached processes' threads are blocked in, as enter
// records made now (the time of the attach: their real entry is unknown)
// for the converter, paired with the exit records the BPF side makes.
Result<void> resume_blocked_calls(BpfRecorder& recorder, EventConverter& converter,
                                  const std::vector<AttachedProcess>& processes) {
  std::vector<uint8_t> records;
  for (const auto& p : processes) {
    for (const BlockedCall& call : blocked_calls(p.tgid)) {
      tl_enter_record rec{};
      rec.head.type = TL_RECORD_ENTER;
      rec.head.size = sizeof(rec);
      rec.nr = call.nr;
      rec.pid = p.tgid;
      rec.tid = call.tid;
      rec.ts = boot_ns();
      std::copy(std::begin(call.args), std::end(call.args), rec.args);
      std::memcpy(rec.comm, call.comm.data(), std::min(call.comm.size(), sizeof(rec.comm) - 1));
      auto resumed = recorder.resume_in_flight(rec);
      if (!resumed.ok()) return resumed.error();
      if (!*resumed) continue;
      const auto* bytes = reinterpret_cast<const uint8_t*>(&rec);
      records.insert(records.end(), bytes, bytes + sizeof(rec));
    }
  }
  converter.consume_records(records);
  return ok_result();
}

// How often (in drain intervals) the recorder looks whether any traced
// process is left: a walk of the BPF side's set.
constexpr int kLivenessEvery = 10;

// `run -p`: the processes are traced by thread group id (BPF filter mode
// TL_FILTER_PIDS), not by cgroup: they run on where they are, untouched, and
// are let go by detaching the programs.
// The BPF programs of a run or an attach, started with the options' capture
// choice (exec traced whatever the set: the process table takes each
// process's argv from it), and the calls to keep of what they record.
struct StartedRecorder {
  std::unique_ptr<BpfRecorder> bpf;
  format::SyscallSet recorded;
};
enum class TaskFilter { one_cgroup, processes };
Result<StartedRecorder> start_recorder(const RunOptions& options, const format::Catalogue& catalogue,
                                       TaskFilter filter, CaptureChoice& capture) {
  capture = CaptureChoice{options.syscall_filters, options.capture_data, options.max_data,
                          options.timestamp_resolution_ns, true};
  auto chosen = bpf_options_for(catalogue, capture);
  if (!chosen.ok()) return chosen.error();
  auto recorded = recorded_syscalls(catalogue, capture);
  if (!recorded.ok()) return recorded.error();
  BpfOptions& bpf_options = *chosen;
  bpf_options.ring_bytes = options.ring_bytes;
  bpf_options.force_raw_tracepoint = options.force_raw_tracepoint;
  bpf_options.single_cgroup = filter == TaskFilter::one_cgroup;
  bpf_options.filter_processes = filter == TaskFilter::processes;
  bpf_options.verifier_stats = options.verifier_stats;
  auto bpf = BpfRecorder::start(bpf_options);
  if (!bpf.ok()) return bpf.error();
  return StartedRecorder{std::move(bpf).value(), std::move(recorded).value()};
}

Result<RunResult> attach_traced(const RunOptions& options) {
  if (!options.command.empty()) return Error{"-p/--attach and a command exclude each other"};
  SignalBlock signals;
  const uint64_t started = boot_ns();
  auto processes = find_attached_processes(options.attach_pids, ::getpid());
  if (!processes.ok()) return processes.error();
  const AttachedProcess& first = processes->front();
  const format::Catalogue& catalogue = format::builtin_catalogue(format::host_arch());

  CaptureChoice capture;
  auto started_recorder = start_recorder(options, catalogue, TaskFilter::processes, capture);
  if (!started_recorder.ok()) return started_recorder.error();
  BpfRecorder& recorder = *started_recorder->bpf;
  auto& recorded = started_recorder->recorded;

  RunResult result;
  result.output = options.output ? *options.output
                                 : fs::current_path() / ("traceloop-" + file_safe(first.comm) + "-" +
                                                         std::to_string(first.tgid) + ".tl");
  result.raw_tracepoint = recorder.uses_raw_tracepoint();

  format::TraceMetadata metadata;
  format::fill_host_metadata(metadata);
  metadata.catalogue = catalogue;
  // One line per process: several command lines do not make one argv.
  for (const auto& p : *processes) metadata.command.push_back(command_line(p.argv));
  metadata.capture = capture_settings_for(capture, "attach", recorder.ring_bytes());
  format::ContainerInfo container;
  container.id = "attach-" + std::to_string(first.tgid);
  container.name = first.comm;
  container.runtime = "host";
  container.mount_ns_id = first.mount_ns_id;
  container.started_wall_ns = wall_ns();
  metadata.containers.push_back(container);

  // From here on every call these processes make, and every process they
  // fork, is traced (kept in the ring until the first drain below).
  for (const auto& p : *processes)
    if (auto r = recorder.trace_process(p.tgid); !r.ok()) return r.error();
  // The descriptors open now (a /proc/PID/fd snapshot of each process), in
  // the header: taken after the processes are traced, so that an fd opened
  // or closed meanwhile is in the trace as a call too, and -y replays it on
  // top of the snapshot.
  std::vector<uint32_t> tgids;
  for (const auto& p : *processes) tgids.push_back(p.tgid);
  metadata.fd_snapshots = read_fd_snapshots(tgids, boot_ns());

  // An attached recording has no natural end: it streams, in zstd, as the
  // daemon's do, whatever its length.
  auto writer = format::TraceWriter::create(result.output, metadata, format::WriterOptions{});
  if (!writer.ok()) return writer.error();

  ProcessTracker tracker(catalogue);
  for (const auto& p : *processes) tracker.set_root(p.tgid, p.ppid);
  // No setup of the recorder's own to leave out: every call is the processes'.
  TraceFileSink sink(*writer, tracker, catalogue, 0, std::move(recorded));
  EventConverter converter(catalogue, sink, [](uint64_t) { return 0u; });
  auto consumer = RingConsumer::create(recorder.ring_map_fd(),
                                       [&](std::span<const uint8_t> s) { converter.consume(s); });
  if (!consumer.ok()) return consumer.error();

  UniqueFd sfd(::signalfd(-1, &signals.set(), SFD_CLOEXEC | SFD_NONBLOCK));
  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  if (sfd.get() < 0 || ep.get() < 0) return Error{std::string("signalfd/epoll: ") + std::strerror(errno)};
  for (int fd : {sfd.get(), consumer->epoll_fd()}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev);
  }

  // The calls they are blocked in now (a read waiting for input) began
  // before: shown from now on, as strace shows them once attached, their
  // entry data read at their exit. Before the first drain, so that each
  // exit finds its entry.
  if (auto r = resume_blocked_calls(recorder, converter, *processes); !r.ok()) return r.error();
  result.startup_ns = boot_ns() - started;
  auto notify = [&](const std::string& line) {
    if (options.notice) options.notice(line);
  };
  for (const auto& p : *processes) {
    const size_t threads = thread_count(p.tgid);
    notify("Process " + std::to_string(p.tgid) + " attached" +
           (threads > 1 ? " with " + std::to_string(threads) + " threads" : ""));
  }

  bool stop = false;
  for (int round = 1; !stop; ++round) {
    epoll_event evs[4];
    int n = ::epoll_wait(ep.get(), evs, 4, kDrainIntervalMs);
    for (int i = 0; i < n; ++i) {
      if (evs[i].data.fd != sfd.get()) continue;
      signalfd_siginfo si{};
      while (::read(sfd.get(), &si, sizeof(si)) == sizeof(si))
        if (si.ssi_signo != SIGCHLD) stop = true;  // Ctrl-C and the like: detach
    }
    value_or_throw(consumer->drain());
    if (round % kLivenessEvery != 0) continue;
    // The BPF side forgets each process when its last thread exits; one it
    // missed (it exited while the programs were loading) is let go here.
    const std::vector<uint32_t> left = recorder.traced_processes();
    for (uint32_t tgid : left)
      if (::kill(static_cast<pid_t>(tgid), 0) != 0 && errno == ESRCH) recorder.untrace_process(tgid);
    if (left.empty()) stop = true;
  }

  const uint64_t detached = boot_ns();
  for (const auto& p : *processes)
    if (::kill(static_cast<pid_t>(p.tgid), 0) == 0) notify("Process " + std::to_string(p.tgid) + " detached");
  if (sink.error()) return Error{sink.error()->message + " (the processes were let go; their trace is lost)"};
  if (auto r = finish_attached(recorder, *consumer, converter, tracker, *writer, result); !r.ok()) return r.error();
  result.finish_ns = boot_ns() - detached;
  result.exit_status = 0;
  result.conversion = converter.stats();
  result.events_written = sink.events();
  result.lost_written = sink.lost();
  return result;
}

}  // namespace

Result<RunResult> run_traced(const RunOptions& options) {
  if (!options.attach_pids.empty()) return attach_traced(options);
  if (options.command.empty()) return Error{"no command given (usage: traceloop-record run [OPTIONS] -- CMD ARGS..., or run -p PID)"};
  // From the start: a SIGTERM while the programs load is forwarded to CMD
  // once it runs, instead of killing the recorder.
  SignalBlock signals;
  const uint64_t started = boot_ns();
  const format::Catalogue& catalogue = format::builtin_catalogue(format::host_arch());
  const std::vector<int> inherited_fds = open_fds();
  const std::optional<std::string> program = resolve_command(options.command[0]);

  CaptureChoice capture;
  auto started_recorder = start_recorder(options, catalogue, TaskFilter::one_cgroup, capture);
  if (!started_recorder.ok()) return started_recorder.error();
  BpfRecorder& recorder = *started_recorder->bpf;
  auto& recorded = started_recorder->recorded;

  auto mount = cgroup2_mount();
  if (!mount.ok()) return mount.error();
  constexpr std::string_view kCgroupPrefix = "traceloop.run-";
  remove_abandoned_cgroups(*mount, kCgroupPrefix);
  auto cgroup = ScopedCgroup::create(*mount, std::string(kCgroupPrefix) + std::to_string(::getpid()));
  if (!cgroup.ok()) return cgroup.error();
  // Traced before the child exists: its trace is the same whichever of the
  // two runs first (TraceFileSink leaves out the child's setup).
  if (auto r = recorder.trace_cgroup(cgroup->id(), 0); !r.ok()) return r.error();

  int go_pipe[2];
  if (::pipe2(go_pipe, O_CLOEXEC) != 0) return Error{std::string("pipe: ") + std::strerror(errno)};
  UniqueFd go_read(go_pipe[0]);
  UniqueFd go_write(go_pipe[1]);

  std::vector<char*> argv;
  for (const auto& a : options.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<int> recorder_fds;
  for (int fd : open_fds())
    if (fd > 2 && std::find(inherited_fds.begin(), inherited_fds.end(), fd) == inherited_fds.end())
      recorder_fds.push_back(fd);
  const ChildSetup setup{go_read.get(), go_write.get(), ::getpid(), &signals.old(),
                         program ? program->c_str() : nullptr, argv.data(), &recorder_fds};
  pid_t child = cgroup->fork_into();
  const bool born_in_cgroup = child >= 0;
  if (child < 0) child = ::fork();
  if (child < 0) return Error{std::string("fork: ") + std::strerror(errno)};
  if (child == 0) child_main(setup);
  go_read.reset();
  // From here on the child must be reaped on every path.
  auto abandon = [&](Error e) -> Result<RunResult> {
    go_write.reset();
    int st = 0;
    while (::waitpid(child, &st, 0) < 0 && errno == EINTR) {
    }
    return e;
  };

  RunResult result;
  std::string cmd_name = fs::path(options.command[0]).filename().string();
  result.output = options.output ? *options.output
                                 : fs::current_path() / ("traceloop-" + file_safe(cmd_name) + "-" +
                                                         std::to_string(child) + ".tl");
  result.raw_tracepoint = recorder.uses_raw_tracepoint();

  format::TraceMetadata metadata;
  format::fill_host_metadata(metadata);
  metadata.catalogue = catalogue;
  metadata.command = options.command;
  metadata.capture = capture_settings_for(capture, "run", recorder.ring_bytes());
  format::ContainerInfo container;
  container.id = "run-" + std::to_string(child);
  container.name = cmd_name;
  container.runtime = "host";
  container.cgroup_path = cgroup->relative_path();
  container.cgroup_id = cgroup->id();
  container.mount_ns_id = mount_ns_id();
  container.started_wall_ns = wall_ns();
  metadata.containers.push_back(container);

  // The command's trace is final once it ends: one more pass in LZMA2 saves
  // a third of a short command's events and most of the 14 KB catalogue
  // (~0.13 s per MiB of raw frames); longer traces stay as they
  // streamed, in zstd.
  format::WriterOptions writer_options;
  writer_options.compact_max_raw_bytes = kCompactMaxRawBytes;
  auto writer = format::TraceWriter::create(result.output, metadata, writer_options);
  if (!writer.ok()) return abandon(writer.error());

  ProcessTracker tracker(catalogue);
  tracker.set_root(static_cast<uint32_t>(child), static_cast<uint32_t>(::getpid()));
  TraceFileSink sink(*writer, tracker, catalogue, static_cast<uint32_t>(child), std::move(recorded));
  EventConverter converter(catalogue, sink, [](uint64_t) { return 0u; });
  auto consumer = RingConsumer::create(recorder.ring_map_fd(),
                                       [&](std::span<const uint8_t> s) { converter.consume(s); });
  if (!consumer.ok()) return abandon(consumer.error());

  if (!born_in_cgroup)
    if (auto r = cgroup->add_process(child); !r.ok()) return abandon(r.error());

  UniqueFd sfd(::signalfd(-1, &signals.set(), SFD_CLOEXEC | SFD_NONBLOCK));
  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  if (sfd.get() < 0 || ep.get() < 0) return abandon(Error{std::string("signalfd/epoll: ") + std::strerror(errno)});
  for (int fd : {sfd.get(), consumer->epoll_fd()}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev);
  }

  char go = 1;
  if (::write(go_write.get(), &go, 1) != 1) return abandon(Error{std::string("starting the command: ") + std::strerror(errno)});
  go_write.reset();
  result.startup_ns = boot_ns() - started;

  int status = 0;
  bool exited = false;
  while (!exited) {
    epoll_event evs[4];
    int n = ::epoll_wait(ep.get(), evs, 4, kDrainIntervalMs);
    for (int i = 0; i < n; ++i) {
      if (evs[i].data.fd != sfd.get()) continue;
      signalfd_siginfo si{};
      while (::read(sfd.get(), &si, sizeof(si)) == sizeof(si)) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig != SIGCHLD) ::kill(child, sig);
      }
    }
    value_or_throw(consumer->drain());
    pid_t w = ::waitpid(child, &status, WNOHANG);
    if (w == child) exited = true;
    else if (w < 0 && errno != EINTR) return Error{std::string("waitpid: ") + std::strerror(errno)};
  }

  const uint64_t command_ended = boot_ns();
  if (sink.error())
    return Error{sink.error()->message + " (the command ran to its end; its trace is lost)"};
  // No program runs after detach() returns: the ring then holds the rest.
  recorder.detach();
  result.programs = recorder.program_stats();
  value_or_throw(consumer->drain());
  // Calls still in flight (a descendant blocked in a syscall) are only in
  // their threads' BPF stores: finish() shows them unfinished.
  auto in_flight = recorder.in_flight_records();
  if (!in_flight.ok()) return in_flight.error();
  converter.consume_records(*in_flight);
  // Calls lost after the last record the ring had room for: no record
  // announced them.
  auto unannounced = recorder.take_losses(cgroup->id());
  if (!unannounced.ok()) return unannounced.error();
  result.bpf = recorder.counters();
  (void)recorder.untrace_cgroup(cgroup->id());
  uint64_t end = boot_ns();
  converter.finish();
  converter.report_unannounced(cgroup->id(), unannounced->unreported, end);
  tracker.set_exit_status(static_cast<uint32_t>(child), status, end);

  auto table = tracker.table();
  value_or_throw(writer->append_processes(table));
  writer->counters().lost_per_cpu = result.bpf.lost_per_cpu;
  writer->counters().end_wall_ns = wall_ns();
  if (auto r = writer->finish(); !r.ok()) return r.error();
  result.finish_ns = boot_ns() - command_ended;

  result.exit_status = shell_status(status);
  result.conversion = converter.stats();
  result.events_written = sink.events();
  result.lost_written = sink.lost();
  return result;
}

}  // namespace traceloop::recorder
