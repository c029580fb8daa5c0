// The BPF lifecycle as the daemon uses it: a set of traced cgroups, each with
// its container index, events converted into a sink; untraced tasks absent.
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>
#include <vector>

#include "recorder/bpf_recorder.h"
#include "recorder/capture_plan.h"
#include "recorder/cgroup.h"
#include "recorder/event_converter.h"
#include "recorder/ring_consumer.h"
#include "tests/recorder/recorder_test_util.h"

namespace traceloop::recorder {
namespace {

struct Collect : EventSink {
  std::vector<format::OwnedEvent> events;
  std::vector<format::OwnedTaskNotice> notices;
  void event(const format::Event& e) override { events.push_back(format::OwnedEvent::from(e)); }
  void loss(const format::LossMarker&) override {}
  void notice(const format::TaskNotice& n) override { notices.push_back(format::OwnedTaskNotice::from(n)); }
};

// Runs `sh -c script` inside cgroup `cg` (moved there before exec).
int run_in_cgroup(const ScopedCgroup& cg, const char* script) {
  int go[2];
  if (pipe(go) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(go[1]);
    char b;
    if (read(go[0], &b, 1) != 1) _exit(126);
    execl("/bin/sh", "sh", "-c", script, static_cast<char*>(nullptr));
    _exit(127);
  }
  close(go[0]);
  EXPECT_TRUE(cg.add_process(pid).ok());
  char b = 1;
  EXPECT_EQ(write(go[1], &b, 1), 1);
  close(go[1]);
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

// The daemon's set-of-cgroups recorder, capturing as the catalogue says.
Result<std::unique_ptr<BpfRecorder>> start_set_recorder() {
  BpfOptions options;
  options.plans = build_capture_plans(format::builtin_catalogue(format::host_arch()), {});
  return BpfRecorder::start(options);
}

Result<ScopedCgroup> test_cgroup(const std::string& name) {
  auto mount = cgroup2_mount();
  if (!mount.ok()) return mount.error();
  return ScopedCgroup::create(*mount, "traceloop.test-" + name + "-" + std::to_string(getpid()));
}

TEST(BpfRecorder, CgroupSetTracesOnlyItsMembersWithTheirContainerIndex) {
  REQUIRE_BPF_OR_SKIP();
  const auto& cat = format::builtin_catalogue(format::host_arch());
  auto bpf = start_set_recorder();
  ASSERT_TRUE(bpf.ok()) << bpf.error().message;
  auto a = test_cgroup("a");
  auto b = test_cgroup("b");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*bpf)->trace_cgroup(a->id(), 3).ok());
  ASSERT_TRUE((*bpf)->trace_cgroup(b->id(), 7).ok());

  Collect sink;
  uint64_t a_id = a->id(), b_id = b->id();
  EventConverter conv(cat, sink, [&](uint64_t id) { return id == a_id ? 3u : id == b_id ? 7u : 99u; });
  auto ring = RingConsumer::create((*bpf)->ring_map_fd(), [&](std::span<const uint8_t> s) { conv.consume(s); });
  ASSERT_TRUE(ring.ok());

  run_in_cgroup(*a, "echo in-a > /dev/null");
  run_in_cgroup(*b, "echo in-b > /dev/null");
  ASSERT_TRUE((*bpf)->untrace_cgroup(b->id()).ok());
  run_in_cgroup(*b, "echo b-untraced > /dev/null");
  // traced again after it left (its filter slot set again)
  ASSERT_TRUE((*bpf)->trace_cgroup(b->id(), 7).ok());
  run_in_cgroup(*b, "echo b-again > /dev/null");
  // added twice, removed once: gone (the slot counts cgroups, not calls)
  ASSERT_TRUE((*bpf)->trace_cgroup(a->id(), 3).ok());
  ASSERT_TRUE((*bpf)->untrace_cgroup(a->id()).ok());
  run_in_cgroup(*a, "echo a-untraced > /dev/null");
  // this process is in no traced cgroup: its write must not appear
  ASSERT_EQ(write(STDOUT_FILENO, "", 0), 0);
  (*bpf)->detach();
  ASSERT_TRUE(ring->drain().ok());
  conv.finish();

  bool saw_a = false, saw_b = false, saw_b_again = false, saw_untraced = false;
  for (const auto& owned : sink.events) {
    auto e = owned.view();
    EXPECT_NE(e.pid, static_cast<uint32_t>(getpid()));
    EXPECT_TRUE(e.container == 3 || e.container == 7) << e.container;
    if (cat.name_of(e.nr) != "write") continue;
    std::string data = testing::capture_string(e, 1);
    if (data == "in-a\n") saw_a = e.container == 3;
    if (data == "in-b\n") saw_b = e.container == 7;
    if (data == "b-again\n") saw_b_again = e.container == 7;
    if (data == "b-untraced\n" || data == "a-untraced\n") saw_untraced = true;
  }
  EXPECT_TRUE(saw_a);
  EXPECT_TRUE(saw_b);
  EXPECT_TRUE(saw_b_again);
  EXPECT_FALSE(saw_untraced);
  EXPECT_EQ((*bpf)->counters().lost_total(), 0u);
}

// An unhandled SIGTERM, which the kernel never delivers, from this untraced
// process: a notice for the child in a traced cgroup (the target's cgroup
// decides, not the sender's), none for the one in an untraced cgroup.
TEST(BpfRecorder, FatalSignalToATracedCgroupOnly) {
  REQUIRE_BPF_OR_SKIP();
  const auto& cat = format::builtin_catalogue(format::host_arch());
  auto bpf = start_set_recorder();
  ASSERT_TRUE(bpf.ok()) << bpf.error().message;
  auto traced = test_cgroup("sig-traced");
  auto other = test_cgroup("sig-other");
  ASSERT_TRUE(traced.ok() && other.ok());
  ASSERT_TRUE((*bpf)->trace_cgroup(traced->id(), 4).ok());
  Collect sink;
  EventConverter conv(cat, sink, [](uint64_t) { return 4u; });
  auto ring = RingConsumer::create((*bpf)->ring_map_fd(), [&](std::span<const uint8_t> s) { conv.consume(s); });
  ASSERT_TRUE(ring.ok());

  std::map<pid_t, bool> children;  // pid -> in the traced cgroup
  for (const ScopedCgroup* cg : {&*traced, &*other}) {
    const pid_t child = cg->fork_into();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (;;) pause();
    }
    children[child] = cg == &*traced;
  }
  usleep(50000);  // both asleep in pause()
  for (const auto& [child, in_traced] : children) {
    ASSERT_EQ(kill(child, SIGTERM), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  }
  (*bpf)->detach();
  ASSERT_TRUE(ring->drain().ok());
  conv.finish();

  std::map<pid_t, std::vector<format::TaskNotice::Kind>> kinds;
  for (const auto& owned : sink.notices) {
    const auto n = owned.view();
    kinds[static_cast<pid_t>(n.tid)].push_back(n.kind);
    if (n.kind != format::TaskNotice::Kind::signal) continue;
    EXPECT_EQ(n.signo, SIGTERM);
    siginfo_t info{};
    std::memcpy(&info, n.siginfo.data(), std::min(sizeof(info), n.siginfo.size()));
    EXPECT_EQ(info.si_code, SI_USER);
    EXPECT_EQ(info.si_pid, getpid());
  }
  for (const auto& [child, in_traced] : children) {
    if (in_traced) {
      EXPECT_EQ(kinds[child],
                (std::vector<format::TaskNotice::Kind>{format::TaskNotice::Kind::signal, format::TaskNotice::Kind::exit}));
    } else {
      EXPECT_TRUE(kinds[child].empty());
    }
  }
}

// Calls of `n` getppid in a child inside `cg`, then its exit.
void getppid_calls_in(const ScopedCgroup& cg, int n) {
  const pid_t child = cg.fork_into();
  ASSERT_GE(child, 0);
  if (child == 0) {
    for (int i = 0; i < n; ++i) (void)syscall(SYS_getppid);
    _exit(0);
  }
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
}

struct Losses : EventSink {
  std::map<uint32_t, uint64_t> lost;    // by container index
  std::map<uint32_t, uint64_t> events;  // by container index
  void event(const format::Event& e) override { ++events[e.container]; }
  void loss(const format::LossMarker& l) override { lost[l.container] += l.lost; }
  void notice(const format::TaskNotice& n) override { ++events[n.container]; }
};

// A cgroup's losses are its own: another cgroup's records after them do not
// carry them; what none of its own records announced is taken once, and
// forgotten with the cgroup.
TEST(BpfRecorder, LossesBelongToTheirCgroupAndAreTakenOnce) {
  REQUIRE_BPF_OR_SKIP();
  BpfOptions options;
  options.plans = build_capture_plans(format::builtin_catalogue(format::host_arch()), {});
  options.ring_bytes = 4096;  // one page, not drained while A runs: A overflows it
  auto bpf = BpfRecorder::start(options);
  ASSERT_TRUE(bpf.ok()) << bpf.error().message;
  auto a = test_cgroup("loss-a");
  auto b = test_cgroup("loss-b");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*bpf)->trace_cgroup(a->id(), 1).ok());
  ASSERT_TRUE((*bpf)->trace_cgroup(b->id(), 2).ok());
  Losses sink;
  const uint64_t a_id = a->id(), b_id = b->id();
  EventConverter conv(format::builtin_catalogue(format::host_arch()), sink,
                      [&](uint64_t id) { return id == a_id ? 1u : id == b_id ? 2u : 0u; });
  auto ring = RingConsumer::create((*bpf)->ring_map_fd(), [&](std::span<const uint8_t> s) { conv.consume(s); });
  ASSERT_TRUE(ring.ok());

  getppid_calls_in(*a, 5000);
  ASSERT_TRUE(ring->drain().ok());
  getppid_calls_in(*b, 20);  // the ring has room again: B loses nothing
  ASSERT_TRUE(ring->drain().ok());

  const BpfCounters counters = (*bpf)->counters();
  ASSERT_TRUE(counters.lost_per_cgroup.contains(a_id));
  const uint64_t a_lost = counters.lost_per_cgroup.at(a_id);
  EXPECT_GT(a_lost, 0u);
  EXPECT_FALSE(counters.lost_per_cgroup.contains(b_id));
  EXPECT_EQ(counters.lost_total(), a_lost);
  EXPECT_EQ(sink.lost[2], 0u);  // B's records announced none of A's losses
  EXPECT_GE(sink.events[2], 20u);
  EXPECT_EQ((*bpf)->cgroups_owing(), 1u);  // A
  // A's last calls found the ring full: no record of A announced them.
  auto taken = (*bpf)->take_losses(a_id);
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_GT(taken->unreported, 0u);
  EXPECT_EQ(taken->total, a_lost);
  EXPECT_EQ(sink.lost[1] + taken->unreported, a_lost);
  EXPECT_EQ((*bpf)->cgroups_owing(), 0u);  // records look nothing up any more
  auto again = (*bpf)->take_losses(a_id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->unreported, 0u);
  EXPECT_EQ(again->total, a_lost);
  // Untraced: its counter goes with it.
  ASSERT_TRUE((*bpf)->untrace_cgroup(a_id).ok());
  EXPECT_FALSE((*bpf)->counters().lost_per_cgroup.contains(a_id));
  auto gone = (*bpf)->take_losses(a_id);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->total, 0u);
}

// Against a producer that never stops, a bounded drain returns after its
// budget, the records it handed out consumed (the next drain goes on).
TEST(BpfRecorder, BoundedDrainReturnsWhileTheProducerRuns) {
  REQUIRE_BPF_OR_SKIP();
  auto bpf = start_set_recorder();
  ASSERT_TRUE(bpf.ok()) << bpf.error().message;
  auto busy = test_cgroup("busy");
  ASSERT_TRUE(busy.ok());
  ASSERT_TRUE((*bpf)->trace_cgroup(busy->id(), 1).ok());
  uint64_t records = 0;
  auto ring = RingConsumer::create((*bpf)->ring_map_fd(), [&](std::span<const uint8_t>) { ++records; });
  ASSERT_TRUE(ring.ok());
  const pid_t child = busy->fork_into();
  ASSERT_GE(child, 0);
  if (child == 0) {
    for (;;) (void)getppid();
  }
  for (int pass = 1; pass <= 3; ++pass) {
    // 20 ms of a getppid loop are tens of thousands of records
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const uint64_t before = records;
    ASSERT_TRUE(ring->drain(1000).ok());
    EXPECT_EQ(records - before, 1000u) << "pass " << pass;
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}

// A thread blocked in a call is not in the ring (its entry waits in the
// thread's BPF store): a snapshot finds it through in_flight_records() as an
// unfinished call, and once it returns the whole call arrives as usual.
TEST(BpfRecorder, BlockedCallIsInFlightForASnapshotThenCompletes) {
  REQUIRE_BPF_OR_SKIP();
  const auto& cat = format::builtin_catalogue(format::host_arch());
  auto bpf = start_set_recorder();
  ASSERT_TRUE(bpf.ok()) << bpf.error().message;
  auto cg = test_cgroup("blocked");
  ASSERT_TRUE(cg.ok());
  ASSERT_TRUE((*bpf)->trace_cgroup(cg->id(), 5).ok());
  Collect sink;
  EventConverter conv(cat, sink, [](uint64_t) { return 5u; });
  auto ring = RingConsumer::create((*bpf)->ring_map_fd(), [&](std::span<const uint8_t> s) { conv.consume(s); });
  ASSERT_TRUE(ring.ok());

  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = cg->fork_into();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[1]);
    char buf[32];
    const ssize_t n = read(fds[0], buf, sizeof(buf));
    _exit(n == 6 ? 0 : 1);
  }
  close(fds[0]);
  // blocked in the pipe's read: the child's state is S once it waits there
  const uint32_t read_nr = cat.find("read")->nr;
  auto is_read_in_flight = [&](const format::OwnedEvent& owned) {
    auto e = owned.view();
    return e.tid == static_cast<uint32_t>(child) && e.nr == read_nr && e.args[0] == static_cast<uint64_t>(fds[0]);
  };
  Collect snapshot;
  for (int i = 0; i < 500 && snapshot.events.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(ring->drain().ok());
    auto records = (*bpf)->in_flight_records();
    ASSERT_TRUE(records.ok()) << records.error().message;
    Collect attempt;
    conv.emit_in_flight(*records, attempt);
    for (const auto& e : attempt.events)
      if (is_read_in_flight(e)) snapshot.events.push_back(e);
  }
  ASSERT_EQ(snapshot.events.size(), 1u);
  auto blocked = snapshot.events[0].view();
  EXPECT_EQ(blocked.state, format::CallState::unfinished);
  EXPECT_EQ(blocked.container, 5u);
  EXPECT_EQ(blocked.args[2], 32u);
  EXPECT_GT(blocked.enter_ns, 0u);
  for (const auto& e : sink.events) EXPECT_FALSE(is_read_in_flight(e)) << "emitted before it returned";

  ASSERT_EQ(write(fds[1], "wake!\n", 6), 6);
  close(fds[1]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  (*bpf)->detach();
  ASSERT_TRUE(ring->drain().ok());
  auto rest = (*bpf)->in_flight_records();
  ASSERT_TRUE(rest.ok());
  conv.consume_records(*rest);
  conv.finish();
  int returned = 0;
  for (const auto& owned : sink.events) {
    if (!is_read_in_flight(owned)) continue;
    auto e = owned.view();
    EXPECT_EQ(e.state, format::CallState::returned);
    EXPECT_EQ(e.ret, 6);
    EXPECT_EQ(e.enter_ns, blocked.enter_ns);
    EXPECT_GT(e.exit_ns, e.enter_ns);
    EXPECT_EQ(testing::capture_string(e, 1), "wake!\n");
    ++returned;
  }
  EXPECT_EQ(returned, 1);
  EXPECT_EQ(conv.stats().unfinished, 0u);
}

// The producer wakes the consumer once the ring is half full, though it
// looks at the fill level only now and then: without a wakeup, the ring's
// epoll descriptor never becomes readable (nothing polled it since it was
// empty).
TEST(BpfRecorder, ConsumerIsWokenWhenTheRingFillsUp) {
  REQUIRE_BPF_OR_SKIP();
  BpfOptions options;
  options.plans = build_capture_plans(format::builtin_catalogue(format::host_arch()), {});
  options.ring_bytes = 256 << 10;
  auto bpf = BpfRecorder::start(options);
  ASSERT_TRUE(bpf.ok()) << bpf.error().message;
  auto busy = test_cgroup("wake");
  ASSERT_TRUE(busy.ok());
  ASSERT_TRUE((*bpf)->trace_cgroup(busy->id(), 1).ok());
  auto ring = RingConsumer::create((*bpf)->ring_map_fd(), [](std::span<const uint8_t>) {});
  ASSERT_TRUE(ring.ok());
  const pid_t child = busy->fork_into();
  ASSERT_GE(child, 0);
  if (child == 0) {
    for (;;) (void)getppid();
  }
  epoll_event ev{};
  EXPECT_EQ(epoll_wait(ring->epoll_fd(), &ev, 1, 5000), 1);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}

TEST(BpfRecorder, RingSizeRoundsToPowerOfTwoPages) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  EXPECT_EQ(round_ring_size(1), page);
  EXPECT_EQ(round_ring_size(page + 1), 2 * page);
  EXPECT_EQ(round_ring_size(8u << 20), 8u << 20);
}

TEST(BpfRecorder, MaxDataAboveTheLimitIsRefused) {
  BpfOptions options;
  options.max_data = TL_MAX_DATA_LIMIT + 1;
  options.plans = build_capture_plans(format::builtin_catalogue(format::host_arch()), {});
  auto r = BpfRecorder::start(options);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("--max-data"), std::string::npos);
}

}  // namespace
}  // namespace traceloop::recorder
