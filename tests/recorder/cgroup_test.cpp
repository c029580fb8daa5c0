#include "recorder/cgroup.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace traceloop::recorder {
namespace {

TEST(Cgroup, FindsUnifiedMountInHybridLayout) {
  const char* text =
      "25 30 0:23 / /sys rw,nosuid - sysfs sysfs rw\n"
      "40 31 0:37 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
  auto m = find_cgroup2_mount(text);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->string(), "/sys/fs/cgroup/unified");
}

TEST(Cgroup, HandlesOptionalFieldsAndEscapes) {
  const char* text = "41 31 0:38 / /sys/fs/my\\040cg rw shared:9 master:2 - cgroup2 none rw\n";
  auto m = find_cgroup2_mount(text);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->string(), "/sys/fs/my cg");
}

TEST(Cgroup, NoCgroup2) {
  EXPECT_FALSE(find_cgroup2_mount("40 31 0:37 / /sys/fs/cgroup/memory rw - cgroup cgroup rw\n").has_value());
  EXPECT_FALSE(find_cgroup2_mount("garbage line\n").has_value());
}

TEST(Cgroup, CreateAddRemove) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  auto mount = cgroup2_mount();
  ASSERT_TRUE(mount.ok()) << mount.error().message;
  std::filesystem::path dir;
  {
    auto cg = ScopedCgroup::create(*mount, "traceloop.unit-test-" + std::to_string(getpid()));
    ASSERT_TRUE(cg.ok()) << cg.error().message;
    dir = cg->dir();
    EXPECT_TRUE(std::filesystem::is_directory(dir));
    EXPECT_GT(cg->id(), 0u);
    EXPECT_EQ(cg->relative_path(), "/traceloop.unit-test-" + std::to_string(getpid()));
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(Cgroup, ForkIntoStartsTheChildInsideTheCgroup) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  auto mount = cgroup2_mount();
  ASSERT_TRUE(mount.ok()) << mount.error().message;
  auto cg = ScopedCgroup::create(*mount, "traceloop.fork-into-test-" + std::to_string(getpid()));
  ASSERT_TRUE(cg.ok()) << cg.error().message;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = cg->fork_into();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) {
    char byte = 0;
    ::close(ready[1]);
    (void)!::read(ready[0], &byte, 1);  // stays alive until the parent has looked
    _exit(0);
  }
  ::close(ready[0]);
  auto where = cgroup2_path_of(child);
  ::close(ready[1]);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(where.ok()) << where.error().message;
  EXPECT_EQ(*where, cg->relative_path());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace traceloop::recorder
