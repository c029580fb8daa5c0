#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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

bool has_container(const std::vector<RuntimeChange>& changes, const RuntimeWatcher& w, const std::string& ns,
                   const std::string& id) {
  for (const auto& c : changes)
    if (!c.removed && c.problem.empty() && c.id == id && w.roots()[c.root].runtime_namespace == ns) return true;
  return false;
}

void make_container(const fs::path& dir) {
  fs::create_directories(dir);
  std::ofstream(dir / "state.json.tmp") << "{}";
  fs::rename(dir / "state.json.tmp", dir / "state.json");
}

TEST(RuntimeWatcher, WatchesContainerdNamespacesMadeAfterItStarted) {
  testing::TempDir dir;
  fs::create_directories(dir / "run/runc");
  auto watcher = RuntimeWatcher::create(default_runtime_roots(dir.path()));
  ASSERT_TRUE(watcher.ok()) << watcher.error().message;
  const std::vector<RuntimeRoot> before = watcher->roots();
  EXPECT_TRUE(watcher->problems().empty());

  // containerd's runc root itself appears only now, with a namespace and a
  // container made in one go.
  make_container(dir / "run/containerd/runc/k8s.io/c1");
  auto first = changes_within<RuntimeWatcher, RuntimeChange>(*watcher, 1000);
  EXPECT_TRUE(has_container(first, *watcher, "k8s.io", "c1"));
  bool announced = false;
  for (const auto& c : first)
    announced |= c.new_root && c.id.empty() && watcher->roots()[c.root].dir == dir / "run/containerd/runc/k8s.io";
  EXPECT_TRUE(announced);

  // A second namespace later; its container after the namespace is watched.
  fs::create_directories(dir / "run/containerd/runc/tltest");
  auto second = changes_within<RuntimeWatcher, RuntimeChange>(*watcher, 1000);
  make_container(dir / "run/containerd/runc/tltest/c2");
  auto third = changes_within<RuntimeWatcher, RuntimeChange>(*watcher, 1000);
  second.insert(second.end(), third.begin(), third.end());
  EXPECT_TRUE(has_container(second, *watcher, "tltest", "c2"));
  for (const auto& c : second) EXPECT_TRUE(c.problem.empty()) << c.problem;

  // Roots known before keep their place; namespaces are appended once.
  ASSERT_GE(watcher->roots().size(), before.size() + 2);
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(watcher->roots()[i].dir, before[i].dir);
  size_t index = 0;
  for (size_t i = 0; i < watcher->roots().size(); ++i)
    if (watcher->roots()[i].runtime_namespace == "tltest") index = i;
  ASSERT_NE(index, 0u);
  EXPECT_EQ(watcher->roots()[index].runtime, "containerd");

  // A namespace removed and made again keeps its index.
  const size_t count = watcher->roots().size();
  fs::remove_all(dir / "run/containerd/runc/tltest");
  auto removed = changes_within<RuntimeWatcher, RuntimeChange>(*watcher, 1000);
  bool saw_removed = false;
  for (const auto& c : removed) saw_removed |= c.removed && c.id == "c2" && c.root == index;
  EXPECT_TRUE(saw_removed);
  make_container(dir / "run/containerd/runc/tltest/c3");
  auto again = changes_within<RuntimeWatcher, RuntimeChange>(*watcher, 1000);
  bool saw_c3 = false;
  for (const auto& c : again) saw_c3 |= c.id == "c3" && c.root == index && !c.removed;
  EXPECT_TRUE(saw_c3);
  EXPECT_EQ(watcher->roots().size(), count);

  // A name that cannot be a namespace is ignored.
  fs::create_directories(dir / "run/containerd/runc/bad name/c4");
  auto bad = changes_within<RuntimeWatcher, RuntimeChange>(*watcher, 300);
  for (const auto& c : bad) EXPECT_NE(c.id, "c4");
  EXPECT_EQ(watcher->roots().size(), count);
}

TEST(RuntimeWatcher, NamespacesPresentAtStartAreRootsAtOnce) {
  testing::TempDir dir;
  make_container(dir / "run/containerd/runc/default/c1");
  make_container(dir / "run/docker/runtime-runc/moby/d1");
  auto watcher = RuntimeWatcher::create(default_runtime_roots(dir.path()));
  ASSERT_TRUE(watcher.ok());
  std::vector<std::string> found;
  for (const auto& r : watcher->roots())
    if (!r.namespaces && !r.runtime_namespace.empty()) found.push_back(r.runtime + "/" + r.runtime_namespace);
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, (std::vector<std::string>{"containerd/default", "docker/moby"}));
  // The scan of what exists sees each container once, although both the
  // namespace directory and its namespace are in roots().
  auto scanned = scan_runtime_roots(watcher->roots());
  EXPECT_EQ(scanned.size(), 2u);
  // A container made later in a namespace known from the start.
  make_container(dir / "run/containerd/runc/default/c2");
  auto changes = changes_within<RuntimeWatcher, RuntimeChange>(*watcher, 1000);
  EXPECT_TRUE(has_container(changes, *watcher, "default", "c2"));
}

TEST(RuntimeWatcher, ListsEverythingAgainWhenInotifyOverflows) {
  testing::TempDir dir;
  make_container(dir / "run/runc/c1");
  auto watcher = RuntimeWatcher::create(default_runtime_roots(dir.path()));
  ASSERT_TRUE(watcher.ok());
  // More events than the kernel queues (fs.inotify.max_queued_events):
  // files opened for writing and closed in a watched container directory,
  // alternating between two names so that the kernel cannot merge them
  // (nothing written: no disk traffic).
  int queued = 16384;
  std::ifstream("/proc/sys/fs/inotify/max_queued_events") >> queued;
  ASSERT_LT(queued, 1 << 20);
  const std::string names[2] = {(dir / "run/runc/c1/a").string(), (dir / "run/runc/c1/b").string()};
  for (int i = 0; i <= queued + 10; ++i) {
    int fd = ::open(names[i % 2].c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ::close(fd);
  }
  // What happens now is lost from the queue.
  make_container(dir / "run/runc/c2");
  fs::remove_all(dir / "run/runc/c1");
  auto changes = changes_within<RuntimeWatcher, RuntimeChange>(*watcher, 1000);
  bool c1_removed = false, c2_seen = false;
  for (const auto& c : changes) {
    c1_removed |= c.id == "c1" && c.removed;
    c2_seen |= c.id == "c2" && !c.removed;
  }
  EXPECT_TRUE(c1_removed);
  EXPECT_TRUE(c2_seen);
}

TEST(RuntimeWatcher, ReportsARootItCannotWatch) {
  testing::TempDir dir;
  // A file where runc's root directory belongs: at start...
  fs::create_directories(dir / "run");
  std::ofstream(dir / "run/runc") << "not a directory";
  auto watcher = RuntimeWatcher::create(default_runtime_roots(dir.path()));
  ASSERT_TRUE(watcher.ok());
  auto problems = watcher->problems();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].dir, dir / "run/runc");
  EXPECT_EQ(problems[0].id, "");
  EXPECT_NE(problems[0].message.find("cannot watch"), std::string::npos) << problems[0].message;

  // ... and later, reported as a change once.
  std::ofstream(dir / "run/crun") << "not a directory either";
  auto changes = changes_within<RuntimeWatcher, RuntimeChange>(*watcher, 1000);
  int reported = 0;
  for (const auto& c : changes)
    if (!c.problem.empty()) {
      ++reported;
      EXPECT_EQ(watcher->roots()[c.root].dir, dir / "run/crun");
      EXPECT_NE(c.problem.find("Not a directory"), std::string::npos) << c.problem;
    }
  EXPECT_EQ(reported, 1);
  EXPECT_EQ(watcher->problems().size(), 2u);

  // Fixed: the problem goes, the root is watched.
  fs::remove(dir / "run/crun");
  fs::create_directories(dir / "run/crun");
  make_container(dir / "run/crun/x1");
  changes = changes_within<RuntimeWatcher, RuntimeChange>(*watcher, 1000);
  bool seen = false;
  for (const auto& c : changes) seen |= c.id == "x1" && !c.removed;
  EXPECT_TRUE(seen);
  EXPECT_EQ(watcher->problems().size(), 1u);
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
