#include "recorder/daemon/container_metadata.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace traceloop::daemon {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

std::string runc_state(const std::string& id, int pid, const std::string& bundle) {
  return R"({"id":")" + id + R"(","init_process_pid":)" + std::to_string(pid) +
         R"(,"config":{"labels":["io.kubernetes.pod.uid=u1","bundle=)" + bundle +
         R"("],"cgroups":{"path":"/traceloop-demo/)" + id + R"("}},"cgroup_paths":{}})";
}

TEST(ContainerMetadata, SanitizesIds) {
  EXPECT_EQ(sanitize_container_id("abc-123_x.y"), "abc-123_x.y");
  for (const char* bad : {"", ".", "..", "../etc", "a/b", "a b", "a\nb", "x;rm"})
    EXPECT_FALSE(sanitize_container_id(bad).has_value()) << bad;
  EXPECT_FALSE(sanitize_container_id(std::string(129, 'a')).has_value());
  EXPECT_TRUE(sanitize_container_id(std::string(128, 'a')).has_value());
}

TEST(ContainerMetadata, ReadsRuncStateAndBundleAnnotations) {
  testing::TempDir dir;
  fs::path bundle = dir / "bundle";
  write(bundle / "config.json", R"({"annotations":{"io.kubernetes.pod.name":"web-0",
      "io.kubernetes.pod.namespace":"shop","io.kubernetes.container.name":"nginx"}})");
  RuntimeRoot root{dir / "run/runc", "runc"};
  // Our own pid: its cgroup and mount namespace are real.
  write(root.dir / "c1/state.json", runc_state("c1", ::getpid(), bundle.string()));

  auto c = read_runtime_container(root, "c1");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->info.id, "c1");
  EXPECT_EQ(c->info.runtime, "runc");
  EXPECT_EQ(c->info.pod_name, "web-0");
  EXPECT_EQ(c->info.pod_namespace, "shop");
  EXPECT_EQ(c->info.container_name, "nginx");
  EXPECT_EQ(c->info.name, "nginx");
  EXPECT_EQ(c->init_pid, ::getpid());
  EXPECT_EQ(c->info.cgroup_path, *cgroup2_path_from_proc("/proc", ::getpid()));
  EXPECT_NE(c->info.mount_ns_id, 0u);
  bool has_uid = false;
  for (const auto& [k, v] : c->info.annotations) has_uid |= k == "io.kubernetes.pod.uid" && v == "u1";
  EXPECT_TRUE(has_uid);
}

TEST(ContainerMetadata, FallsBackToConfiguredCgroupWhenInitIsGone) {
  testing::TempDir dir;
  RuntimeRoot root{dir / "run/runc", "runc"};
  write(root.dir / "gone/state.json", runc_state("gone", 0, "/nonexistent"));
  auto c = read_runtime_container(root, "gone");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->info.cgroup_path, "/traceloop-demo/gone");
  EXPECT_EQ(c->info.pod_name, "");
}

TEST(ContainerMetadata, ContainerdAndCrioSpellings) {
  format::ContainerInfo containerd;
  containerd.annotations = {{"io.kubernetes.cri.sandbox-name", "p"},
                            {"io.kubernetes.cri.sandbox-namespace", "ns"},
                            {"io.kubernetes.cri.container-name", "c"}};
  apply_kubernetes_annotations(containerd);
  EXPECT_EQ(containerd.pod_name, "p");
  EXPECT_EQ(containerd.pod_namespace, "ns");
  EXPECT_EQ(containerd.container_name, "c");

  format::ContainerInfo crio;
  crio.annotations = {{"io.kubernetes.cri-o.Labels",
                       R"({"io.kubernetes.pod.name":"p2","io.kubernetes.pod.namespace":"ns2","io.kubernetes.container.name":"c2"})"}};
  apply_kubernetes_annotations(crio);
  EXPECT_EQ(crio.pod_name, "p2");
  EXPECT_EQ(crio.pod_namespace, "ns2");
  EXPECT_EQ(crio.container_name, "c2");
}

TEST(ContainerMetadata, HostileInputsAreRefusedOrContained) {
  testing::TempDir dir;
  RuntimeRoot root{dir / "run/runc", "runc"};
  EXPECT_FALSE(read_runtime_container(root, "../../etc").ok());
  // A huge config.json loses the annotations, not the container.
  fs::path bundle = dir / "huge";
  write(bundle / "config.json", "{\"annotations\":{\"x\":\"" + std::string(3u << 20, 'a') + "\"}}");
  write(root.dir / "big/state.json", runc_state("big", 0, bundle.string()));
  auto c = read_runtime_container(root, "big");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->info.annotations.size(), 1u);  // the label only
  // A relative or ".." bundle path is not followed.
  write(dir / "run/runc/rel/state.json", runc_state("rel", 0, "../huge"));
  EXPECT_TRUE(read_runtime_container(root, "rel").ok());
  // Malformed state.json: an error, no crash.
  write(root.dir / "bad/state.json", "{\"id\": [[[");
  EXPECT_FALSE(read_runtime_container(root, "bad").ok());
  // Control characters in annotation values are neutralised.
  write(dir / "ctl/config.json", R"({"annotations":{"io.kubernetes.pod.name":"a\u001b[2Jb"}})");
  write(root.dir / "ctl/state.json", runc_state("ctl", 0, (dir / "ctl").string()));
  auto ctl = read_runtime_container(root, "ctl");
  ASSERT_TRUE(ctl.ok());
  EXPECT_EQ(ctl->info.pod_name, "a?[2Jb");
}

TEST(ContainerMetadata, ScansRootsAndFindsContainerdNamespaces) {
  testing::TempDir dir;
  write(dir / "run/runc/a/state.json", runc_state("a", 0, "/x"));
  write(dir / "run/containerd/runc/k8s.io/b/state.json", runc_state("b", 0, "/x"));
  write(dir / "run/runc/bad id/state.json", runc_state("x", 0, "/x"));
  auto roots = default_runtime_roots(dir.path());
  auto found = scan_runtime_roots(roots);
  ASSERT_EQ(found.size(), 2u);
  std::vector<std::string> ids;
  for (auto& c : found) ids.push_back(c.info.id + "/" + c.info.runtime);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids[0], "a/runc");
  EXPECT_EQ(ids[1], "b/containerd");
}

}  // namespace
}  // namespace traceloop::daemon
