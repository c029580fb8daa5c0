#include "format/published_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <set>

#include "tests/support/file_bytes.h"
#include "tests/support/temp_dir.h"

namespace traceloop::format {
namespace {

using testing::TempDir;

TEST(PublishedFile, TemporaryNamesAreBesideTheDestinationAndNeverTheSame) {
  std::set<std::string> names;
  for (int i = 0; i < 100; ++i) {
    const auto temp = temp_path_for("/some/dir/out.tl");
    EXPECT_EQ(temp.parent_path(), "/some/dir");
    EXPECT_EQ(temp.filename().string().rfind("out.tl.tmp.", 0), 0u) << temp;
    names.insert(temp.string());
  }
  EXPECT_EQ(names.size(), 100u);
}

TEST(PublishedFile, AnExistingNameIsNeverOpenedNorFollowed) {
  TempDir dir;
  const auto victim = dir / "victim";
  traceloop::testing::write_file(victim, "precious");
  std::filesystem::create_symlink(victim, dir / "link");
  EXPECT_FALSE(create_exclusive(dir / "link", dir / "out", 0600).ok());
  EXPECT_FALSE(create_exclusive(victim, dir / "out", 0600).ok());
  EXPECT_EQ(traceloop::testing::read_file(victim), "precious");
}

TEST(PublishedFile, CopyHasTheModeAskedForWhateverTheUmask) {
  TempDir dir;
  traceloop::testing::write_file(dir / "from", std::string(200000, 'x'));
  const mode_t old = ::umask(0077);
  auto copied = publish_copy(dir / "from", dir / "to", 0640);
  ::umask(old);
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  EXPECT_EQ(traceloop::testing::read_file(dir / "to"), std::string(200000, 'x'));
  struct stat st {};
  ASSERT_EQ(::stat((dir / "to").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  // a missing source leaves nothing behind
  EXPECT_FALSE(publish_copy(dir / "missing", dir / "to2", 0600).ok());
  EXPECT_FALSE(std::filesystem::exists(dir / "to2"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()), 2);
}

}  // namespace
}  // namespace traceloop::format
