// The registry against a real BPF recorder: its traced set always holds
// exactly the registry's cgroups.
#include "recorder/daemon/container_registry.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "recorder/recording_setup.h"
#include "tests/recorder/daemon/daemon_test_env.h"

namespace traceloop::daemon {
namespace {

class ContainerRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto& catalogue = format::builtin_catalogue(format::host_arch());
    auto options = recorder::bpf_options_for(catalogue, recorder::CaptureChoice{});
    ASSERT_TRUE(options.ok()) << options.error().message;
    options->filter_cgroups = true;
    options->ring_bytes = 1u << 20;
    auto bpf = ::geteuid() == 0 ? recorder::BpfRecorder::start(*options) : Error{"not root"};
    if (!bpf.ok()) {
      if (test_env::bpf_required()) FAIL() << bpf.error().message;
      GTEST_SKIP() << bpf.error().message;
    }
    bpf_ = std::move(bpf.value());
    registry_.emplace(*bpf_, catalogue);
  }
  FlightBufferOptions budget() const {
    FlightBufferOptions b;
    b.budget_bytes = 1u << 20;
    return b;
  }

  std::unique_ptr<recorder::BpfRecorder> bpf_;
  std::optional<ContainerRegistry> registry_;
};

TEST_F(ContainerRegistryTest, EntriesAreFoundEveryWayAndForgottenWhole) {
  Tracked* a = registry_->track("/pods/a", 1001, budget());
  Tracked* b = registry_->track("/pods/b", 1002, budget());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a->index, b->index);
  EXPECT_EQ(registry_->track("/pods/a", 1001, budget()), a) << "a cgroup is tracked once";
  EXPECT_EQ(registry_->track("/pods/zero", 0, budget()), nullptr) << "no cgroup id, nothing to trace";
  EXPECT_EQ(registry_->by_cgroup(1002), b);
  EXPECT_EQ(registry_->by_path("/pods/a"), a);
  EXPECT_EQ(registry_->by_index(b->index), b);
  EXPECT_EQ(registry_->by_index(kNoContainer), nullptr);
  EXPECT_EQ(registry_->index_of_cgroup(1001), a->index);
  EXPECT_EQ(registry_->index_of_cgroup(999), kNoContainer) << "no host entry: the event belongs to no one";
  EXPECT_EQ(registry_->by_id("a-id"), nullptr) << "not identified yet";
  a->identified = true;
  a->info.id = "a-id";
  EXPECT_EQ(registry_->by_id("a-id"), a);
  EXPECT_EQ(registry_->traced_cgroups(), 2u);
  EXPECT_EQ(registry_->buffers().size(), 2u);

  registry_->forget(a);
  EXPECT_EQ(registry_->by_cgroup(1001), nullptr);
  EXPECT_EQ(registry_->by_path("/pods/a"), nullptr);
  EXPECT_EQ(registry_->by_id("a-id"), nullptr);
  EXPECT_EQ(registry_->traced_cgroups(), 1u);
  EXPECT_EQ(registry_->buffers().size(), 1u);
  EXPECT_EQ(registry_->buffers().front(), &b->buffer);
  // Untraced on the BPF side too: tracing it again works as the first time.
  Tracked* again = registry_->track("/pods/a", 1001, budget());
  ASSERT_NE(again, nullptr);
  EXPECT_NE(again->index, b->index);
}

TEST_F(ContainerRegistryTest, TheHostEntryTakesEveryOtherCgroup) {
  Tracked* host = registry_->add_host(budget());
  ASSERT_NE(host, nullptr);
  EXPECT_TRUE(host->host);
  EXPECT_TRUE(host->identified);
  Tracked* c = registry_->track("/pods/c", 2001, budget());
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(registry_->index_of_cgroup(2001), c->index);
  EXPECT_EQ(registry_->index_of_cgroup(42), host->index);
  EXPECT_EQ(registry_->traced_cgroups(), 1u) << "the host entry has no cgroup";
  registry_->forget(host);
  EXPECT_EQ(registry_->index_of_cgroup(42), kNoContainer);
}

}  // namespace
}  // namespace traceloop::daemon
