#include "recorder/daemon/trace_dir.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "tests/support/temp_dir.h"

namespace traceloop::daemon {
namespace {

namespace fs = std::filesystem;

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

TEST(TraceDir, ANewDirectoryIsMadePrivate) {
  testing::TempDir dir;
  auto r = prepare_trace_dir(dir / "a" / "b");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(mode_of(dir / "a" / "b"), 0700u);
}

TEST(TraceDir, AnExistingSafeDirectoryIsUsedAsItIs) {
  testing::TempDir dir;
  fs::create_directory(dir / "d");
  ASSERT_EQ(::chmod((dir / "d").c_str(), 0755), 0);
  auto r = prepare_trace_dir(dir / "d");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(mode_of(dir / "d"), 0755u);  // never chmodded: the traces themselves are 0600
  EXPECT_TRUE(fs::is_empty(dir / "d"));  // the write probe leaves nothing
}

TEST(TraceDir, ASharedDirectoryIsRefusedAndLeftAlone) {
  testing::TempDir dir;
  fs::create_directory(dir / "shared");
  ASSERT_EQ(::chmod((dir / "shared").c_str(), 01777), 0);
  auto r = prepare_trace_dir(dir / "shared");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("writable by others"), std::string::npos) << r.error().message;
  EXPECT_EQ(mode_of(dir / "shared"), 01777u);
}

TEST(TraceDir, NotADirectoryIsRefused) {
  testing::TempDir dir;
  std::ofstream(dir / "file") << "x";
  auto r = prepare_trace_dir(dir / "file");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not a directory"), std::string::npos) << r.error().message;
}

TEST(TraceDir, AReadOnlyDirectoryIsRefusedAtStart) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (mount)";
  testing::TempDir dir;
  fs::create_directory(dir / "ro");
  ASSERT_EQ(::mount("tmpfs", (dir / "ro").c_str(), "tmpfs", MS_RDONLY, "mode=0700"), 0) << std::strerror(errno);
  auto r = prepare_trace_dir(dir / "ro");
  ::umount2((dir / "ro").c_str(), MNT_DETACH);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("Read-only file system"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace traceloop::daemon
