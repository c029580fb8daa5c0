// The daemon end to end, with real OCI containers run by runc from a
// busybox-static rootfs (scripts/demo_container.sh), as root with BPF.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>

#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "format/catalogue.h"
#include "format/trace_reader.h"
#include "recorder/cgroup.h"
#include "recorder/daemon/control_client.h"
#include "recorder/daemon/daemon.h"
#include "tests/recorder/daemon/daemon_test_env.h"
#include "tests/recorder/daemon/trace_checks.h"
#include "tests/support/source_dir.h"
#include "tests/support/temp_dir.h"
#include "tools/lib/decoder/show.h"

namespace traceloop::daemon {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using test_env::bpf_required;
using test_env::source_dir;
using test_env::capture_text;
using test_env::has_write;
using test_env::name_of;
using test_env::wait_for;

// Runs `demo_container.sh OPTIONS ID -- sh -c SCRIPT`; returns the exit status.
int run_container(const fs::path& work, const std::string& id, const std::string& script,
                  const std::string& options = "") {
  std::string cmd = test_env::demo_container(work, options + " " + id + " -- sh -c " + test_env::shell_quote(script)) +
                    " >/dev/null 2>&1";
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

void kill_container(const std::string& id) {
  std::system(("runc delete -f " + id + " >/dev/null 2>&1").c_str());
}

std::string unique_id(const std::string& stem) {
  static int n = 0;
  return "tl" + stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

std::string file_text(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// `traceloop-record watch ARGS...` in a child, its standard output and
// error in files (the same one for both is fine): its pid once it says it
// records, or -1 (it is killed) when it never does.
pid_t start_watch(const std::vector<std::string>& args, const fs::path& out_file, const fs::path& err_file) {
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    const int out = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    const int err = err_file == out_file ? out : ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<const char*> argv{TL_DAEMON_CLI, "watch"};
    for (const auto& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    ::execv(TL_DAEMON_CLI, const_cast<char* const*>(argv.data()));
    _exit(127);
  }
  if (wait_for([&] { return file_text(err_file).find("Ctrl-C") != std::string::npos; })) return pid;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return -1;
}

// The pid of a process that has come and gone.
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) _exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

// A daemon in this process, on its own thread, in its own directory.
class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || std::system("command -v runc >/dev/null && command -v busybox >/dev/null") != 0) {
      if (bpf_required()) FAIL() << "root, runc and busybox-static are required";
      GTEST_SKIP() << "needs root, runc and busybox-static";
    }
    work_ = dir_ / "work";
    options_.dir = dir_ / "state";
    options_.identify_timeout = 3s;
    options_.budget_per_container = 4u << 20;
  }
  void TearDown() override { stop(); }

  // Starts the daemon; false (test skipped) when the kernel refuses BPF.
  bool start() {
    auto d = Daemon::start(options_);
    if (!d.ok()) {
      refusal_ = d.error().message;
      return false;
    }
    daemon_ = std::move(d.value());
    thread_ = std::thread([this] { result_ = daemon_->run(false).ok(); });
    return true;
  }
  void stop() {
    if (!daemon_) return;
    daemon_->request_stop();
    if (thread_.joinable()) thread_.join();
  }
  fs::path socket() const { return options_.socket_path.empty() ? options_.dir / "control.sock" : options_.socket_path; }
  fs::path file_of(const std::string& id) const { return options_.dir / (id + ".tl"); }
  // Snapshots a running container until its history holds a write of `text`.
  bool snapshot_until_written(const std::string& id, std::string_view text, int* snapshots = nullptr) {
    return wait_for([&] {
      auto reply = send_request(socket(), {Verb::snapshot, id});
      if (!reply.ok() || !reply->ok) return false;
      if (snapshots) ++*snapshots;
      auto snap = format::load_trace(reply->body.substr(0, reply->body.find('\n')));
      return snap.ok() && has_write(*snap, text);
    });
  }

  // A cgroup named by its id under a runtime root of the test's own; once
  // the daemon tracks it, `play_state(state_dir, id)` leaves its runtime
  // state unusable. A process of the cgroup writes `name-id`, the cgroup
  // ends: its id, or "" when the test failed or was skipped.
  // `runtime_dir` is the runtime's directory below the prefix, `given_id`
  // the container's id (a new one when empty).
  std::string end_a_container_without_state(const std::string& name,
                                            const std::function<void(const fs::path&, const std::string&)>& play_state,
                                            const fs::path& runtime_dir = "run/runc", const std::string& given_id = "") {
    options_.runtime_prefix = dir_ / "prefix";
    fs::create_directories(options_.runtime_prefix / runtime_dir);
    if (!start()) {
      if (bpf_required()) ADD_FAILURE() << refusal_;
      else [&] { GTEST_SKIP() << "daemon could not start (BPF?): " << refusal_; }();
      return "";
    }
    auto mount = recorder::cgroup2_mount();
    if (!mount.ok()) {
      ADD_FAILURE() << mount.error().message;
      return "";
    }
    const std::string id = given_id.empty() ? unique_id(name) : given_id;
    auto cgroup = recorder::ScopedCgroup::create(*mount, id);
    if (!cgroup.ok()) {
      ADD_FAILURE() << cgroup.error().message;
      return "";
    }
    if (!wait_for([&] { return daemon_->stats().tracked_cgroups > 0; })) {
      ADD_FAILURE() << "the cgroup was never tracked";
      return "";
    }
    const fs::path state_dir = options_.runtime_prefix / runtime_dir / id;
    play_state(state_dir, id);
    const std::string marker = name + "-" + id;
    const pid_t child = cgroup->fork_into();
    if (child < 0) {
      ADD_FAILURE() << "fork_into";
      return "";
    }
    if (child == 0) {
      (void)!::write(1, marker.data(), marker.size());
      _exit(0);
    }
    EXPECT_EQ(::waitpid(child, nullptr, 0), child);
    { auto gone = std::move(*cgroup); }  // the cgroup empties and goes
    return id;
  }

  // A runtime's state directory that comes and goes without a state the
  // daemon could read.
  static void come_and_go(const fs::path& state_dir, const std::string&) {
    fs::create_directories(state_dir);
    std::this_thread::sleep_for(200ms);  // the daemon watches the new directory
    fs::remove_all(state_dir);
    std::this_thread::sleep_for(200ms);  // the daemon sees it come and go
  }

  // As above; the history must be saved under the id, the runtime named.
  void expect_saved_without_state(const std::string& name,
                                  const std::function<void(const fs::path&, const std::string&)>& play_state) {
    const std::string id = end_a_container_without_state(name, play_state);
    if (id.empty()) return;
    ASSERT_TRUE(wait_for([&] { return fs::exists(file_of(id)); })) << "the history was dropped";
    auto trace = format::load_trace(file_of(id));
    ASSERT_TRUE(trace.ok()) << trace.error().message;
    EXPECT_TRUE(has_write(*trace, name + "-" + id));
    ASSERT_EQ(trace->metadata.containers.size(), 1u);
    EXPECT_EQ(trace->metadata.containers[0].runtime, "runc");
  }

  std::vector<ListRow> list() {
    auto reply = send_request(socket(), {Verb::list, ""});
    EXPECT_TRUE(reply.ok() && reply->ok);
    std::vector<ListRow> rows;
    if (!reply.ok()) return rows;
    std::istringstream in(reply->body);
    std::string line;
    while (std::getline(in, line))
      if (auto row = parse_list_row(line); row.ok()) rows.push_back(*row);
    return rows;
  }
  std::optional<ListRow> row_of(const std::string& id) {
    for (auto& r : list())
      if (r.id == id) return r;
    return std::nullopt;
  }

  testing::TempDir dir_;
  fs::path work_;
  DaemonOptions options_;
  std::unique_ptr<Daemon> daemon_;
  std::thread thread_;
  bool result_ = false;
  std::string refusal_;
};

// The daemon or the test ends here when the kernel refuses BPF (a failure
// when TRACELOOP_REQUIRE_BPF is set).
#define START_DAEMON()                                                \
  do {                                                                \
    if (!start()) {                                                   \
      if (bpf_required()) FAIL() << refusal_;                         \
      GTEST_SKIP() << "daemon could not start (BPF?): " << refusal_;  \
    }                                                                 \
  } while (0)

TEST_F(DaemonTest, MultiplicationDemoIsRecoveredAfterTheContainerIsDeleted) {
  START_DAEMON();
  std::string id = unique_id("mult");
  // A container gone before the daemon read its runtime state is saved
  // without its metadata (and says so): the demo first lives a second, which
  // a daemon slowed by sanitizers can need for a container this short.
  int status = run_container(work_, id,
                             "sleep 1 ; RANDOM=output ; echo \"3*7*2\" | bc > /tmp/file-$RANDOM ; cat /tmp/file-$RANDOM",
                             "--pod mult-pod --namespace demo-ns --container multiplier");
  EXPECT_EQ(status, 1);  // cat fails: the file name changed between the two $RANDOM
  // `runc run` deletes the container when it exits; the history is published.
  ASSERT_TRUE(wait_for([&] { return fs::exists(file_of(id)); })) << "no " << file_of(id);

  auto row = row_of(id);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->pod, "mult-pod");
  EXPECT_EQ(row->pod_namespace, "demo-ns");
  EXPECT_EQ(row->container, "multiplier");
  EXPECT_EQ(row->state, "exited");
  EXPECT_EQ(row->file, file_of(id).string());
  EXPECT_GT(row->events, 0u);

  auto trace = format::load_trace(file_of(id));
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  ASSERT_EQ(trace->metadata.containers.size(), 1u);
  const auto& info = trace->metadata.containers[0];
  EXPECT_EQ(info.id, id);
  EXPECT_EQ(info.pod_name, "mult-pod");
  EXPECT_EQ(info.runtime, "runc");
  EXPECT_EQ(info.cgroup_path, "/traceloop-demo/" + id);
  EXPECT_NE(info.mount_ns_id, 0u);
  EXPECT_EQ(trace->metadata.capture.mode, "daemon");
  EXPECT_EQ(trace->metadata.capture.timestamp_resolution_ns, 1000u);  // the default
  for (const auto& owned : trace->events) ASSERT_EQ(owned.fields.enter_ns % 1000, 0u);

  bool bc_wrote_42 = false, created_file = false, failed_open = false, exit_group_x = false, execve_sh = false;
  std::string written_file;
  for (const auto& owned : trace->events) {
    format::Event e = owned.view();
    std::string name = name_of(trace->metadata, e);
    if (name == "write" && e.comm == "bc" && capture_text(e, 1).find("42") == 0) bc_wrote_42 = true;
    if (name == "openat" && capture_text(e, 1).rfind("/tmp/file-", 0) == 0) {
      if (e.ret >= 0 && (e.args[2] & 0100) != 0) {  // O_CREAT: the shell's redirection
        created_file = true;
        written_file = capture_text(e, 1);
      }
      if (e.comm == "cat" && e.ret == -2) failed_open = true;
    }
    if (name == "exit_group" && e.state == format::CallState::never_returned) exit_group_x = true;
    if (name == "execve" && e.comm == "sh") execve_sh = true;
  }
  EXPECT_TRUE(bc_wrote_42);
  EXPECT_TRUE(created_file);
  EXPECT_TRUE(failed_open);
  EXPECT_TRUE(exit_group_x);
  EXPECT_TRUE(execve_sh) << "the container's first exec was missed";

  // fetch ID (by prefix) hands the trace's bytes over, which render like tl-show.
  std::string bytes;
  auto reply = send_request_to(socket(), {Verb::fetch, id.substr(0, id.size() - 1)}, [&](std::string_view piece) {
    bytes.append(piece);
    return Result<void>{};
  });
  ASSERT_TRUE(reply.ok() && reply->ok);
  const std::string fetched = work_ / "fetched.tl";
  std::ofstream(fetched) << bytes;
  tools::ShowOptions show;
  show.path = fetched;
  std::ostringstream out, err;
  EXPECT_EQ(tools::run_show(show, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("\"42"), std::string::npos);
  EXPECT_NE(out.str().find("ENOENT"), std::string::npos);
  EXPECT_NE(out.str().find(written_file.empty() ? "/tmp/file-" : written_file), std::string::npos);
  EXPECT_NE(out.str().find("exit_group"), std::string::npos);
  if (HasFailure()) std::cerr << out.str();
}

TEST_F(DaemonTest, ListingDemoKeepsEveryStatOfLs) {
  START_DAEMON();
  std::string id = unique_id("ls");
  EXPECT_EQ(run_container(work_, id, "ls -l /bin | grep mv"), 0);
  ASSERT_TRUE(wait_for([&] { return fs::exists(file_of(id)); }));
  auto trace = format::load_trace(file_of(id));
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  std::set<std::string> stat_paths;
  for (const auto& owned : trace->events) {
    format::Event e = owned.view();
    std::string name = name_of(trace->metadata, e);
    if (e.comm != "ls") continue;
    if (name == "lstat" || name == "stat") stat_paths.insert(capture_text(e, 0));
    if (name == "newfstatat" || name == "statx") stat_paths.insert(capture_text(e, 1));
  }
  EXPECT_TRUE(stat_paths.count("/bin/mv") || stat_paths.count("mv"));
  EXPECT_TRUE(stat_paths.count("/bin/cat") || stat_paths.count("cat")) << "other entries of /bin are recovered";
  EXPECT_GT(stat_paths.size(), 100u);
}

TEST_F(DaemonTest, NoisyContainerDoesNotEvictAQuietOne) {
  options_.budget_per_container = 128u << 10;
  options_.budget_total = 512u << 10;
  // The whole flood fits in the ring even if the daemon were slow: what is
  // tested is the budget's eviction, not ring overflow (counted as lost).
  options_.ring_bytes = 64u << 20;
  START_DAEMON();
  std::string quiet = unique_id("quiet"), noisy = unique_id("noisy");
  ASSERT_EQ(run_container(work_, quiet, "echo quiet-marker > /tmp/q; exec sleep 30", "--detach"), 0);
  ASSERT_TRUE(wait_for([&] { auto r = row_of(quiet); return r && r->events > 0; }));
  EXPECT_EQ(run_container(work_, noisy, "dd if=/dev/zero of=/dev/null bs=1 count=300000"), 0);
  ASSERT_TRUE(wait_for([&] { return fs::exists(file_of(noisy)); }));
  kill_container(quiet);
  ASSERT_TRUE(wait_for([&] { return fs::exists(file_of(quiet)); }));

  auto nt = format::load_trace(file_of(noisy));
  ASSERT_TRUE(nt.ok()) << nt.error().message;
  ASSERT_TRUE(nt->counters.has_value());
  EXPECT_GT(nt->counters->events_overwritten, 0u);
  ASSERT_FALSE(nt->losses.empty());
  EXPECT_EQ(nt->losses.front().first, 0u);
  EXPECT_EQ(nt->losses.front().second.overwritten, nt->counters->events_overwritten);
  // dd made 2 calls per byte: what was kept, overwritten (and lost, should
  // the ring overflow after all) accounts for all of them.
  uint64_t dd_calls = 0;
  for (const auto& e : nt->events) dd_calls += e.comm == "dd" ? 1 : 0;
  EXPECT_GE(dd_calls + nt->counters->events_overwritten + nt->counters->events_lost, 600000u);
  EXPECT_LT(dd_calls, 600000u);
  EXPECT_LE(nt->events.size() + nt->counters->events_overwritten, 600000u + 20000u);  // + runc, sh, dd start-up

  auto qt = format::load_trace(file_of(quiet));
  ASSERT_TRUE(qt.ok());
  EXPECT_EQ(qt->counters->events_overwritten, 0u);
  for (const auto& [at, loss] : qt->losses) EXPECT_EQ(loss.overwritten, 0u);
  bool marker = false;
  for (const auto& owned : qt->events) {
    format::Event e = owned.view();
    if (name_of(qt->metadata, e) == "write" && capture_text(e, 1).find("quiet-marker") == 0) marker = true;
  }
  EXPECT_TRUE(marker) << "the quiet container's history was evicted";
}

TEST_F(DaemonTest, ProcessTableForgetsProcessesWhoseEventsWereOverwritten) {
  // A shell starting 400 short-lived shells under a small budget: the
  // history keeps the last few, and so does the process table, though it
  // still describes every process the history's events come from.
  // ~100 of the shells' ~35 calls and 2 notices each (its end, its parent's
  // SIGCHLD); below this, the open batch's own tables take most of a budget.
  options_.budget_per_container = 32u << 10;
  START_DAEMON();
  const std::string id = unique_id("forks");
  ASSERT_EQ(run_container(work_, id, "i=0; while [ $i -lt 400 ]; do sh -c 'exit 3'; i=$((i+1)); done"), 0);
  ASSERT_TRUE(wait_for([&] { return fs::exists(file_of(id)); }));
  auto trace = format::load_trace(file_of(id));
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  ASSERT_GT(trace->counters->events_overwritten, 0u) << "the budget was meant to overwrite";
  std::set<uint32_t> pids_in_events;
  for (const auto& e : trace->events) pids_in_events.insert(e.fields.pid);
  std::map<uint32_t, format::ProcessInfo> table;
  for (const auto& p : trace->processes) table[p.pid] = p;
  for (const uint32_t pid : pids_in_events) EXPECT_TRUE(table.contains(pid)) << pid << " has events but no entry";
  EXPECT_LT(table.size(), 200u) << "400 shells ran; most are gone with their events";
  EXPECT_LE(table.size(), pids_in_events.size() + 5);
  // The shells the history kept: each exited with status 3, seen by its exit_group and its parent's wait4.
  size_t exited_3 = 0;
  for (const auto& [pid, p] : table) exited_3 += p.exit_ns != 0 && p.exit_status == (3 << 8) ? 1 : 0;
  EXPECT_GT(exited_3, 5u) << trace->events.size() << " events, " << trace->notices.size() << " notices, "
                          << trace->counters->events_overwritten << " overwritten";
}

TEST_F(DaemonTest, SnapshotDeleteAndPrefixes) {
  START_DAEMON();
  std::string id = unique_id("snap");
  ASSERT_EQ(run_container(work_, id, "echo snap-marker > /tmp/s; exec sleep 30", "--detach"), 0);
  ASSERT_TRUE(wait_for([&] { auto r = row_of(id); return r && r->events > 0 && r->state == "running"; }));

  // The container runs on its own: snapshot until its echo is in (or give up).
  int snapshots = 0;
  EXPECT_TRUE(snapshot_until_written(id, "snap-marker", &snapshots));
  EXPECT_GT(snapshots, 0);
  EXPECT_EQ(row_of(id)->state, "running");  // the snapshot did not stop anything

  // Deleting a running container's history is refused; after it exits it works.
  auto refused = send_request(socket(), {Verb::remove, id});
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(refused->ok);
  kill_container(id);
  ASSERT_TRUE(wait_for([&] { return fs::exists(file_of(id)); }));
  auto unknown = send_request(socket(), {Verb::remove, "no-such-container"});
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->ok);
  auto deleted = send_request(socket(), {Verb::remove, id});
  ASSERT_TRUE(deleted.ok() && deleted->ok) << (deleted.ok() ? deleted->error : "");
  EXPECT_FALSE(fs::exists(file_of(id)));
  EXPECT_FALSE(row_of(id).has_value());
}

TEST_F(DaemonTest, StopPublishesLiveContainersAndSavedTracesAreListedAgain) {
  START_DAEMON();
  std::string id = unique_id("stop");
  ASSERT_EQ(run_container(work_, id, "echo live > /tmp/l; exec sleep 30", "--detach"), 0);
  ASSERT_TRUE(wait_for([&] { auto r = row_of(id); return r && r->events > 0; }));
  auto reply = send_request(socket(), {Verb::stop, ""});
  ASSERT_TRUE(reply.ok() && reply->ok);
  thread_.join();
  daemon_.reset();
  kill_container(id);
  EXPECT_TRUE(result_);
  ASSERT_TRUE(fs::exists(file_of(id)));
  EXPECT_TRUE(format::load_trace(file_of(id)).ok());

  // A new daemon on the same directory lists the trace again.
  START_DAEMON();
  auto row = row_of(id);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->state, "exited");
  EXPECT_GT(row->events, 0u);
}

TEST_F(DaemonTest, HostModeRecordsProcessesOutsideContainersButNotItself) {
  options_.host = true;
  START_DAEMON();
  std::string marker = "host-marker-" + std::to_string(::getpid());
  ASSERT_TRUE(wait_for([&] {
    std::system(("sh -c 'echo " + marker + " > /dev/null'").c_str());
    auto r = row_of("host");
    return r && r->state == "host" && r->events > 0;
  }));
  stop();
  auto trace = format::load_trace(file_of("host"));
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  EXPECT_EQ(trace->metadata.containers.at(0).runtime, "host");
  bool found = false, self = false;
  for (const auto& owned : trace->events) {
    format::Event e = owned.view();
    if (name_of(trace->metadata, e) == "write" && capture_text(e, 1).find(marker) == 0) found = true;
    if (e.pid == static_cast<uint32_t>(::getpid())) self = true;
  }
  EXPECT_TRUE(found);
  EXPECT_FALSE(self) << "the daemon recorded its own calls";
}

size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// Entries of this process's BPF map named `name` (the daemon's traced set).
long map_entries(const char* name) {
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (fs::read_symlink(e.path(), ec).string() != "anon_inode:bpf-map") continue;
    int fd = std::stoi(e.path().filename().string());
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0 || std::string(info.name) != name) continue;
    long count = 0;
    uint64_t key = 0, next = 0;
    uint64_t* prev = nullptr;
    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
      ++count;
      key = next;
      prev = &key;
    }
    return count;
  }
  return -1;
}

TEST_F(DaemonTest, FiftyShortLivedContainersEachGetTheirFileWithoutLeaks) {
  // Long enough for a busy machine to identify every container; the wait for
  // the parent cgroup's expiry below is bounded well beyond it.
  options_.identify_timeout = 10s;
  ::setenv("TRACELOOP_DAEMON_DEBUG", "1", 1);  // decisions on stderr, for when it fails
  START_DAEMON();
  ::unsetenv("TRACELOOP_DAEMON_DEBUG");
  std::vector<std::string> ids;
  size_t fds_after_warmup = 0;
  for (int i = 0; i < 50; ++i) {
    std::string id = unique_id("churn");
    ids.push_back(id);
    EXPECT_EQ(run_container(work_, id, "echo " + id), 0);
    ASSERT_TRUE(wait_for([&] { return fs::exists(file_of(id)); })) << id;
    if (i == 4) {
      // The /traceloop-demo parent cgroup was traced provisionally: let it expire.
      ASSERT_TRUE(wait_for([&] { return daemon_->stats().tracked_cgroups == 0; }, 60s));
      fds_after_warmup = open_fds();
    }
  }
  for (const auto& id : ids) {
    auto trace = format::load_trace(file_of(id));
    ASSERT_TRUE(trace.ok()) << id;
    bool echoed = false;
    for (const auto& owned : trace->events) {
      format::Event e = owned.view();
      if (name_of(trace->metadata, e) == "write" && capture_text(e, 1).find(id) == 0) echoed = true;
    }
    EXPECT_TRUE(echoed) << id;
  }
  // The last containers' cgroups go and their histories close.
  wait_for([&] {
    return open_fds() <= fds_after_warmup && map_entries("traced_cgroups") == 0 &&
           daemon_->stats().tracked_cgroups == 0 && daemon_->stats().containers_published == 50;
  }, 60s);
  EXPECT_LE(open_fds(), fds_after_warmup);
  EXPECT_EQ(map_entries("traced_cgroups"), 0);
  EXPECT_EQ(daemon_->stats().tracked_cgroups, 0u);
  EXPECT_EQ(daemon_->stats().containers_published, 50u);
}

// A container that lives a few milliseconds can have its runtime state
// removed before the daemon reads it: its history used to be dropped in
// silence. Its cgroup carries its id, so the history is saved under it.
TEST_F(DaemonTest, AContainerWhoseStateVanishedBeforeItWasReadIsStillSaved) {
  expect_saved_without_state("vanish", [&](const fs::path& state_dir, const std::string& id) {
    // The runtime's state appears and goes before the daemon could read it
    // (runc makes the directory first, the state later).
    fs::create_directories(state_dir);
    std::this_thread::sleep_for(200ms);  // the daemon watches the new directory
    std::ofstream(state_dir / "state.json") << R"({"id":")" << id << R"(","init_process_pid":1})";
    fs::remove_all(state_dir);
    std::this_thread::sleep_for(200ms);  // the daemon sees the state come and go
  });
}

// A state that could not be read (here it never parses; in runc's deletion
// it is removed before its directory) does not cost the history: when the
// cgroup ends unidentified, it is saved with what is known.
TEST_F(DaemonTest, AContainerWhoseStateCouldNotBeReadIsStillSaved) {
  expect_saved_without_state("unreadable", [&](const fs::path& state_dir, const std::string&) {
    fs::create_directories(state_dir);
    std::this_thread::sleep_for(200ms);  // the daemon watches the new directory
    std::ofstream(state_dir / "state.json") << "{not json";
    EXPECT_TRUE(wait_for([&] {
      auto reply = send_request(socket(), {Verb::list, ""});
      return reply.ok() && reply->ok && reply->body.find("unreadable") != std::string::npos;
    })) << "the state was not reported unreadable";
  });
}

// Under a selection by pod, a container whose state was gone before it
// could be read cannot be told in or out: its history is not kept (the
// selection promises to record no other pod), and `list` says why rather
// than the log claiming it was saved.
TEST_F(DaemonTest, AContainerWhoseStateVanishedIsReportedWhenTheSelectionCannotBeChecked) {
  options_.selection.pods = {"some-pod"};
  const std::string id = end_a_container_without_state("podless", come_and_go);
  if (id.empty()) return;
  ASSERT_TRUE(wait_for([&] { return daemon_->stats().tracked_cgroups == 0; }));
  EXPECT_FALSE(fs::exists(file_of(id)));
  const auto row = row_of(id);
  ASSERT_TRUE(row.has_value()) << "nothing said of " << id;
  EXPECT_EQ(row->state, "unreadable");
  EXPECT_NE(row->file.find("pod=some-pod"), std::string::npos) << row->file;
}

// Docker keeps a stopped container's config until `docker rm`: a container
// whose runtime state went before the daemon read it is named from that
// record (here one copied from a real dockerd), and a selection by Docker's
// name still chooses it.
TEST_F(DaemonTest, AContainerWhoseStateVanishedIsNamedFromItsEnginesRecord) {
  const std::string id = "1e1f89f4c0ef6f48066fd5d612b2a9eadbd31fe50d1424c89c65088f8aba3c74";
  const fs::path prefix = dir_ / "prefix";
  {
    std::ifstream in(testing::source_dir() / "testdata/engines/docker/config.v2.json");
    std::string text(std::istreambuf_iterator<char>(in), {});
    for (size_t at = 0; (at = text.find("@ROOT@", at)) != std::string::npos;) text.replace(at, 6, prefix.string());
    fs::create_directories(prefix / "var/lib/docker/containers" / id);
    std::ofstream(prefix / "var/lib/docker/containers" / id / "config.v2.json") << text;
  }
  options_.selection.containers = {"my-web-1"};
  if (end_a_container_without_state("docker", come_and_go, "run/docker/runtime-runc/moby", id).empty()) return;
  ASSERT_TRUE(wait_for([&] { return fs::exists(file_of(id)); })) << "the history was dropped";
  auto trace = format::load_trace(file_of(id));
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  EXPECT_TRUE(has_write(*trace, "docker-" + id));
  ASSERT_EQ(trace->metadata.containers.size(), 1u);
  const auto& info = trace->metadata.containers[0];
  EXPECT_EQ(info.runtime, "docker");
  EXPECT_EQ(info.name, "my-web-1");
  EXPECT_EQ(info.image, "bb:local");
}

// A snapshot ends with the calls still in flight (a process blocked in
// sleep), unfinished, and the history still gets them whole at their exit.
TEST_F(DaemonTest, ASnapshotShowsTheCallsInFlightAsUnfinished) {
  START_DAEMON();
  const std::string id = unique_id("inflight");
  ASSERT_EQ(run_container(work_, id, "echo blocking-now; exec sleep 30", "--detach"), 0);
  ASSERT_TRUE(snapshot_until_written(id, "blocking-now"));
  bool unfinished_sleep = false;
  ASSERT_TRUE(wait_for([&] {
    auto reply = send_request(socket(), {Verb::snapshot, id});
    if (!reply.ok() || !reply->ok) return false;
    auto snap = format::load_trace(reply->body.substr(0, reply->body.find('\n')));
    if (!snap.ok()) return false;
    for (const auto& owned : snap->events)
      if (owned.fields.state == format::CallState::unfinished && owned.comm == "sleep") unfinished_sleep = true;
    return unfinished_sleep;
  })) << "no unfinished call of sleep in the snapshot";
  kill_container(id);
}

// `select` as typed: the selection and the filters of a running daemon,
// printed back; a malformed label is a usage error.
TEST_F(DaemonTest, CliSelectChangesAndPrintsWhatIsRecorded) {
  START_DAEMON();
  auto cli = [&](const std::string& args, int* status) {
    const std::string cmd = std::string(TL_DAEMON_CLI) + " select --socket " + socket().string() + " " + args + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    while (size_t n = std::fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
    const int st = ::pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    return out;
  };
  int status = 0;
  EXPECT_EQ(cli("-p cli-pod -n shop -e trace=write,openat", &status),
            "containers: namespace=shop pod=cli-pod\nsyscalls: write,openat\n");
  EXPECT_EQ(status, 0);
  EXPECT_EQ(cli("", &status), "containers: namespace=shop pod=cli-pod\nsyscalls: write,openat\n");
  EXPECT_EQ(status, 0);
  // strace's classes and negation pass through the control protocol whole.
  EXPECT_EQ(cli("-e 'trace=!%memory,%signal'", &status),
            "containers: namespace=shop pod=cli-pod\nsyscalls: !%memory,%signal\n");
  EXPECT_EQ(status, 0);
  // The old spelling still works, and says which to use.
  EXPECT_EQ(cli("--syscall-filters write", &status),
            "traceloop-record: --syscall-filters is deprecated; use -e trace=NAMES\n"
            "containers: namespace=shop pod=cli-pod\nsyscalls: write\n");
  EXPECT_EQ(status, 0);
  EXPECT_EQ(cli("--every -e trace=all", &status), "containers: every container\nsyscalls: all\n");
  EXPECT_EQ(status, 0);
  const std::string bad = cli("-l novalue", &status);
  EXPECT_EQ(status, 2) << bad;
  EXPECT_NE(bad.find("KEY=VALUE"), std::string::npos) << bad;
  const std::string refused = cli("-e trace=nosuchcall", &status);
  EXPECT_EQ(status, 1) << "the daemon's refusal" << refused;
  EXPECT_NE(refused.find("nosuchcall"), std::string::npos) << refused;
  EXPECT_EQ(cli("", &status), "containers: every container\nsyscalls: all\n") << "a refused change changes nothing";
}

// `watch -p POD -o FILE`: the chosen container's trace is written, not printed.
TEST_F(DaemonTest, WatchWritesTheTraceWithOutput) {
  const fs::path out_file = dir_ / "watched.tl", log = dir_ / "watch.log";
  auto text = [&] { return file_text(log); };
  const pid_t pid = start_watch({"-p", "watched-pod", "-o", out_file.string()}, log, log);
  if (pid < 0) {
    if (!bpf_required()) GTEST_SKIP() << text();
    FAIL() << "watch did not start: " << text();
  }
  const std::string id = unique_id("watchout");
  // The pod is named by the runtime's state: the container lives a second,
  // which a daemon slowed by sanitizers can need to read it (one gone before
  // is saved without its metadata, and so matches no pod).
  EXPECT_EQ(run_container(work_, id, "sleep 1; echo written-to-a-file", "--pod watched-pod"), 0);
  ::kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << text();
  EXPECT_EQ(text().find("written-to-a-file"), std::string::npos) << "printed though -o was given";
  auto trace = format::load_trace(out_file);
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  ASSERT_EQ(trace->metadata.containers.size(), 1u);
  EXPECT_EQ(trace->metadata.containers[0].pod_name, "watched-pod");
  EXPECT_TRUE(has_write(*trace, "written-to-a-file"));
  struct stat st {};
  ASSERT_EQ(::stat(out_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// A container's history saved at a daemon's SIGTERM used to be replaced, at
// the container's exit under the next daemon, by the part recorded after
// the restart. Leftovers of a killed daemon go at the next start.
TEST_F(DaemonTest, ARestartedDaemonKeepsTheHistorySavedBefore) {
  START_DAEMON();
  std::string id = unique_id("restart");
  ASSERT_EQ(run_container(work_, id, "echo before-restart; exec sleep 30", "--detach"), 0);
  ASSERT_TRUE(snapshot_until_written(id, "before-restart"));
  stop();
  ASSERT_TRUE(fs::exists(file_of(id)));
  // what a SIGKILLed daemon leaves: a writer's temporary file and a snapshot
  const fs::path temp = options_.dir / ("gone.tl.tmp." + std::to_string(dead_pid()) + ".0badcafe");
  const fs::path snapshot = options_.dir / "gone.snapshot.tl";
  std::ofstream(temp) << "partial";
  std::ofstream(snapshot) << "old";
  daemon_.reset();
  START_DAEMON();
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_FALSE(fs::exists(snapshot));
  kill_container(id);  // exits under the new daemon: its history is published again
  ASSERT_TRUE(wait_for([&] { return fs::exists(options_.dir / (id + ".1.tl")); }));
  ASSERT_TRUE(wait_for([&] { return fs::exists(file_of(id)); }));
  auto earlier = format::load_trace(options_.dir / (id + ".1.tl"));
  ASSERT_TRUE(earlier.ok()) << earlier.error().message;
  EXPECT_TRUE(has_write(*earlier, "before-restart")) << "the history saved before the restart is gone";
}

// The "mark-N" lines a container wrote, in trace order, each with whether a
// loss marker of an unknown count (a daemon restart) came before it.
struct Mark {
  int n;
  bool after_gap;
};
std::vector<Mark> marks_of(const format::LoadedTrace& trace, size_t* gaps = nullptr) {
  std::vector<Mark> marks;
  size_t next_loss = 0, seen_gaps = 0;
  for (size_t i = 0; i < trace.events.size(); ++i) {
    for (; next_loss < trace.losses.size() && trace.losses[next_loss].first <= i; ++next_loss) {
      const auto& loss = trace.losses[next_loss].second;
      if (loss.lost == 0 && loss.overwritten == 0) ++seen_gaps;
    }
    format::Event e = trace.events[i].view();
    if (name_of(trace.metadata, e) != "write") continue;
    const std::string text = capture_text(e, 1);
    if (text.rfind("mark-", 0) == 0) marks.push_back({std::atoi(text.c_str() + 5), seen_gaps > 0});
  }
  if (gaps) *gaps = seen_gaps;
  return marks;
}

// The highest mark the container's journal holds on disk (0: none).
int highest_mark_on_disk(const fs::path& dir, const std::string& id) {
  int highest = 0;
  std::error_code ec;
  for (const auto& journal : fs::directory_iterator(dir / "journal", ec)) {
    if (journal.path().filename().string().rfind(id + ".", 0) != 0) continue;
    for (const auto& segment : fs::directory_iterator(journal.path(), ec)) {
      auto trace = format::load_trace(segment.path());
      if (!trace.ok()) continue;
      for (const auto& m : marks_of(*trace)) highest = std::max(highest, m.n);
    }
  }
  return highest;
}

// Whether a journal of the container is still in DIR (other containers on
// the host, recorded too, have theirs).
bool has_journal(const fs::path& dir, const std::string& id) {
  std::error_code ec;
  for (const auto& journal : fs::directory_iterator(dir / "journal", ec))
    if (journal.path().filename().string().rfind(id + ".", 0) == 0) return true;
  return false;
}

// `traceloop-record daemon` in a process of its own, to be SIGKILLed: its
// pid, or 0 when it could not start.
pid_t start_daemon_process(const fs::path& dir) {
  const fs::path sock = dir / "control.sock";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(TL_DAEMON_CLI, TL_DAEMON_CLI, "daemon", "--dir", dir.c_str(), "--budget-per-container", "4M",
            static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid < 0 || wait_for([&] { return fs::exists(sock); })) return pid < 0 ? 0 : pid;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return 0;
}

void sigkill(pid_t pid) {
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

// A daemon SIGKILLed (the OOM killer, a crash) used to lose every live
// history. Its journal survives: the restarted daemon goes on with the
// history of a container still running, and the trace published at its exit
// holds the calls from before the kill, those from after the restart, and a
// loss marker of an unknown count for the time no daemon recorded.
TEST_F(DaemonTest, ASigkilledDaemonsHistoryGoesOnAfterTheRestart) {
  fs::create_directories(options_.dir);
  ASSERT_EQ(::chmod(options_.dir.c_str(), 0700), 0);
  const pid_t first = start_daemon_process(options_.dir);
  if (first == 0) {
    if (bpf_required()) FAIL() << "daemon did not start";
    GTEST_SKIP() << "daemon could not start (BPF?)";
  }
  std::string id = unique_id("sigkill");
  ASSERT_EQ(run_container(work_, id, "i=0; while :; do i=$((i+1)); echo mark-$i; sleep 0.05; done", "--detach"), 0);
  ASSERT_TRUE(wait_for([&] { return highest_mark_on_disk(options_.dir, id) >= 10; }))
      << "no frame of the running container reached the disk";
  const int on_disk = highest_mark_on_disk(options_.dir, id);
  sigkill(first);
  std::this_thread::sleep_for(500ms);  // calls no daemon records
  START_DAEMON();
  ASSERT_TRUE(wait_for([&] {
    auto reply = send_request(socket(), {Verb::snapshot, id});
    if (!reply.ok() || !reply->ok) return false;
    auto snap = format::load_trace(reply->body.substr(0, reply->body.find('\n')));
    if (!snap.ok()) return false;
    const auto marks = marks_of(*snap);
    return std::count_if(marks.begin(), marks.end(), [](const Mark& m) { return m.after_gap; }) >= 5;
  })) << "the restarted daemon did not go on with the history";
  kill_container(id);
  ASSERT_TRUE(wait_for([&] { return fs::exists(file_of(id)); }));
  auto trace = format::load_trace(file_of(id));
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  size_t gaps = 0;
  const auto marks = marks_of(*trace, &gaps);
  EXPECT_EQ(gaps, 1u) << "one loss marker of an unknown count, for the restart";
  int last_before = 0, first_after = 0, count_after = 0;
  for (const auto& m : marks) {
    if (!m.after_gap) {
      EXPECT_EQ(m.n, last_before + 1) << "a call from before the kill is missing";
      last_before = m.n;
    } else {
      if (first_after == 0) first_after = m.n;
      ++count_after;
    }
  }
  EXPECT_GE(last_before, on_disk) << "calls saved before the kill are missing";
  EXPECT_GE(count_after, 5) << "calls after the restart are missing";
  EXPECT_GT(first_after, last_before + 1) << "the calls while no daemon ran cannot be in the trace";
  EXPECT_TRUE(wait_for([&] { return !has_journal(options_.dir, id); })) << "the published history's journal stays";
}

// A container that exits while no daemon runs: the next daemon publishes
// the history its predecessor kept on disk, as soon as it starts.
TEST_F(DaemonTest, AContainerThatExitedWhileNoDaemonRanIsPublishedAtTheNextStart) {
  fs::create_directories(options_.dir);
  ASSERT_EQ(::chmod(options_.dir.c_str(), 0700), 0);
  const pid_t first = start_daemon_process(options_.dir);
  if (first == 0) {
    if (bpf_required()) FAIL() << "daemon did not start";
    GTEST_SKIP() << "daemon could not start (BPF?)";
  }
  std::string id = unique_id("downexit");
  ASSERT_EQ(run_container(work_, id, "i=0; while :; do i=$((i+1)); echo mark-$i; sleep 0.05; done", "--detach"), 0);
  ASSERT_TRUE(wait_for([&] { return highest_mark_on_disk(options_.dir, id) >= 5; }));
  const int on_disk = highest_mark_on_disk(options_.dir, id);
  sigkill(first);
  kill_container(id);
  ASSERT_FALSE(fs::exists(file_of(id)));
  // What a kill leaves of histories that had nothing on disk yet: a journal
  // made before its first frame, one whose segment's head was cut short.
  const fs::path empty = options_.dir / "journal" / "tlghost-empty.1";
  const fs::path cut = options_.dir / "journal" / "tlghost-cut.2";
  fs::create_directories(empty);
  fs::create_directories(cut);
  std::ofstream(cut / "00000000000000000000.tl") << "\x89TLTR";
  START_DAEMON();
  EXPECT_FALSE(fs::exists(empty));
  EXPECT_FALSE(fs::exists(cut));
  EXPECT_FALSE(fs::exists(file_of("tlghost-empty")));
  ASSERT_TRUE(wait_for([&] { return fs::exists(file_of(id)); })) << "the history kept on disk was not published";
  auto trace = format::load_trace(file_of(id));
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  EXPECT_EQ(trace->metadata.containers.at(0).id, id);
  const auto marks = marks_of(*trace);
  ASSERT_FALSE(marks.empty());
  EXPECT_EQ(marks.front().n, 1);
  EXPECT_GE(marks.back().n, on_disk);
  ASSERT_FALSE(trace->losses.empty());
  const auto& end = trace->losses.back();
  EXPECT_EQ(end.first, trace->events.size()) << "the calls up to its exit are missing, and the trace says so last";
  EXPECT_EQ(end.second.lost, 0u);
  EXPECT_EQ(end.second.overwritten, 0u);
  auto row = row_of(id);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->events, trace->events.size());
  EXPECT_TRUE(wait_for([&] { return !has_journal(options_.dir, id); })) << "the published history's journal stays";
}

// `--dir /tmp` used to chmod /tmp to 0700, locking every user out of it.
TEST_F(DaemonTest, ASharedDirIsRefusedAndNeverChmodded) {
  fs::create_directories(options_.dir);
  ASSERT_EQ(::chmod(options_.dir.c_str(), 01777), 0);
  auto d = Daemon::start(options_);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("writable by others"), std::string::npos) << d.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(options_.dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u);
}

// A history that cannot be saved at shutdown (DIR turned read-only) makes the
// daemon's run an error, so that its exit status says so.
TEST_F(DaemonTest, AFailedSaveEndsTheDaemonWithAnError) {
  fs::create_directories(options_.dir);
  ASSERT_EQ(::mount("tmpfs", options_.dir.c_str(), "tmpfs", 0, "mode=0700"), 0) << std::strerror(errno);
  struct Unmount {
    fs::path at;
    ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
  } unmount{options_.dir};
  options_.socket_path = dir_ / "control.sock";
  START_DAEMON();
  std::string id = unique_id("rofs");
  ASSERT_EQ(run_container(work_, id, "echo rofs; exec sleep 30", "--detach"), 0);
  ASSERT_TRUE(wait_for([&] { auto r = row_of(id); return r && r->events > 0; }));
  ASSERT_EQ(::mount(nullptr, options_.dir.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0) << std::strerror(errno);
  stop();
  kill_container(id);
  EXPECT_FALSE(result_) << "the daemon reported success though " << id << "'s history was not saved";
  EXPECT_FALSE(fs::exists(file_of(id)));
}

// The CLI as the main wires it: list's columns, options, and SIGTERM saves and exits 0.
TEST_F(DaemonTest, CliDaemonSavesOnSigtermAndListsColumns) {
  std::string state = options_.dir.string();
  options_.socket_path = options_.dir / "cli.sock";  // not the default: --socket is honoured
  const fs::path sock = socket();
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execl(TL_DAEMON_CLI, TL_DAEMON_CLI, "daemon", "--dir", state.c_str(), "--budget-per-container", "2M",
            "--budget-total", "64M", "--socket", sock.c_str(), "--timestamp-resolution", "ns",
            static_cast<char*>(nullptr));
    _exit(127);
  }
  bool up = wait_for([&] { return fs::exists(sock); });
  if (!up) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!bpf_required() && WIFEXITED(status) && WEXITSTATUS(status) == 2) GTEST_SKIP() << "daemon could not start";
    FAIL() << "daemon did not start";
  }
  std::string id = unique_id("cli");
  ASSERT_EQ(run_container(work_, id, "echo cli; exec sleep 30", "--detach --pod cli-pod"), 0);
  ASSERT_TRUE(wait_for([&] { auto r = row_of(id); return r && r->events > 0; }));

  std::string cmd = std::string(TL_DAEMON_CLI) + " list --socket " + sock.string();
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0);
  EXPECT_EQ(out.rfind("NODE", 0), 0u) << out;
  for (const char* col : {"NAMESPACE", "POD", "CONTAINER", "CONTAINERID", "STATE", "EVENTS", "FILE"})
    EXPECT_NE(out.find(col), std::string::npos) << col;
  EXPECT_NE(out.find("cli-pod"), std::string::npos) << out;
  EXPECT_NE(out.find("running"), std::string::npos) << out;

  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  kill_container(id);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(fs::exists(file_of(id)));
  EXPECT_FALSE(fs::exists(sock));
  auto trace = format::load_trace(file_of(id));
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  EXPECT_EQ(trace->metadata.capture.timestamp_resolution_ns, 1u) << "--timestamp-resolution ns";
}


// Only the chosen container is recorded; the other leaves the BPF set as
// soon as its runtime's state names it, so its calls never reach the daemon.
TEST_F(DaemonTest, OnlyChosenContainersAreRecordedAndTheOthersCostNothing) {
  options_.selection.containers = {"chosen"};
  START_DAEMON();
  const std::string chosen = unique_id("chosen"), other = unique_id("other");
  // Chosen by its name, read from the runtime's state: the container lives a
  // second, which a daemon slowed by sanitizers can need to read it.
  EXPECT_EQ(run_container(work_, chosen, "sleep 1; echo chosen-ran", "--container chosen"), 0);
  ASSERT_TRUE(wait_for([&] { return fs::exists(file_of(chosen)); }));
  std::this_thread::sleep_for(300ms);  // the stats are published every 100 ms
  const DaemonStats before = daemon_->stats();
  // About 5 calls per round (open, read, close, the redirection's dups): 15,000 in all.
  EXPECT_EQ(run_container(work_, other,
                          "i=0; while [ $i -lt 3000 ]; do read x < /etc/passwd; i=$((i+1)); done; echo other-ran",
                          "--container other"),
            0);
  std::this_thread::sleep_for(300ms);
  const DaemonStats after = daemon_->stats();
  EXPECT_FALSE(fs::exists(file_of(other)));
  EXPECT_GE(after.containers_unchosen, 1u);
  // Its runtime's setup, traced until it was identified, is all that came.
  const uint64_t converted = (after.events + after.events_unattributed) - (before.events + before.events_unattributed);
  EXPECT_LT(converted, 5000u) << "the unchosen container's loop reached the daemon";
  auto trace = format::load_trace(file_of(chosen));
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  EXPECT_TRUE(has_write(*trace, "chosen-ran"));
  EXPECT_FALSE(row_of(other).has_value());
}

// The calls of a syscall the filter stops recording while they are in
// flight (a shell in wait4 for its sleep, the sleep in clock_nanosleep) are
// no longer recorded: neither shown unfinished by a snapshot nor recorded at
// their exit. They were recorded when they returned, under the new filter.
TEST_F(DaemonTest, CallsInFlightWhenTheFilterChangesFollowTheNewFilter) {
  START_DAEMON();
  const std::string id = unique_id("filterchange");
  ASSERT_EQ(run_container(work_, id, "echo blocking-now; sleep 2; echo after-sleep; exec sleep 30", "--detach"), 0);
  ASSERT_TRUE(snapshot_until_written(id, "blocking-now"));
  const auto waits_in = [&](const format::LoadedTrace& trace, bool finished) {
    size_t n = 0;
    for (const auto& owned : trace.events) {
      const std::string name = name_of(trace.metadata, owned.view());
      if ((name == "wait4" || name == "clock_nanosleep" || name == "nanosleep") &&
          (owned.fields.state == format::CallState::unfinished) != finished)
        ++n;
    }
    return n;
  };
  const auto snapshot = [&]() -> std::optional<format::LoadedTrace> {
    auto reply = send_request(socket(), {Verb::snapshot, id});
    if (!reply.ok() || !reply->ok) return std::nullopt;
    auto trace = format::load_trace(reply->body.substr(0, reply->body.find('\n')));
    if (!trace.ok()) return std::nullopt;
    return std::move(trace).value();
  };
  auto before = snapshot();
  ASSERT_TRUE(before.has_value());
  ASSERT_GE(waits_in(*before, false), 2u) << "the shell and its sleep are not both in flight";
  const size_t finished_before = waits_in(*before, true);

  auto reply = send_request(socket(), {Verb::select, "", {"syscalls=write"}});
  ASSERT_TRUE(reply.ok() && reply->ok);
  auto during = snapshot();
  ASSERT_TRUE(during.has_value());
  EXPECT_EQ(waits_in(*during, false), 0u) << "a call the filter no longer records is shown in flight";

  ASSERT_TRUE(snapshot_until_written(id, "after-sleep"));
  auto after = snapshot();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(waits_in(*after, true), finished_before) << "calls begun before the change were recorded at their exit";
  kill_container(id);
}

// `select` over the control socket: a running container chosen later is
// traced from then on; the one no longer chosen has its history published.
TEST_F(DaemonTest, SelectionAndFiltersChangeAtRunTime) {
  options_.selection.containers = {"first"};
  START_DAEMON();
  const std::string first = unique_id("first"), second = unique_id("second");
  ASSERT_EQ(run_container(work_, first, "while :; do echo first-tick >/dev/null; sleep 0.1; done",
                          "--detach --container first"),
            0);
  ASSERT_EQ(run_container(work_, second, "while :; do echo second-tick >/dev/null; cat /etc/hostname >/dev/null; sleep 0.1; done",
                          "--detach --container second"),
            0);
  EXPECT_TRUE(snapshot_until_written(first, "first-tick"));
  EXPECT_FALSE(row_of(second).has_value());

  auto reply = send_request(socket(), {Verb::select, "", {"container=second", "syscalls=write"}});
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  ASSERT_TRUE(reply->ok) << reply->error;
  EXPECT_EQ(reply->body, "containers: container=second\nsyscalls: write\n");
  // The first container's history as it stood is published, it is no longer traced.
  EXPECT_TRUE(wait_for([&] { return fs::exists(file_of(first)); }));
  EXPECT_TRUE(snapshot_until_written(second, "second-tick"));
  auto snap = send_request(socket(), {Verb::snapshot, second});
  ASSERT_TRUE(snap.ok() && snap->ok);
  auto trace = format::load_trace(snap->body.substr(0, snap->body.find('\n')));
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  // Only writes from the filter's change on (cat's openat is not recorded).
  for (const auto& owned : trace->events) EXPECT_EQ(name_of(trace->metadata, owned.view()), "write");

  auto bad = send_request(socket(), {Verb::select, "", {"colour=red"}});
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->ok);
  auto unknown_syscall = send_request(socket(), {Verb::select, "", {"syscalls=nosuchcall"}});
  ASSERT_TRUE(unknown_syscall.ok());
  EXPECT_FALSE(unknown_syscall->ok);
  auto query = send_request(socket(), {Verb::select, "", {}});
  ASSERT_TRUE(query.ok() && query->ok);
  EXPECT_EQ(query->body, "containers: container=second\nsyscalls: write\n");
  kill_container(first);
  kill_container(second);
}

// A container whose runtime keeps its state where the daemon does not look
// (runc --root elsewhere) is still recorded, listed as unidentified and
// reported, never silently skipped.
TEST_F(DaemonTest, AContainerNoKnownRuntimeDescribesIsRecordedAndReported) {
  options_.identify_timeout = 1s;
  START_DAEMON();
  const std::string id = unique_id("unknown");
  const fs::path root = dir_ / "elsewhere";
  ASSERT_EQ(run_container(work_, id, "while :; do echo unknown-tick >/dev/null; sleep 0.1; done",
                          "--detach --root " + root.string()),
            0);
  ASSERT_TRUE(wait_for([&] {
    auto row = row_of(id);
    return row && row->state == "unidentified" && row->events > 0;
  })) << "not listed as unidentified";
  EXPECT_TRUE(snapshot_until_written(id, "unknown-tick"));
  std::system(("runc --root " + root.string() + " delete -f " + id + " >/dev/null 2>&1").c_str());
  ASSERT_TRUE(wait_for([&] { return fs::exists(file_of(id)); }));
  auto trace = format::load_trace(file_of(id));
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  ASSERT_EQ(trace->metadata.containers.size(), 1u);
  EXPECT_EQ(trace->metadata.containers[0].runtime, "unknown");
  EXPECT_NE(trace->metadata.containers[0].mount_ns_id, 0u);
  EXPECT_TRUE(has_write(*trace, "unknown-tick"));
}

// A runtime state the daemon cannot read is listed with the reason.
TEST_F(DaemonTest, AnUnreadableRuntimeStateIsListed) {
  options_.runtime_prefix = dir_ / "prefix";
  fs::create_directories(options_.runtime_prefix / "run/runc");
  START_DAEMON();
  const fs::path bad = options_.runtime_prefix / "run/runc/broken-1";
  fs::create_directories(bad);
  std::ofstream(bad / "state.json.tmp") << "{\"id\": \"broken-1\", \"init_process_pid\": ";
  fs::rename(bad / "state.json.tmp", bad / "state.json");
  ASSERT_TRUE(wait_for([&] {
    auto row = row_of("broken-1");
    return row && row->state == "unreadable";
  }));
  EXPECT_NE(row_of("broken-1")->file, "-");  // the reason
}

// `watch -c NAME -f strace` as users type it: records the named container,
// started after the watch, leaves another out, and prints strace lines on SIGINT.
TEST_F(DaemonTest, WatchRecordsOneContainerByNameAndPrintsOnInterrupt) {
  const fs::path out_file = dir_ / "watch.out", err_file = dir_ / "watch.err";
  auto err_text = [&] { return file_text(err_file); };
  const pid_t pid = start_watch({"-c", "watched", "-f", "strace"}, out_file, err_file);
  if (pid < 0) {
    if (!bpf_required()) GTEST_SKIP() << err_text();
    FAIL() << "watch did not start: " << err_text();
  }
  const std::string watched = unique_id("watched"), other = unique_id("notwatched");
  EXPECT_EQ(run_container(work_, other, "echo not-this-one", "--container other"), 0);
  // Living a second, as above: the name is in the runtime's state.
  EXPECT_EQ(run_container(work_, watched,
                          "sleep 1 ; RANDOM=output ; echo \"3*7*2\" | bc > /tmp/file-$RANDOM ; cat /tmp/file-$RANDOM",
                          "--container watched"),
            1);
  ::kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << err_text();
  EXPECT_EQ(WEXITSTATUS(status), 0) << err_text();
  std::ifstream in(out_file);
  const std::string out(std::istreambuf_iterator<char>(in), {});
  EXPECT_EQ(out.find("CPU "), std::string::npos) << "-f strace: no table header\n" << out.substr(0, 200);
  EXPECT_NE(out.find("write(1, \"42\\n\", 3)"), std::string::npos) << out;
  EXPECT_NE(out.find("ENOENT"), std::string::npos);
  EXPECT_EQ(out.find("not-this-one"), std::string::npos);
}

// `watch -Z -e trace=%file`: -e decides what is recorded, -Z what is printed
// of it: the failed file calls only.
TEST_F(DaemonTest, WatchPrintsWhatItsFiltersSelect) {
  const fs::path out_file = dir_ / "watch.out", err_file = dir_ / "watch.err";
  auto err_text = [&] { return file_text(err_file); };
  const pid_t pid = start_watch({"-c", "watched", "-f", "strace", "-e", "trace=%file", "-Z"}, out_file, err_file);
  if (pid < 0) {
    if (!bpf_required()) GTEST_SKIP() << err_text();
    FAIL() << "watch did not start: " << err_text();
  }
  const std::string watched = unique_id("watched");
  // Living a second, as above: the name is in the runtime's state.
  EXPECT_EQ(run_container(work_, watched, "sleep 1; cat /nonexistent-file; echo done", "--container watched"), 0);
  ::kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << err_text();
  EXPECT_EQ(WEXITSTATUS(status), 0) << err_text();
  std::ifstream in(out_file);
  const std::string out(std::istreambuf_iterator<char>(in), {});
  EXPECT_NE(out.find("\"/nonexistent-file\""), std::string::npos) << out;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    if (line.find(" = ") != std::string::npos) {
      EXPECT_NE(line.find(" = -1 E"), std::string::npos) << line;
    }
  EXPECT_EQ(out.find("write("), std::string::npos) << out;
}

// A container already running when the daemon starts: the fds its processes
// hold are read then, and -y names them where no recorded call opened them.
TEST_F(DaemonTest, FdsOpenBeforeTheDaemonStartedAreNamedWithY) {
  std::string id = unique_id("fds");
  ASSERT_EQ(run_container(work_, id,
                          "exec 3</etc/passwd; while true; do cat <&3 >/dev/null; echo tick; sleep 0.2; done",
                          "--detach"),
            0);
  START_DAEMON();
  fs::path snapshot;
  ASSERT_TRUE(wait_for([&] {
    auto reply = send_request(socket(), {Verb::snapshot, id});
    if (!reply.ok() || !reply->ok) return false;
    snapshot = reply->body.substr(0, reply->body.find('\n'));
    auto snap = format::load_trace(snapshot);
    return snap.ok() && has_write(*snap, "tick");
  }));
  kill_container(id);
  auto trace = format::load_trace(snapshot);
  ASSERT_TRUE(trace.ok());
  bool held = false;
  for (const auto& s : trace->metadata.fd_snapshots)
    for (const auto& f : s.fds) held = held || (f.fd == 3 && f.target == "/etc/passwd");
  EXPECT_TRUE(held) << "the shell's fd 3 is not in the file's fd snapshot";
  tools::ShowOptions show;
  show.path = snapshot.string();
  show.render.format = tools::OutputFormat::strace;
  show.fd_paths = tools::FdPaths::paths;
  std::ostringstream out, err;
  EXPECT_EQ(tools::run_show(show, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("3</etc/passwd>"), std::string::npos) << out.str().substr(0, 4000);
}

}  // namespace
}  // namespace traceloop::daemon
