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

TEST(ParseSelect, WhatChangesAndWhatStays) {
  auto nothing = parse_select({});
  ASSERT_TRUE(nothing.ok());
  EXPECT_FALSE(nothing->selection.has_value());
  EXPECT_FALSE(nothing->syscalls.has_value());

  auto both = parse_select({"container=web", "label=app=demo", "syscalls=openat,write"});
  ASSERT_TRUE(both.ok()) << both.error().message;
  ASSERT_TRUE(both->selection.has_value());
  EXPECT_EQ(both->selection->containers, std::vector<std::string>{"web"});
  EXPECT_EQ(both->selection->labels.size(), 1u);
  EXPECT_EQ(*both->syscalls, (std::vector<std::string>{"openat", "write"}));

  auto every = parse_select({"every", "syscalls=all"});
  ASSERT_TRUE(every.ok());
  ASSERT_TRUE(every->selection.has_value());
  EXPECT_TRUE(every->selection->empty());
  ASSERT_TRUE(every->syscalls.has_value());
  EXPECT_TRUE(every->syscalls->empty()) << "all: no filter";
}

TEST(ParseSelect, ContradictionsAndEmptyListsAreRefused) {
  EXPECT_FALSE(parse_select({"every", "container=web"}).ok());
  EXPECT_FALSE(parse_select({"syscalls="}).ok());
  EXPECT_FALSE(parse_select({"syscalls=,,"}).ok());
  EXPECT_FALSE(parse_select({"colour=red"}).ok());
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
