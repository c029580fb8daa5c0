#include "recorder/daemon/cgroup_inspection.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace traceloop::daemon {
namespace {

namespace fs = std::filesystem;

const std::string kId = "3f1c9a2b7d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8";

TEST(IdFromCgroupPath, EngineIdsAreFound) {
  EXPECT_EQ(id_from_cgroup_path("/system.slice/docker-" + kId + ".scope"), kId);
  EXPECT_EQ(id_from_cgroup_path("/docker/" + kId), kId);
  EXPECT_EQ(id_from_cgroup_path("/kubepods/besteffort/pod1234/cri-containerd-" + kId + ".scope/"), kId);
}

TEST(IdFromCgroupPath, OtherNamesAreMadeSafe) {
  EXPECT_EQ(id_from_cgroup_path("/machine/my box;rm -rf"), "my_box_rm_-rf");
  EXPECT_EQ(id_from_cgroup_path("/a/.."), "cgroup");
  EXPECT_NE(id_from_cgroup_path("/"), "");
  EXPECT_EQ(id_from_cgroup_path(""), "cgroup");
  EXPECT_LE(id_from_cgroup_path("/" + std::string(500, 'x')).size(), 128u);
}

TEST(MayHoldAContainer, SystemdUnitsOtherThanScopesDoNot) {
  EXPECT_FALSE(may_hold_a_container("/system.slice/systemd-timesyncd.service"));
  EXPECT_FALSE(may_hold_a_container("/system.slice/"));
  EXPECT_FALSE(may_hold_a_container("/system.slice/tmp.mount"));
  EXPECT_TRUE(may_hold_a_container("/system.slice/docker-" + kId + ".scope"));
  EXPECT_TRUE(may_hold_a_container("/traceloop-demo/box-1"));
}

// Our own processes share our mount namespace: never a container.
TEST(FirstForeignMountNs, OwnNamespaceIsNotForeign) {
  testing::TempDir dir;
  struct stat st {};
  ASSERT_EQ(::stat("/proc/self/ns/mnt", &st), 0);
  std::ofstream(dir / "cgroup.procs") << ::getpid() << "\n";
  EXPECT_EQ(first_foreign_mount_ns(dir.path(), st.st_ino), 0u);
  // Another namespace (any other inode stands for it) is.
  EXPECT_EQ(first_foreign_mount_ns(dir.path(), st.st_ino + 1), st.st_ino);
}

TEST(FirstForeignMountNs, MissingOrGarbageProcsAreNoContainer) {
  testing::TempDir dir;
  EXPECT_EQ(first_foreign_mount_ns(dir.path(), 1), 0u);
  std::ofstream(dir / "cgroup.procs") << "-1\nnot-a-pid\n";
  EXPECT_EQ(first_foreign_mount_ns(dir.path(), 1), 0u);
}

}  // namespace
}  // namespace traceloop::daemon
