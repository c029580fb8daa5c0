#include "recorder/daemon/container_metadata.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "recorder/daemon/containerd_store.h"
#include "recorder/daemon/docker_config.h"
#include "tests/support/temp_dir.h"

namespace traceloop::daemon {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

const fs::path kEngines = fs::path(TRACELOOP_TEST_SOURCE_DIR) / "testdata/engines";

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) text.replace(at, from.size(), to);
  return text;
}

// A fixture recorded from a real engine, its paths moved below `root` and its
// dead init pid cleared (the pid may belong to anything on this machine).
void install(const std::string& fixture, const fs::path& dest, const fs::path& root) {
  std::string text = replace_all(read_text(kEngines / fixture), "@ROOT@", root.string());
  for (const char* pid : {"\"init_process_pid\":8209", "\"init_process_pid\":8845"})
    text = replace_all(text, pid, "\"init_process_pid\":0");
  write(dest, text);
}

void copy_binary(const fs::path& from, const fs::path& to) {
  fs::create_directories(to.parent_path());
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

std::string label(const format::ContainerInfo& info, const std::string& key) {
  for (const auto& [k, v] : info.labels)
    if (k == key) return v;
  return "<none>";
}

std::string warnings_of(const RuntimeContainer& c) {
  std::string all;
  for (const auto& w : c.warnings) all += w + "\n";
  return all;
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

constexpr const char* kDockerId = "1e1f89f4c0ef6f48066fd5d612b2a9eadbd31fe50d1424c89c65088f8aba3c74";

// A Docker container as dockerd 20.10 left it: runc state in the exec root
// (<T>/exec), the bundle in its managed containerd's state, config.v2.json
// in the data root <T>/data; `runc_root` is where the state is put.
fs::path install_docker(const fs::path& t, const fs::path& runc_root) {
  const std::string id = kDockerId;
  install("docker/state.json", runc_root / id / "state.json", t);
  fs::path bundle = t / "exec/containerd/daemon/io.containerd.runtime.v2.task/moby" / id;
  install("docker/bundle-config.json", bundle / "config.json", t);
  install("docker/config.v2.json", t / "data/containers" / id / "config.v2.json", t);
  return bundle;
}

RuntimeRoot root_of(const fs::path& prefix, const std::string& runtime, const std::string& ns) {
  for (const auto& r : default_runtime_roots(prefix))
    if (r.runtime == runtime && r.namespaces) return namespace_root(r, ns);
  ADD_FAILURE() << "no namespace root for " << runtime;
  return {};
}

TEST(DockerMetadata, IdentifiesARealDockerContainer) {
  testing::TempDir t;
  RuntimeRoot root = root_of(t.path(), "docker", "moby");
  EXPECT_EQ(root.dir, t / "run/docker/runtime-runc/moby");
  install_docker(t.path(), root.dir);
  auto c = read_runtime_container(root, kDockerId);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(warnings_of(*c), "");
  EXPECT_EQ(c->info.runtime, "docker");
  EXPECT_EQ(c->info.runtime_namespace, "moby");
  EXPECT_EQ(c->info.name, "my-web-1");
  EXPECT_EQ(c->info.container_name, "my-web-1");
  EXPECT_EQ(c->info.image, "bb:local");
  EXPECT_EQ(c->info.labels, (std::vector<std::pair<std::string, std::string>>{{"app", "demo"}, {"tier", "front end"}}));
  EXPECT_EQ(c->info.pod_name, "");
  EXPECT_EQ(c->info.cgroup_path, std::string("/docker/") + kDockerId);
  // Scanning the default roots finds the namespace and the same container.
  auto found = scan_runtime_roots(default_runtime_roots(t.path()));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].info, c->info);
}

TEST(DockerMetadata, DockerThroughContainerdIsStillDocker) {
  testing::TempDir t;
  // Docker run by a containerd whose runc root is containerd's own.
  RuntimeRoot root = root_of(t.path(), "containerd", "moby");
  fs::path bundle = install_docker(t.path(), root.dir);
  auto c = read_runtime_container(root, kDockerId);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(warnings_of(*c), "");
  EXPECT_EQ(c->info.runtime, "docker");
  EXPECT_EQ(c->info.name, "my-web-1");
  EXPECT_EQ(c->info.image, "bb:local");

  // A bundle without the hostname mount: Docker's default data root.
  write(bundle / "config.json", R"({"ociVersion":"1.0.2","mounts":[]})");
  fs::create_directories(t / "var/lib/docker/containers");
  fs::rename(t / "data/containers" / kDockerId, t / "var/lib/docker/containers" / kDockerId);
  c = read_runtime_container(root, kDockerId);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->info.runtime, "docker");
  EXPECT_EQ(c->info.image, "bb:local");

  // No Docker config anywhere: containerd's store (the one Docker's own
  // containerd wrote, found in the default root) still says Docker.
  fs::remove_all(t / "var/lib/docker");
  copy_binary(kEngines / "docker/moby-meta.db", t / "var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db");
  c = read_runtime_container(root, kDockerId);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->info.runtime, "docker");
  EXPECT_NE(warnings_of(*c).find("without a readable Docker config"), std::string::npos) << warnings_of(*c);
}

TEST(DockerMetadata, FindsTheDataRootOnlyFromAPlainHostnameMount) {
  const std::string id = "abc";
  auto root_for = [&](const std::string& source) {
    auto cfg = parse_json(R"({"mounts":[{"destination":"/etc/hosts","source":"/x/containers/abc/hosts"},)"
                          R"({"destination":"/etc/hostname","source":")" + source + R"("}]})");
    EXPECT_TRUE(cfg.ok());
    return docker_data_root_from_bundle(*cfg, id);
  };
  EXPECT_EQ(root_for("/var/lib/docker/containers/abc/hostname"), fs::path("/var/lib/docker"));
  EXPECT_EQ(root_for("/srv//docker/containers/abc/hostname"), fs::path("/srv/docker"));
  for (const char* bad : {"var/lib/docker/containers/abc/hostname", "/var/lib/docker/containers/abd/hostname",
                          "/var/lib/docker/containers/abc/hosts", "/var/lib/../../etc/containers/abc/hostname",
                          "/var/./lib/containers/abc/hostname", "/var/lib/docker/containers/abc/hostname/..",
                          "/containers/abc/hostname/x", "", "/"})
    EXPECT_FALSE(root_for(bad).has_value()) << bad;
  auto no_mounts = parse_json(R"({"mounts":"x"})");
  EXPECT_FALSE(docker_data_root_from_bundle(*no_mounts, id).has_value());
}

TEST(DockerMetadata, HostileDockerConfigsAreRefusedOrContained) {
  testing::TempDir t;
  RuntimeRoot root = root_of(t.path(), "docker", "moby");
  install_docker(t.path(), root.dir);
  const fs::path config = t / "data/containers" / kDockerId / "config.v2.json";
  auto read = [&] {
    auto c = read_runtime_container(root, kDockerId);
    EXPECT_TRUE(c.ok());  // the container stays known whatever its config holds
    return c.ok() ? c.value() : RuntimeContainer{};
  };
  // Control characters, a long name, a flood of labels: bounded and neutral.
  std::string labels;
  for (int i = 0; i < 1000; ++i) labels += (i ? "," : "") + std::string("\"l") + std::to_string(i) + "\":\"v\"";
  write(config, std::string(R"({"ID":")") + kDockerId + R"(","Name":"/evil\u001b[2J)" + std::string(1000, 'n') +
                    R"(","Config":{"Image":"img\nx","Labels":{)" + labels + "}}}");
  RuntimeContainer c = read();
  EXPECT_EQ(c.info.runtime, "docker");
  EXPECT_EQ(c.info.name.substr(0, 9), "evil?[2Jn");
  EXPECT_EQ(c.info.name.size(), 256u);
  EXPECT_EQ(c.info.image, "img?x");
  EXPECT_EQ(c.info.labels.size(), 256u);

  // Another container's config: not taken.
  write(config, R"({"ID":"other","Name":"/impostor","Config":{"Image":"i"}})");
  c = read();
  EXPECT_EQ(c.info.runtime, "docker");
  EXPECT_EQ(c.info.name, kDockerId);
  EXPECT_EQ(c.info.image, "");
  EXPECT_NE(warnings_of(c).find("is not the config of container"), std::string::npos) << warnings_of(c);

  // Too big, malformed, or a symlink: a warning, never the content.
  write(config, std::string(R"({"ID":")") + kDockerId + R"(","Name":"/)" + std::string(5u << 20, 'a') + "\"}");
  c = read();
  EXPECT_NE(warnings_of(c).find("exceeds the limit"), std::string::npos) << warnings_of(c);
  write(config, "{\"ID\":[[[[");
  c = read();
  EXPECT_NE(warnings_of(c).find("malformed JSON"), std::string::npos) << warnings_of(c);
  write(t / "elsewhere.json", std::string(R"({"ID":")") + kDockerId + R"(","Name":"/via-link"})");
  fs::remove(config);
  fs::create_symlink(t / "elsewhere.json", config);
  c = read();
  EXPECT_EQ(c.info.name, kDockerId);
  EXPECT_FALSE(c.warnings.empty());

  // A hostname mount with path tricks is not followed: Docker's default
  // data root is read instead.
  fs::path bundle = t / "exec/containerd/daemon/io.containerd.runtime.v2.task/moby" / kDockerId;
  write(bundle / "config.json", R"({"mounts":[{"destination":"/etc/hostname","source":")" + (t / "data").string() +
                                    "/../data/containers/" + kDockerId + R"(/hostname"}]})");
  write(t / "var/lib/docker/containers" / kDockerId / "config.v2.json",
        std::string(R"({"ID":")") + kDockerId + R"(","Name":"/from-default"})");
  c = read();
  EXPECT_EQ(c.info.name, "from-default");
}

TEST(DockerMetadata, DockershimKubernetesLabelsWinOverDockersName) {
  testing::TempDir t;
  RuntimeRoot root = root_of(t.path(), "docker", "moby");
  install_docker(t.path(), root.dir);
  write(t / "data/containers" / kDockerId / "config.v2.json",
        std::string(R"({"ID":")") + kDockerId +
            R"(","Name":"/k8s_web_shop-0_prod_uid_0","Config":{"Image":"nginx:1","Labels":{)"
            R"("io.kubernetes.pod.name":"shop-0","io.kubernetes.pod.namespace":"prod",)"
            R"("io.kubernetes.container.name":"web"}}})");
  auto c = read_runtime_container(root, kDockerId);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->info.runtime, "docker");
  EXPECT_EQ(c->info.pod_name, "shop-0");
  EXPECT_EQ(c->info.pod_namespace, "prod");
  EXPECT_EQ(c->info.container_name, "web");
  EXPECT_EQ(c->info.name, "web");
  EXPECT_EQ(c->info.image, "nginx:1");
}

// A container started with `ctr run --label app=ctrdemo --label team=core`:
// runc state in /run/containerd/runc/tltest, the task bundle in the state
// dir <T>/state with its `work` link into the root <T>/root.
fs::path install_containerd(const fs::path& t, bool work_link = true) {
  RuntimeRoot root = root_of(t, "containerd", "tltest");
  install("containerd/state.json", root.dir / "ctr1/state.json", t);
  fs::path bundle = t / "state/io.containerd.runtime.v2.task/tltest/ctr1";
  install("containerd/bundle-config.json", bundle / "config.json", t);
  if (work_link) {
    fs::create_directories(t / "root/io.containerd.runtime.v2.task/tltest/ctr1");
    fs::create_symlink(t / "root/io.containerd.runtime.v2.task/tltest/ctr1", bundle / "work");
    copy_binary(kEngines / "containerd/meta.db", t / "root/io.containerd.metadata.v1.bolt/meta.db");
  }
  return bundle;
}

TEST(ContainerdMetadata, IdentifiesARealContainerdContainer) {
  testing::TempDir t;
  fs::path bundle = install_containerd(t.path());
  EXPECT_EQ(containerd_root_from_bundle(bundle, "tltest", "ctr1"), t / "root");
  auto found = scan_runtime_roots(default_runtime_roots(t.path()));
  ASSERT_EQ(found.size(), 1u);
  const RuntimeContainer& c = found[0];
  EXPECT_EQ(warnings_of(c), "");
  EXPECT_EQ(c.info.id, "ctr1");
  EXPECT_EQ(c.info.name, "ctr1");
  EXPECT_EQ(c.info.runtime, "containerd");
  EXPECT_EQ(c.info.runtime_namespace, "tltest");
  EXPECT_EQ(c.info.image, "docker.io/library/bb:local");
  EXPECT_EQ(label(c.info, "app"), "ctrdemo");
  EXPECT_EQ(label(c.info, "team"), "core");
  EXPECT_EQ(c.info.cgroup_path, "/tltest/ctr1");
}

TEST(ContainerdMetadata, FallsBackToTheDefaultRootAndSaysWhatIsMissing) {
  testing::TempDir t;
  fs::path bundle = install_containerd(t.path(), false);
  RuntimeRoot root = root_of(t.path(), "containerd", "tltest");
  // No store anywhere: the container, and a warning naming the store.
  auto c = read_runtime_container(root, "ctr1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->info.image, "");
  EXPECT_NE(warnings_of(*c).find("var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db"), std::string::npos)
      << warnings_of(*c);
  // The default root.
  copy_binary(kEngines / "containerd/meta.db", t / "var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db");
  c = read_runtime_container(root, "ctr1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(warnings_of(*c), "");
  EXPECT_EQ(c->info.image, "docker.io/library/bb:local");
  // `work` links that are not plain are not followed.
  for (std::string target : {std::string("relative/io.containerd.runtime.v2.task/tltest/ctr1"),
                             (t / "x/io.containerd.runtime.v2.task/tltest/other").string(),
                             (t / "x/../x/io.containerd.runtime.v2.task/tltest/ctr1").string()}) {
    fs::remove(bundle / "work");
    fs::create_symlink(target, bundle / "work");
    EXPECT_FALSE(containerd_root_from_bundle(bundle, "tltest", "ctr1").has_value()) << target;
  }
  EXPECT_FALSE(containerd_root_from_bundle(bundle, "other-ns", "ctr1").has_value());
  // A container the store does not know, a damaged store.
  write(root.dir / "ghost/state.json", R"({"id":"ghost","init_process_pid":0})");
  auto ghost = read_runtime_container(root, "ghost");
  ASSERT_TRUE(ghost.ok());
  EXPECT_NE(warnings_of(*ghost).find("is not in containerd's store"), std::string::npos) << warnings_of(*ghost);
  write(t / "var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db", std::string(20000, '\x01'));
  c = read_runtime_container(root, "ctr1");
  ASSERT_TRUE(c.ok());
  EXPECT_NE(warnings_of(*c).find("no valid meta page"), std::string::npos) << warnings_of(*c);
}

// A container that ended before its runtime state was read: what its
// engine still keeps of it names it (Docker's config until `docker rm`,
// containerd's store), found in the default data roots.
TEST(ContainerMetadata, AVanishedContainerIsNamedFromItsEnginesRecord) {
  testing::TempDir t;
  // Docker: its config in the default data root; runc's state already gone.
  const RuntimeRoot docker = root_of(t.path(), "docker", "moby");
  install("docker/config.v2.json", t / "var/lib/docker/containers" / kDockerId / "config.v2.json", t.path());
  RuntimeContainer c = read_vanished_container(docker, kDockerId);
  EXPECT_EQ(warnings_of(c), "");
  EXPECT_EQ(c.info.id, kDockerId);
  EXPECT_EQ(c.info.runtime, "docker");
  EXPECT_EQ(c.info.runtime_namespace, "moby");
  EXPECT_EQ(c.info.name, "my-web-1");
  EXPECT_EQ(c.info.image, "bb:local");
  EXPECT_EQ(label(c.info, "app"), "demo");
  EXPECT_EQ(c.init_pid, 0);
  EXPECT_EQ(c.info.cgroup_path, "");  // the daemon knows it from the cgroup that ended

  // containerd: its store in the default root.
  const RuntimeRoot containerd = root_of(t.path(), "containerd", "tltest");
  c = read_vanished_container(containerd, "ctr1");
  EXPECT_EQ(c.info.image, "");
  EXPECT_NE(warnings_of(c).find("meta.db"), std::string::npos) << warnings_of(c);
  copy_binary(kEngines / "containerd/meta.db", t / "var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db");
  c = read_vanished_container(containerd, "ctr1");
  EXPECT_EQ(warnings_of(c), "");
  EXPECT_EQ(c.info.runtime, "containerd");
  EXPECT_EQ(c.info.image, "docker.io/library/bb:local");
  EXPECT_EQ(label(c.info, "team"), "core");
  c = read_vanished_container(containerd, "gone-for-good");
  EXPECT_EQ(c.info.image, "");
  EXPECT_NE(warnings_of(c).find("is not in containerd's store"), std::string::npos) << warnings_of(c);

  // Plain runc keeps nothing once the state is gone: the id, the runtime.
  RuntimeRoot runc;
  for (const auto& r : default_runtime_roots(t.path()))
    if (r.runtime == "runc" && !r.namespaces) runc = r;
  c = read_vanished_container(runc, "short-1");
  EXPECT_EQ(warnings_of(c), "");
  EXPECT_EQ(c.info.id, "short-1");
  EXPECT_EQ(c.info.name, "short-1");
  EXPECT_EQ(c.info.runtime, "runc");
  EXPECT_EQ(c.info.image, "");

  // An id that is no file name is looked for nowhere.
  c = read_vanished_container(docker, "../../etc");
  EXPECT_EQ(warnings_of(c), "");
  EXPECT_EQ(c.info.image, "");
}

TEST(ContainerMetadata, ScanSaysWhichContainersItCouldNotRead) {
  testing::TempDir t;
  write(t / "run/runc/good/state.json", runc_state("good", 0, "/x"));
  write(t / "run/runc/bad/state.json", "{\"id\": [[[");
  fs::create_directories(t / "run/runc/creating");  // no state.json yet: not a problem
  write(t / "run/containerd/runc", "a file where containerd's namespaces belong");
  std::vector<RuntimeProblem> problems;
  auto found = scan_runtime_roots(default_runtime_roots(t.path()), "/proc", &problems);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].info.id, "good");
  ASSERT_EQ(problems.size(), 2u);
  std::sort(problems.begin(), problems.end(), [](const auto& a, const auto& b) { return a.dir < b.dir; });
  EXPECT_EQ(problems[0].dir, t / "run/containerd/runc");
  EXPECT_EQ(problems[0].id, "");
  EXPECT_NE(problems[0].message.find("cannot list"), std::string::npos) << problems[0].message;
  EXPECT_EQ(problems[1].id, "bad");
  EXPECT_EQ(problems[1].dir, t / "run/runc/bad");
  EXPECT_NE(problems[1].message.find("malformed JSON"), std::string::npos) << problems[1].message;
  // A bundle that cannot be read is said too, and the container still found.
  EXPECT_NE(warnings_of(found[0]).find("bundle config"), std::string::npos);
}

}  // namespace
}  // namespace traceloop::daemon
