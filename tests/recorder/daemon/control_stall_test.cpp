// The control socket never stalls the recording: with a `list` reply of
// ~750 KB (thousands of saved traces) read by a client at 16 KB every half
// second, a real runc container making 200,000 write calls a second loses
// none of them. The daemon's loop both drains the BPF ring, which holds only
// tens of milliseconds of such a container, and serves the socket; a server
// that waited for the slow client froze the recording for as long as it read.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "format/catalogue.h"
#include "format/trace_reader.h"
#include "format/trace_writer.h"
#include "format/unique_fd.h"
#include "recorder/daemon/control_client.h"
#include "recorder/daemon/control_protocol.h"
#include "recorder/daemon/daemon.h"
#include "tests/recorder/daemon/daemon_test_env.h"
#include "tests/support/temp_dir.h"

namespace traceloop::daemon {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using test_env::bpf_required;
using test_env::source_dir;

constexpr size_t kSavedTraces = 3000;
constexpr long kWritesPerSecond = 200000;
constexpr long kContainerSeconds = 10;
constexpr size_t kSlowChunk = 16u << 10;
constexpr auto kSlowPause = 500ms;
constexpr auto kSlowFor = 6s;

std::string quiet_demo_container(const fs::path& work, const std::string& args) {
  return test_env::demo_container(work, args) + " >/dev/null 2>&1";
}

int exit_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128; }

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// A 64-hex-digit container id, as engines make them, distinct per index.
std::string container_id(uint64_t index) {
  std::string id;
  uint64_t x = index + 0x9e3779b97f4a7c15ull;
  for (int part = 0; part < 4; ++part) {
    // splitmix64: ids that differ from their first digit on.
    x += 0x9e3779b97f4a7c15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(z));
    id += hex;
  }
  return id;
}

// Writes `count` small saved traces into `dir`, each of its own container,
// as an earlier run of the daemon leaves them (listed again at start). Each
// file is fsynced: a few threads wait for the disk together.
std::set<std::string> write_saved_traces(const fs::path& dir, size_t count) {
  format::TraceMetadata m;
  format::fill_host_metadata(m);
  constexpr size_t kThreads = 8;
  std::vector<std::vector<std::string>> written(kThreads);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      format::TraceMetadata mine = m;
      for (size_t i = t; i < count; i += kThreads) {
        format::ContainerInfo c;
        c.id = container_id(i);
        c.runtime = "runc";
        c.pod_name = "checkout-service-7f9c8d6b5-" + std::to_string(10000 + i);
        c.pod_namespace = "shop-production-eu-west";
        c.container_name = "checkout-worker";
        mine.containers = {c};
        auto writer = format::TraceWriter::create(dir / (c.id + ".tl"), mine);
        if (writer.ok() && writer->finish().ok()) written[t].push_back(c.id);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> ids;
  for (const auto& w : written) ids.insert(w.begin(), w.end());
  return ids;
}

UniqueFd connect_and_send(const fs::path& socket, std::string_view line) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof(addr.sun_path) - 1);
  timeval tv{60, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return UniqueFd();
  if (::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) return UniqueFd();
  ::shutdown(fd.get(), SHUT_WR);
  return fd;
}

struct SlowRead {
  std::string bytes;
  Clock::duration first_byte{}, total{};
};

// `list`, read kSlowChunk every kSlowPause for kSlowFor, then the rest at once.
SlowRead read_list_slowly(const fs::path& socket) {
  SlowRead out;
  const auto asked = Clock::now();
  UniqueFd fd = connect_and_send(socket, "list\n");
  if (!fd) return out;
  std::vector<char> buf(kSlowChunk);
  for (bool slow = true;;) {
    ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), slow ? MSG_WAITALL : 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.bytes.empty()) out.first_byte = Clock::now() - asked;
    out.bytes.append(buf.data(), static_cast<size_t>(n));
    slow = Clock::now() - asked < kSlowFor;
    if (slow) std::this_thread::sleep_for(kSlowPause);
  }
  out.total = Clock::now() - asked;
  return out;
}

TEST(ControlStall, ASlowListReaderCostsABusyContainerNoEvents) {
  if (::geteuid() != 0 || std::system("command -v runc >/dev/null && command -v busybox >/dev/null") != 0) {
    if (bpf_required()) FAIL() << "root, runc and busybox-static are required";
    GTEST_SKIP() << "needs root, runc and busybox-static";
  }
  testing::TempDir dir;
  DaemonOptions options;
  options.dir = dir / "state";
  options.identify_timeout = 3s;
  ASSERT_EQ(::mkdir(options.dir.c_str(), 0700), 0);
  const auto writing = Clock::now();
  const std::set<std::string> saved = write_saved_traces(options.dir, kSavedTraces);
  ASSERT_EQ(saved.size(), kSavedTraces);
  std::cout << kSavedTraces << " saved traces written in " << ms(Clock::now() - writing) << " ms\n";

  // The busy container's program, in the containers' shared rootfs.
  const fs::path work = dir / "work";
  const std::string id = "tlstall-" + std::to_string(::getpid());
  ASSERT_EQ(exit_status(std::system(quiet_demo_container(work, "--bundle-only " + id + " -- true").c_str())), 0);
  fs::copy_file(TL_WRITE_PACE, work / "rootfs/bin/tl_write_pace");

  auto started = Daemon::start(options);
  if (!started.ok()) {
    if (bpf_required()) FAIL() << started.error().message;
    GTEST_SKIP() << "daemon could not start (BPF?): " << started.error().message;
  }
  std::unique_ptr<Daemon> daemon = std::move(started.value());
  bool run_ok = false;
  std::thread loop([&] { run_ok = daemon->run(false).ok(); });
  struct Stop {
    Daemon& d;
    std::thread& t;
    ~Stop() {
      d.request_stop();
      if (t.joinable()) t.join();
    }
  } stop{*daemon, loop};
  const fs::path socket = options.dir / "control.sock";

  auto listed = send_request(socket, {Verb::list, ""});
  ASSERT_TRUE(listed.ok() && listed->ok);
  std::cout << "list reply: " << listed->body.size() << " bytes\n";
  ASSERT_GE(listed->body.size(), 700u << 10);

  int container_status = -1;
  std::atomic<bool> container_done{false};
  std::thread container([&] {
    const std::string cmd = quiet_demo_container(work, id + " -- /bin/tl_write_pace " + std::to_string(kWritesPerSecond) +
                                                     " " + std::to_string(kContainerSeconds));
    container_status = exit_status(std::system(cmd.c_str()));
    container_done = true;
  });
  // Recorded from here on (the daemon identifies it from runc's state).
  bool running = false;
  for (auto until = Clock::now() + 5s; !running && Clock::now() < until; std::this_thread::sleep_for(50ms)) {
    auto reply = send_request(socket, {Verb::list, ""});
    running = reply.ok() && reply->ok && reply->body.find("\t" + id + "\trunning\t") != std::string::npos;
  }
  EXPECT_TRUE(running);

  // While the slow client reads, a quick request every 100 ms: how long the
  // loop keeps others waiting.
  std::atomic<bool> probing{true};
  Clock::duration slowest_probe{};
  int probes = 0;
  std::thread prober([&] {
    while (probing) {
      const auto asked = Clock::now();
      auto reply = send_request(socket, {Verb::fetch, "no-such-container"});
      const auto took = Clock::now() - asked;
      if (reply.ok()) ++probes;
      slowest_probe = std::max(slowest_probe, took);
      std::this_thread::sleep_for(100ms);
    }
  });
  const SlowRead slow = read_list_slowly(socket);
  // The whole slow read happened while the container was busy.
  EXPECT_FALSE(container_done) << "the container ended before the slow read: nothing was measured";
  probing = false;
  prober.join();
  container.join();
  EXPECT_EQ(container_status, 0);

  // The slow client got the whole reply: every saved trace and the container.
  auto reply = parse_reply(slow.bytes);
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  ASSERT_TRUE(reply->ok);
  std::set<std::string> rows;
  std::istringstream in(reply->body);
  for (std::string line; std::getline(in, line);) {
    auto row = parse_list_row(line);
    ASSERT_TRUE(row.ok()) << "cut or garbled row: " << line;
    rows.insert(row->id);
  }
  EXPECT_TRUE(std::includes(rows.begin(), rows.end(), saved.begin(), saved.end()));
  EXPECT_EQ(rows.count(id), 1u);

  // The container's saved trace: every call arrived (none lost in the ring).
  const fs::path file = options.dir / (id + ".tl");
  for (auto until = Clock::now() + 20s; !fs::exists(file) && Clock::now() < until;) std::this_thread::sleep_for(50ms);
  auto trace = format::load_trace(file);
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  ASSERT_TRUE(trace->counters.has_value());
  const format::Counters& c = *trace->counters;
  const double seconds = static_cast<double>(c.last_ns - c.first_ns) / 1e9;
  std::cout << "container: " << c.events_recorded << " recorded + " << c.events_overwritten << " overwritten, "
            << c.events_lost << " lost, in " << seconds << " s\n"
            << "slow client: first byte after " << ms(slow.first_byte) << " ms, whole reply ("
            << slow.bytes.size() << " bytes) after " << ms(slow.total) << " ms\n"
            << "other requests meanwhile: " << probes << ", slowest " << ms(slowest_probe) << " ms\n";
  EXPECT_EQ(c.events_lost, 0u);
  // The load was there: every write reached the daemon or was counted lost.
  EXPECT_GE(c.events_recorded + c.events_overwritten + c.events_lost,
            static_cast<uint64_t>(kWritesPerSecond * kContainerSeconds));
  EXPECT_GT(probes, 0);
  EXPECT_LT(slowest_probe, 1s);
  daemon->request_stop();
  loop.join();
  EXPECT_TRUE(run_ok);
}

}  // namespace
}  // namespace traceloop::daemon
