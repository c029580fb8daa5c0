#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "recorder/cgroup.h"
#include "recorder/daemon/cgroup_watcher.h"
#include "recorder/daemon/daemon.h"
#include "recorder/daemon/runtime_watcher.h"
#include "tests/support/temp_dir.h"

namespace traceloop::daemon {
namespace {

namespace fs = std::filesystem;

template <typename W, typename C>
std::vector<C> changes_within(W& watcher, int timeout_ms) {
  std::vector<C> all;
  pollfd p{watcher.fd(), POLLIN, 0};
  while (::poll(&p, 1, timeout_ms) > 0) {
    auto more = watcher.read_changes();
    all.insert(all.end(), more.begin(), more.end());
    timeout_ms = 50;  // whatever follows closely belongs to the same burst
  }
  return all;
}

TEST(RuntimeWatcher, SeesContainersOfRootsThatAppearLater) {
  testing::TempDir dir;
  auto roots = default_runtime_roots(dir.path());
  auto watcher = RuntimeWatcher::create(roots);
  ASSERT_TRUE(watcher.ok()) << watcher.error().message;
  // /run/runc does not exist yet (as on a host before its first container).
  fs::create_directories(dir / "run/runc/c1");
  auto first = changes_within<RuntimeWatcher, RuntimeChange>(*watcher, 1000);
  // The directory may be seen before or after state.json exists: write it now.
  std::ofstream(dir / "run/runc/c1/state.json.tmp") << "{}";
  fs::rename(dir / "run/runc/c1/state.json.tmp", dir / "run/runc/c1/state.json");
  auto second = changes_within<RuntimeWatcher, RuntimeChange>(*watcher, 1000);
  first.insert(first.end(), second.begin(), second.end());
  bool seen = false;
  for (const auto& c : first) seen |= !c.removed && c.id == "c1" && watcher->roots()[c.root].runtime == "runc";
  EXPECT_TRUE(seen);

  fs::create_directories(dir / "run/runc/bad name");
  fs::remove_all(dir / "run/runc/c1");
  auto third = changes_within<RuntimeWatcher, RuntimeChange>(*watcher, 1000);
  bool removed = false;
  for (const auto& c : third) {
    EXPECT_NE(c.id, "bad name");
    removed |= c.removed && c.id == "c1";
  }
  EXPECT_TRUE(removed);
}

TEST(CgroupWatcher, SeesCgroupsAppearEmptyAndGo) {
  auto mount = recorder::cgroup2_mount();
  if (!mount.ok() || ::geteuid() != 0) GTEST_SKIP() << "needs root and a cgroup2 mount";
  auto watcher = CgroupWatcher::create(*mount);
  ASSERT_TRUE(watcher.ok()) << watcher.error().message;
  std::string name = "traceloop-watch-test-" + std::to_string(::getpid());
  fs::path parent = *mount / name;
  ASSERT_TRUE(fs::create_directory(parent));
  fs::create_directory(parent / "child");  // nested, made right after: still seen
  auto created = changes_within<CgroupWatcher, CgroupChange>(*watcher, 1000);
  bool saw_parent = false, saw_child = false;
  for (const auto& c : created) {
    if (c.kind != CgroupChange::Kind::created) continue;
    saw_parent |= c.path == "/" + name && c.id == cgroup_dir_id(parent);
    saw_child |= c.path == "/" + name + "/child" && c.id == cgroup_dir_id(parent / "child");
  }
  EXPECT_TRUE(saw_parent);
  EXPECT_TRUE(saw_child);

  // A process enters and leaves the child: "populated 0" is reported.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::pause();
    _exit(0);
  }
  { std::ofstream(parent / "child/cgroup.procs") << pid; }
  EXPECT_TRUE(watcher->populated("/" + name + "/child"));
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  auto emptied = changes_within<CgroupWatcher, CgroupChange>(*watcher, 2000);
  bool saw_empty = false;
  for (const auto& c : emptied) saw_empty |= c.kind == CgroupChange::Kind::emptied && c.path == "/" + name + "/child";
  EXPECT_TRUE(saw_empty);

  size_t watches = watcher->watch_count();
  fs::remove(parent / "child");
  fs::remove(parent);
  auto removed = changes_within<CgroupWatcher, CgroupChange>(*watcher, 1000);
  int gone = 0;
  // Only this test's cgroups: anything else on the host may come and go meanwhile.
  for (const auto& c : removed)
    gone += c.kind == CgroupChange::Kind::removed && c.path.rfind("/" + name, 0) == 0 ? 1 : 0;
  EXPECT_EQ(gone, 2);
  EXPECT_EQ(watcher->watch_count(), watches - 2);
}

TEST(DaemonOptions, ParsesSizes) {
  EXPECT_EQ(*parse_size("4M"), 4u << 20);
  EXPECT_EQ(*parse_size("512KiB"), 512u << 10);
  EXPECT_EQ(*parse_size("1G"), 1u << 30);
  EXPECT_EQ(*parse_size("100000"), 100000u);
  for (const char* bad : {"", "M", "4X", "0", "-1", "99999999999999G"}) EXPECT_FALSE(parse_size(bad).ok()) << bad;
}

}  // namespace
}  // namespace traceloop::daemon
