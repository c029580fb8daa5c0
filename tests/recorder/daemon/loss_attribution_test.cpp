// Ring overflow under the daemon, with real runc containers: every call a
// container made is in its own trace, recorded or counted lost, and the
// losses of one container never show in another's. Each container runs
// tl_count_calls, which reports how many calls it made; the daemon records
// only that call (sched_getscheduler), so that the count is exact.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "format/trace_reader.h"
#include "recorder/daemon/control_client.h"
#include "recorder/daemon/daemon.h"
#include "tests/recorder/daemon/daemon_test_env.h"
#include "tests/recorder/daemon/trace_checks.h"
#include "tests/support/temp_dir.h"

namespace traceloop::daemon {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using test_env::bpf_required;
using test_env::demo_container;
using test_env::name_of;
using test_env::source_dir;
using test_env::wait_for;

// Runs tl_count_calls in container `id` on CPU 0, from the moment file
// /go-ID of the rootfs exists; the number of calls it reports, -1 when it
// failed.
long long count_calls_in_container(const fs::path& work, const std::string& id, long long ms, long long rate) {
  const std::string cmd = demo_container(work, id + " -- /bin/tl_count_calls " + std::to_string(ms) + " " +
                                                   std::to_string(rate) + " 0 /go-" + id) +
                          " 2>/dev/null";
  FILE* out = ::popen(cmd.c_str(), "r");
  if (out == nullptr) return -1;
  long long calls = -1;
  if (std::fscanf(out, "calls %lld", &calls) != 1) calls = -1;
  const int status = ::pclose(out);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? calls : -1;
}

uint64_t boot_ns() {
  timespec t{};
  clock_gettime(CLOCK_BOOTTIME, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000000000u + static_cast<uint64_t>(t.tv_nsec);
}

// What a container's trace says of its sched_getscheduler calls.
struct Accounting {
  uint64_t recorded = 0;    // events of the call
  uint64_t other = 0;       // events of anything else (none expected)
  uint64_t lost = 0;        // the loss markers' sum
  uint64_t counter_lost = 0;  // the file's counter
  uint64_t first_ns = 0;    // the first event's entry
  uint64_t earliest_marker_ns = UINT64_MAX;
  uint64_t latest_marker_ns = 0;
  bool foreign_marker = false;  // a marker of another container index
};

Accounting account(const format::LoadedTrace& trace) {
  Accounting a;
  for (const auto& owned : trace.events) {
    format::Event e = owned.view();
    if (name_of(trace.metadata, e) == "sched_getscheduler" && e.state == format::CallState::returned) ++a.recorded;
    else ++a.other;
    if (a.first_ns == 0 || e.enter_ns < a.first_ns) a.first_ns = e.enter_ns;
  }
  for (const auto& [at, loss] : trace.losses) {
    a.lost += loss.lost;
    if (loss.lost == 0) continue;
    if (loss.container != 0) a.foreign_marker = true;
    a.earliest_marker_ns = std::min(a.earliest_marker_ns, loss.at_ns);
    a.latest_marker_ns = std::max(a.latest_marker_ns, loss.at_ns);
  }
  if (trace.counters) a.counter_lost = trace.counters->events_lost;
  return a;
}

class LossAttributionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || std::system("command -v runc >/dev/null && command -v busybox >/dev/null") != 0) {
      if (bpf_required()) FAIL() << "root, runc and busybox-static are required";
      GTEST_SKIP() << "needs root, runc and busybox-static";
    }
    work_ = dir_ / "work";
    options_.dir = dir_ / "state";
    options_.identify_timeout = 3s;
    options_.syscall_filters = {"sched_getscheduler"};
    // A ring of a few milliseconds of a busy container, drained by a loop
    // that yields to everything else: the storm overflows it.
    options_.ring_bytes = 128u << 10;
    options_.loop_nice = 19;
    // Room for every recorded call: what is not in a history was lost in
    // the ring, never overwritten.
    options_.budget_per_container = 64u << 20;
    options_.budget_total = 256u << 20;
  }
  void TearDown() override {
    if (!daemon_) return;
    daemon_->request_stop();
    if (thread_.joinable()) thread_.join();
  }

  bool start() {
    auto d = Daemon::start(options_);
    if (!d.ok()) {
      refusal_ = d.error().message;
      return false;
    }
    daemon_ = std::move(d.value());
    thread_ = std::thread([this] { (void)daemon_->run(false); });
    return true;
  }
  fs::path file_of(const std::string& id) const { return options_.dir / (id + ".tl"); }
  // Lets container `id` start its calls once the daemon has identified it
  // (it is traced from then on, if not before): every call it makes is the
  // recording's to account for.
  bool go_when_recorded(const std::string& id) {
    const bool listed = wait_for([&] {
      auto reply = send_request(options_.dir / "control.sock", {Verb::list, ""});
      return reply.ok() && reply->ok && reply->body.find("\t" + id + "\trunning\t") != std::string::npos;
    });
    std::ofstream(work_ / "rootfs" / ("go-" + id)) << "go\n";
    return listed;
  }

  testing::TempDir dir_;
  fs::path work_;
  DaemonOptions options_;
  std::unique_ptr<Daemon> daemon_;
  std::thread thread_;
  std::string refusal_;
};

TEST_F(LossAttributionTest, EachContainerAccountsForEveryCallItMadeAndOnlyItsOwn) {
  const std::string pid = std::to_string(::getpid());
  const std::string storm = "tllstorm-" + pid, paced = "tllpaced-" + pid, after = "tllafter-" + pid;
  ASSERT_EQ(std::system((demo_container(work_, "--bundle-only " + storm + " -- true") + " >/dev/null").c_str()), 0);
  fs::copy_file(TL_COUNT_CALLS, work_ / "rootfs/bin/tl_count_calls", fs::copy_options::overwrite_existing);
  if (!start()) {
    if (bpf_required()) FAIL() << refusal_;
    GTEST_SKIP() << "daemon could not start (BPF?): " << refusal_;
  }

  // One container calls as fast as it can, another at a steady pace beside
  // it, on the same CPU, so that their records alternate there: both lose
  // calls while the ring is full.
  long long storm_calls = -1, paced_calls = -1;
  std::thread storm_thread([&] { storm_calls = count_calls_in_container(work_, storm, 2000, 0); });
  std::thread paced_thread([&] { paced_calls = count_calls_in_container(work_, paced, 2000, 20000); });
  EXPECT_TRUE(go_when_recorded(storm));
  EXPECT_TRUE(go_when_recorded(paced));
  // Snapshots meanwhile take the storm's unannounced losses into its
  // history: none may be counted twice, or missed.
  std::atomic<bool> storming{true};
  int snapshots = 0;
  bool snapshot_clean = true;
  std::thread snapshot_thread([&] {
    while (storming) {
      auto reply = send_request(options_.dir / "control.sock", {Verb::snapshot, storm});
      if (reply.ok() && reply->ok) {
        auto snap = format::load_trace(reply->body.substr(0, reply->body.find('\n')));
        if (snap.ok()) {
          ++snapshots;
          if (account(*snap).foreign_marker) snapshot_clean = false;
        }
      }
      std::this_thread::sleep_for(100ms);
    }
  });
  storm_thread.join();
  paced_thread.join();
  storming = false;
  snapshot_thread.join();
  EXPECT_GT(snapshots, 0);
  EXPECT_TRUE(snapshot_clean);
  ASSERT_GT(storm_calls, 0);
  ASSERT_GT(paced_calls, 0);
  ASSERT_TRUE(wait_for([&] { return fs::exists(file_of(storm)) && fs::exists(file_of(paced)); }));
  // Then a small one, alone (on the CPU where the storm lost calls last): the
  // ring has room for all its calls.
  long long after_calls = -1;
  std::thread after_thread([&] { after_calls = count_calls_in_container(work_, after, 300, 1000); });
  EXPECT_TRUE(go_when_recorded(after));
  after_thread.join();
  ASSERT_GT(after_calls, 0);
  ASSERT_TRUE(wait_for([&] { return fs::exists(file_of(after)); }));
  const uint64_t end_ns = boot_ns();

  for (const auto& [id, calls] : {std::pair{storm, storm_calls}, {paced, paced_calls}, {after, after_calls}}) {
    SCOPED_TRACE(id);
    auto trace = format::load_trace(file_of(id));
    ASSERT_TRUE(trace.ok()) << trace.error().message;
    const Accounting a = account(*trace);
    std::printf("%s: %lld calls, %llu recorded, %llu lost\n", id.c_str(), calls,
                static_cast<unsigned long long>(a.recorded), static_cast<unsigned long long>(a.lost));
    EXPECT_EQ(a.other, 0u);
    EXPECT_EQ(a.recorded + a.lost, static_cast<uint64_t>(calls));
    EXPECT_EQ(a.counter_lost, a.lost);
    EXPECT_FALSE(a.foreign_marker);
    if (a.lost > 0) {
      // Within the container's life, never before its first call.
      EXPECT_GE(a.earliest_marker_ns, a.first_ns);
      EXPECT_LE(a.latest_marker_ns, end_ns);
    }
    if (id == storm) {
      EXPECT_GT(a.lost, 0u) << "the ring never overflowed: nothing was tested";
    }
    if (id == after) {
      EXPECT_EQ(a.lost, 0u);
    }
  }
}

}  // namespace
}  // namespace traceloop::daemon
