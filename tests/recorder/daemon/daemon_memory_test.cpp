// The daemon's memory against its budget, with real runc containers: a
// hundred mostly idle ones and six busy ones under --budget-total 8M. What
// grows with the load counts in the budget; the rest is the stated fixed
// overhead (kFixedMemoryOverhead) and the ring, mapped twice.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "format/trace_reader.h"
#include "recorder/daemon/daemon.h"
#include "tests/recorder/daemon/daemon_test_env.h"
#include "tests/support/sanitizers.h"
#include "tests/support/temp_dir.h"

namespace traceloop::daemon {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using test_env::bpf_required;
using test_env::source_dir;

uint64_t status_kib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  uint64_t value = 0;
  while (in >> key) {
    if (key == field + ":") {
      in >> value;
      return value;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

int shell(const std::string& script) {
  int status = std::system(("sh -c '" + script + "' >/dev/null 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

TEST(DaemonMemory, RssStaysWithinTheTotalBudgetPlusTheFixedOverhead) {
  if (testing::kAddressSanitizer)
    GTEST_SKIP() << "AddressSanitizer build: its shadow memory and quarantine are part of the RSS measured";
  if (::geteuid() != 0 || std::system("command -v runc >/dev/null && command -v busybox >/dev/null") != 0) {
    if (bpf_required()) FAIL() << "root, runc and busybox-static are required";
    GTEST_SKIP() << "needs root, runc and busybox-static";
  }
  testing::TempDir dir;
  const fs::path state = dir / "state", work = dir / "work";
  const uint64_t total = 8u << 20, ring = 16u << 20;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(TL_DAEMON_CLI, TL_DAEMON_CLI, "daemon", "--dir", state.c_str(), "--budget-total", "8M",
            static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto socket_up = std::chrono::steady_clock::now() + 20s;
  while (!fs::exists(state / "control.sock") && std::chrono::steady_clock::now() < socket_up) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      if (!bpf_required() && WIFEXITED(status) && WEXITSTATUS(status) == 2) GTEST_SKIP() << "daemon could not start";
      FAIL() << "daemon exited";
    }
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(fs::exists(state / "control.sock"));

  const std::string script = (source_dir() / "scripts/demo_container.sh").string();
  const std::string stem = "tlmem-" + std::to_string(::getpid());
  // A hundred containers that wake once a second (a fork and an exec each time).
  ASSERT_EQ(shell("i=0; while [ $i -lt 100 ]; do i=$((i+1)); " + script + " --work " + work.string() + " --detach " +
                  stem + "-idle-$i -- sh -c \"while :; do sleep 1; done\" || exit 1; done"),
            0);
  // Six busy ones for 8 s: three open/read/close as fast as a shell can, three
  // start a process per round (their process tables grow as fast). Not
  // `timeout`: a container's first process ignores its SIGTERM.
  for (int i = 1; i <= 6; ++i) {
    const std::string round = i <= 3 ? "read x < /etc/passwd" : "cat /etc/passwd";
    const std::string loop = "end=\\$((\\$(date +%s) + 8)); while [ \\$(date +%s) -lt \\$end ]; do for k in 1 2 3 4 5 6 7 8 9 10; do " +
                             round + "; done; done >/dev/null";
    ASSERT_EQ(shell(script + " --work " + work.string() + " --detach " + stem + "-busy-" + std::to_string(i) +
                    " -- sh -c \"" + loop + "\""),
              0);
  }
  uint64_t peak_kib = 0;
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < end) {
    peak_kib = std::max(peak_kib, status_kib(pid, "VmRSS"));
    std::this_thread::sleep_for(50ms);
  }
  // The busy ones have ended; a detached container's history is published
  // when it is deleted (its buffer handed to the publisher, still counted).
  for (int i = 1; i <= 6; ++i) shell("runc delete -f " + stem + "-busy-" + std::to_string(i));
  for (int i = 1; i <= 6; ++i) {
    const fs::path file = state / (stem + "-busy-" + std::to_string(i) + ".tl");
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (!fs::exists(file) && std::chrono::steady_clock::now() < until) {
      peak_kib = std::max(peak_kib, status_kib(pid, "VmRSS"));
      std::this_thread::sleep_for(20ms);
    }
  }
  peak_kib = std::max(peak_kib, status_kib(pid, "VmHWM"));
  shell("i=0; while [ $i -lt 100 ]; do i=$((i+1)); runc delete -f " + stem + "-idle-$i; done");
  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  // The budget was at work: the busy histories lost their oldest events.
  uint64_t seen = 0, overwritten = 0;
  for (int i = 1; i <= 6; ++i) {
    auto trace = format::load_trace(state / (stem + "-busy-" + std::to_string(i) + ".tl"));
    ASSERT_TRUE(trace.ok()) << trace.error().message;
    ASSERT_TRUE(trace->counters.has_value());
    seen += trace->counters->events_recorded + trace->counters->events_overwritten;
    overwritten += trace->counters->events_overwritten;
  }
  EXPECT_GT(seen, 500'000u);
  EXPECT_GT(overwritten, 0u);
  const uint64_t bound = total + 2 * ring + kFixedMemoryOverhead;
  EXPECT_LE(peak_kib * 1024, bound) << "peak RSS " << peak_kib / 1024 << " MiB, budget-total 8 MiB, bound "
                                    << bound / (1u << 20) << " MiB";
  std::printf("daemon peak RSS %.1f MiB: budget-total 8 MiB + ring %d MiB x 2 + %.1f MiB (bound: + %u MiB)\n",
              static_cast<double>(peak_kib) / 1024, static_cast<int>(ring >> 20),
              static_cast<double>(peak_kib) / 1024 - 8 - 32, static_cast<unsigned>(kFixedMemoryOverhead >> 20));
}

}  // namespace
}  // namespace traceloop::daemon
