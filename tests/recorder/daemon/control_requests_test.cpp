#include "recorder/daemon/control_requests.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace traceloop::daemon {
namespace {

const std::string kDockerId = "3f1c9a2b7d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8";

TEST(ResolveContainerId, DockersTwelveCharactersNameTheContainer) {
  testing::TempDir dir;
  SavedHistories saved(dir.path());
  auto id = resolve_container_id(kDockerId.substr(0, 12), {kDockerId, "other"}, saved);
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(*id, kDockerId);
}

TEST(ResolveContainerId, SavedHistoriesToo) {
  testing::TempDir dir;
  SavedHistories saved(dir.path());
  Saved s;
  s.info.id = kDockerId;
  s.file = dir / (kDockerId + ".tl");
  saved.add(s);
  auto id = resolve_container_id("3f1c9a2b7d4e", {}, saved);
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(*id, kDockerId);
}

TEST(ResolveContainerId, AmbiguousAndUnknownFail) {
  testing::TempDir dir;
  SavedHistories saved(dir.path());
  auto ambiguous = resolve_container_id("3f", {kDockerId, "3fab"}, saved);
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_NE(ambiguous.error().message.find("ambiguous"), std::string::npos);
  EXPECT_FALSE(resolve_container_id("zz", {kDockerId}, saved).ok());
  // An exact id wins over the longer ids it begins.
  auto exact = resolve_container_id("3fab", {"3fab", "3fabc"}, saved);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(*exact, "3fab");
}

TEST(ListBody, ExitedHistoriesShowTheirEngineNamesAndProblemsComeLast) {
  testing::TempDir dir;
  SavedHistories saved(dir.path());
  Saved s;
  s.info.id = "ctr-c2";
  s.info.runtime = "containerd";
  s.info.runtime_namespace = "tltest";
  s.file = dir / "ctr-c2.tl";
  s.events = 12;
  saved.add(s);
  Saved live_too = s;
  live_too.info.id = "b-live";
  saved.add(live_too);
  std::vector<ListRow> live = {{"node1", "", "", "web", "b-live", "running", 5, "-"}};
  std::vector<Problem> problems = {{"zzz", "unreadable", "state.json: Permission denied"}};
  const std::string body = list_body(live, saved, problems, "node1");
  EXPECT_EQ(body,
            "node1\t-\t-\tweb\tb-live\trunning\t5\t-\n"
            "node1\ttltest\t-\tctr-c2\tctr-c2\texited\t12\t" + (dir / "ctr-c2.tl").string() + "\n"
            "node1\t-\t-\t-\tzzz\tunreadable\t0\tstate.json: Permission denied\n");
}

}  // namespace
}  // namespace traceloop::daemon
