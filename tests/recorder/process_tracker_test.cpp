// The process table built from events: forks, execs and exits, statuses
// reaped by wait4 (a signal included), and what a history that overwrote
// its oldest events lets it forget.

#include "recorder/process_tracker.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <map>
#include <string>

#include "format/catalogue.h"

namespace traceloop::recorder {
namespace {

const format::Catalogue& catalogue() { return format::builtin_catalogue(format::Arch::x86_64); }

uint32_t nr(const char* name) { return catalogue().find(name)->nr; }

// One call of `pid` (thread `tid`) returning `ret`, at `ns`.
format::OwnedEvent call(uint32_t pid, const char* name, int64_t ret, uint64_t ns, uint32_t tid = 0) {
  format::OwnedEvent o;
  o.fields.pid = pid;
  o.fields.tid = tid != 0 ? tid : pid;
  o.fields.nr = nr(name);
  o.fields.ret = ret;
  o.fields.enter_ns = ns;
  o.fields.exit_ns = ns + 10;
  o.comm = "sh";
  return o;
}

format::OwnedEvent exit_group(uint32_t pid, int code, uint64_t ns) {
  auto o = call(pid, "exit_group", 0, ns);
  o.fields.args[0] = static_cast<uint64_t>(code);
  o.fields.state = format::CallState::never_returned;
  return o;
}

format::OwnedEvent wait4(uint32_t pid, uint32_t child, int32_t status, uint64_t ns) {
  auto o = call(pid, "wait4", child, ns);
  std::string bytes(sizeof(status), '\0');
  std::memcpy(bytes.data(), &status, sizeof(status));
  o.captures.push_back({1, sizeof(status), bytes});
  return o;
}

std::map<uint32_t, format::ProcessInfo> table_of(const ProcessTracker& t) {
  std::map<uint32_t, format::ProcessInfo> out;
  for (auto& p : t.table()) out[p.pid] = p;
  return out;
}

void observe(ProcessTracker& t, const format::OwnedEvent& o) { t.observe(o.view()); }

TEST(ProcessTracker, ForksExecsAndExitsIncludingAChildKilledByASignal) {
  ProcessTracker t(catalogue());
  t.set_root(100, 1);
  observe(t, call(100, "clone", 101, 1000));
  auto exec = call(101, "execve", 0, 2000);
  const std::string argv("ls\0-l\0", 6);
  exec.captures.push_back({1, static_cast<uint32_t>(argv.size()), argv});
  observe(t, exec);
  observe(t, exit_group(101, 2, 3000));
  observe(t, wait4(100, 101, 2 << 8, 3100));
  observe(t, call(100, "clone", 102, 4000));
  observe(t, call(102, "read", 0, 4100));  // killed by SIGKILL in a read: no exit_group
  observe(t, wait4(100, 102, SIGKILL, 5000));
  const auto table = table_of(t);
  ASSERT_EQ(table.size(), 3u);
  EXPECT_EQ(table.at(100).ppid, 1u);
  EXPECT_EQ(table.at(100).exit_ns, 0u) << "alive";
  EXPECT_EQ(table.at(101).ppid, 100u);
  EXPECT_EQ(table.at(101).argv, (std::vector<std::string>{"ls", "-l"}));
  EXPECT_EQ(table.at(101).exit_ns, 3000u);
  EXPECT_EQ(table.at(101).exit_status, 2 << 8);
  EXPECT_EQ(table.at(102).exit_ns, 5010u) << "when its parent reaped it";
  EXPECT_EQ(table.at(102).exit_status, SIGKILL);
}

TEST(ProcessTracker, ForgetsWhatOnlyOverwrittenEventsSpokeOf) {
  ProcessTracker t(catalogue());
  t.set_root(100, 1);
  observe(t, call(100, "clone", 101, 1000));      // event 0
  observe(t, exit_group(101, 0, 1100));            // 1: 101 exits
  observe(t, call(100, "clone", 7001, 1200));     // 2: a thread of 100
  observe(t, call(100, "clone", 102, 1300));      // 3
  observe(t, call(102, "read", 0, 1400));          // 4: 102 lives on
  observe(t, call(100, "clone", 103, 1500));      // 5
  observe(t, exit_group(103, 0, 1600));            // 6: 103 exits
  observe(t, call(100, "wait4", 101, 1700));      // 7
  t.forget_before(5);  // events 0-4 overwritten
  auto table = table_of(t);
  EXPECT_FALSE(table.contains(101)) << "exited, no event left";
  EXPECT_TRUE(table.contains(100)) << "alive, and the root";
  EXPECT_TRUE(table.contains(102)) << "alive, though its events are gone";
  EXPECT_TRUE(table.contains(103)) << "exited, but its events are held";
  EXPECT_EQ(table.at(103).ppid, 100u) << "its fork (event 5) is held";
  EXPECT_EQ(table.at(102).ppid, 100u) << "its fork is gone, but it is known";
  t.forget_before(8);
  table = table_of(t);
  EXPECT_FALSE(table.contains(103));
  EXPECT_EQ(table.size(), 2u);
  // A later process with the thread's id is not taken for 100's child.
  observe(t, call(7001, "getpid", 7001, 2000));
  EXPECT_EQ(table_of(t).at(7001).ppid, 0u);
}

TEST(ProcessTracker, StaysBoundedUnderAForkLoop) {
  ProcessTracker t(catalogue());
  t.set_root(100, 1);
  uint64_t ns = 0;
  for (uint32_t child = 1000; child < 101000; ++child) {
    observe(t, call(100, "clone", child, ns += 10));
    observe(t, call(child, "execve", 0, ns += 10));
    observe(t, exit_group(child, 0, ns += 10));
    observe(t, wait4(100, child, 0, ns += 10));
    t.forget_before(t.observed() > 400 ? t.observed() - 400 : 0);  // a history of the last 400 events
  }
  EXPECT_LE(t.size(), 102u);
  EXPECT_GE(t.size(), 99u);
}

}  // namespace
}  // namespace traceloop::recorder

namespace traceloop::recorder {
namespace {

TEST(ProcessTracker, MemoryFollowsTheTable) {
  ProcessTracker t(catalogue());
  t.set_root(100, 1);
  observe(t, call(100, "getpid", 100, 10));
  const size_t one = t.memory_bytes();
  uint64_t ns = 100;
  for (uint32_t child = 1000; child < 2000; ++child) {
    observe(t, call(100, "clone", child, ns += 10));
    observe(t, exit_group(child, 0, ns += 10));
  }
  EXPECT_GE(t.memory_bytes(), one + 1000 * 2 * sizeof(format::ProcessInfo)) << "processes and forks counted";
  t.forget_before(t.observed());
  EXPECT_LE(t.memory_bytes(), one + 1024) << "forgotten processes no longer counted";
  // The last process is remembered across calls, and forgotten with it.
  observe(t, call(100, "getpid", 100, ns += 10));
  EXPECT_EQ(table_of(t).size(), 1u);
}

}  // namespace
}  // namespace traceloop::recorder
