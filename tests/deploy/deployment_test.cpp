// The deployment for real, as far as this machine allows: the container image
// built by deploy/image/build.sh, run under a real dockerd exactly as
// deploy/kubernetes/traceloop.yaml runs it on a node (same privileges, host
// paths, environment and command, translated by tests/deploy/manifest.py),
// records another Docker container; kubectl-traceloop hands its trace out
// through `kubectl exec`, with a kubectl on PATH that runs exec against the
// Docker container standing for the pod (tests/deploy/fake-kubectl: no
// Kubernetes cluster can run here). A second container that shares only the
// control socket reads traces through it: the bytes cross the socket, not a
// filesystem. The manifests are validated by kubectl, offline; the systemd
// unit by systemd-analyze and by running its command line.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <thread>

#include "format/trace_reader.h"
#include "tests/recorder/daemon/daemon_test_env.h"
#include "tests/recorder/daemon/trace_checks.h"
#include "tests/support/container_engines.h"
#include "tests/support/temp_dir.h"

namespace traceloop::deploy {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using daemon::test_env::bpf_required;
using daemon::test_env::wait_for;
using testing::CommandResult;
using testing::DockerEngine;
using testing::run_command;

const fs::path kSource = TRACELOOP_TEST_SOURCE_DIR;
const fs::path kBuild = TRACELOOP_TEST_BINARY_DIR;
constexpr const char* kImage = "traceloop:deploy-test";
constexpr const char* kPod = "traceloop-node-pod";
constexpr const char* kNode = "test-node-1";

// The capabilities this machine's root may not hold, by their names in
// <linux/capability.h> (as Docker names them, without CAP_).
#define TL_CAPABILITY(name) {CAP_##name, #name}
const std::pair<int, const char*> kCapabilities[] = {
    TL_CAPABILITY(CHOWN), TL_CAPABILITY(DAC_OVERRIDE), TL_CAPABILITY(DAC_READ_SEARCH), TL_CAPABILITY(FOWNER),
    TL_CAPABILITY(FSETID), TL_CAPABILITY(KILL), TL_CAPABILITY(SETGID), TL_CAPABILITY(SETUID),
    TL_CAPABILITY(SETPCAP), TL_CAPABILITY(LINUX_IMMUTABLE), TL_CAPABILITY(NET_BIND_SERVICE),
    TL_CAPABILITY(NET_BROADCAST), TL_CAPABILITY(NET_ADMIN), TL_CAPABILITY(NET_RAW), TL_CAPABILITY(IPC_LOCK),
    TL_CAPABILITY(IPC_OWNER), TL_CAPABILITY(SYS_MODULE), TL_CAPABILITY(SYS_RAWIO), TL_CAPABILITY(SYS_CHROOT),
    TL_CAPABILITY(SYS_PTRACE), TL_CAPABILITY(SYS_PACCT), TL_CAPABILITY(SYS_ADMIN), TL_CAPABILITY(SYS_BOOT),
    TL_CAPABILITY(SYS_NICE), TL_CAPABILITY(SYS_RESOURCE), TL_CAPABILITY(SYS_TIME), TL_CAPABILITY(SYS_TTY_CONFIG),
    TL_CAPABILITY(MKNOD), TL_CAPABILITY(LEASE), TL_CAPABILITY(AUDIT_WRITE), TL_CAPABILITY(AUDIT_CONTROL),
    TL_CAPABILITY(SETFCAP), TL_CAPABILITY(MAC_OVERRIDE), TL_CAPABILITY(MAC_ADMIN), TL_CAPABILITY(SYSLOG),
    TL_CAPABILITY(WAKE_ALARM), TL_CAPABILITY(BLOCK_SUSPEND), TL_CAPABILITY(AUDIT_READ), TL_CAPABILITY(PERFMON),
    TL_CAPABILITY(BPF), TL_CAPABILITY(CHECKPOINT_RESTORE)};
#undef TL_CAPABILITY

// Those missing from this process's bounding set.
std::vector<std::string> capabilities_missing() {
  std::ifstream status("/proc/self/status");
  uint64_t bounding = ~0ull;
  for (std::string line; std::getline(status, line);)
    if (line.rfind("CapBnd:", 0) == 0) bounding = std::stoull(line.substr(7), nullptr, 16);
  std::vector<std::string> missing;
  for (const auto& [bit, name] : kCapabilities)
    if ((bounding & (1ull << bit)) == 0) missing.push_back(name);
  return missing;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// One engine, one image and one recorder pod for the suite: each costs seconds.
class DeploymentTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    auto engine = DockerEngine::start(kSource);
    if (!engine.ok()) {
      setup_error_ = "dockerd: " + engine.error().message;
      return;
    }
    engine_ = std::move(engine.value()).release();
    traces_ = new testing::TempDir();
    docker_ = "/usr/bin/docker -H unix://" + (engine_->root() / "run/docker.sock").string();

    // The image, as a user builds it.
    auto built = run_command({"/usr/bin/env", "DOCKER=" + docker_, "/bin/bash",
                              (kSource / "deploy/image/build.sh").string(), "-t", kImage, kBuild.string()},
                             180s);
    if (!built.ok()) {
      setup_error_ = "deploy/image/build.sh: " + built.output;
      return;
    }
    // The pod, as the DaemonSet makes it on a node. The engine's host paths
    // live below its directory; /sys is the real kernel's; the trace
    // directory is the test's. The engine's directory is also mounted at
    // its own path under --host-root: its records name host paths below it
    // (bundles, data root), where a real node's name /run and /var/lib.
    auto args = run_command({"/usr/bin/python3", (kSource / "tests/deploy/manifest.py").string(), "docker-args",
                             (kSource / "deploy/kubernetes/traceloop.yaml").string(), "--host-prefix",
                             engine_->root().string(), "--keep", "/sys", "--map",
                             "/var/lib/traceloop=" + traces_->path().string(), "--env",
                             std::string("spec.nodeName=") + kNode});
    if (!args.ok()) {
      setup_error_ = "manifest.py docker-args: " + args.output;
      return;
    }
    // mountPropagation HostToContainer (rslave) needs a shared host mount, as
    // / is on a systemd node: the engine's directory is made one.
    const std::string root = engine_->root().string();
    if (!run_command({"/bin/mount", "--rbind", root, root}).ok() ||
        !run_command({"/bin/mount", "--make-rshared", root}).ok()) {
      setup_error_ = "cannot make " + root + " a shared mount";
      return;
    }
    std::vector<std::string> run = {"run", "-d", "--name", kPod, "-v",
                                    engine_->root().string() + ":/host" + engine_->root().string() + ":ro,rslave"};
    std::vector<std::string> translated;
    for (auto& a : lines_of(args.output)) {
      if (a.rfind("traceloop:", 0) == 0) a = kImage;  // the image just built, under the test's tag
      // `privileged: true` grants every capability, which runc cannot do
      // where root itself lacks some (this VM has no CAP_SYS_RESOURCE): all
      // but those, and the rest of what privileged means.
      const auto missing = capabilities_missing();
      if (a == "--privileged" && !missing.empty()) {
        translated.insert(translated.end(), {"--cap-add", "ALL", "--security-opt", "seccomp=unconfined",
                                             "--security-opt", "apparmor=unconfined", "--security-opt",
                                             "systempaths=unconfined"});
        for (const auto& cap : missing) translated.insert(translated.end(), {"--cap-drop", cap});
        continue;
      }
      translated.push_back(a);
    }
    run.insert(run.end(), translated.begin(), translated.end());
    pod_args_ = testing::command_line(run);
    auto started = engine_->docker(run);
    if (!started.ok()) {
      setup_error_ = "docker run (the DaemonSet's pod): " + started.output;
      return;
    }
    // Ready once its control socket answers inside the pod.
    const bool ready = wait_for([] { return engine_->docker({"exec", kPod, "traceloop-record", "list"}).ok(); }, 30s);
    if (!ready) setup_error_ = "the recorder's pod never answered:\n" + engine_->docker({"logs", kPod}).output;
  }

  static void TearDownTestSuite() {
    if (engine_ != nullptr) {
      engine_->docker({"rm", "-f", kPod});
      // The shared copy goes first: what is below it is the engine's to clean.
      run_command({"/bin/umount", "--recursive", "--lazy", engine_->root().string()});
      if (auto stopped = engine_->stop(); !stopped.ok()) std::cerr << "engine stop: " << stopped.error().message << "\n";
      delete engine_;
      engine_ = nullptr;
    }
    delete traces_;
    traces_ = nullptr;
  }

  void SetUp() override {
    if (::geteuid() != 0) {
      if (bpf_required()) FAIL() << "root is required";
      GTEST_SKIP() << "needs root";
    }
    if (!setup_error_.empty()) {
      const std::string logs = engine_ ? engine_->docker({"logs", kPod}).output : "";
      // A kernel refusing BPF is the only reason to skip, and never in CI.
      if (!bpf_required() && logs.find("BPF") != std::string::npos) GTEST_SKIP() << logs;
      FAIL() << setup_error_ << "\npod: docker " << pod_args_ << "\n" << logs;
    }
  }

  // kubectl-traceloop ARGS..., with the fake kubectl first on PATH.
  CommandResult plugin(const std::vector<std::string>& args) {
    if (!fs::exists(bin_ / "kubectl"))
      fs::create_symlink(kSource / "tests/deploy/fake-kubectl", bin_ / "kubectl");
    std::vector<std::string> argv = {"/usr/bin/env",
                                     "PATH=" + bin_.path().string() + ":/usr/bin:/bin",
                                     "FAKE_KUBECTL_DOCKER=" + docker_,
                                     std::string("FAKE_KUBECTL_POD=") + kPod,
                                     std::string("FAKE_KUBECTL_NODE=") + kNode,
                                     "FAKE_KUBECTL_LOG=" + (bin_ / "calls.log").string(),
                                     (kSource / "deploy/kubectl-traceloop").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, 60s);
  }
  std::string kubectl_calls() const {
    std::ifstream in(bin_ / "calls.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // Runs a container to its end; its id.
  std::string run_victim(const std::string& name, const std::string& script) {
    auto r = engine_->run({"--name", name, DockerEngine::kImage, "sh", "-c", script});
    EXPECT_TRUE(!r.id.empty()) << r.command.output;
    return r.id;
  }

  static inline DockerEngine* engine_ = nullptr;
  static inline testing::TempDir* traces_ = nullptr;
  static inline std::string docker_;
  static inline std::string setup_error_;
  static inline std::string pod_args_;
  testing::TempDir bin_;
};

TEST_F(DeploymentTest, ThePluginListsShowsSnapshotsAndDeletesAContainersHistory) {
  const std::string id = run_victim("victim", "echo hello-from-victim; cat /no-such-file; exit 3");
  ASSERT_FALSE(id.empty());

  // list: every node's rows, the NODE column from the downward API's value.
  CommandResult listed;
  ASSERT_TRUE(wait_for([&] {
    listed = plugin({"list"});
    return listed.ok() && listed.output.find(id) != std::string::npos &&
           listed.output.find("exited") != std::string::npos;
  }, 30s)) << listed.output << kubectl_calls();
  const auto rows = lines_of(listed.output);
  ASSERT_GE(rows.size(), 2u);
  EXPECT_EQ(rows[0].rfind("NODE", 0), 0u) << listed.output;
  bool victim_row = false;
  for (const auto& row : rows)
    if (row.find(id) != std::string::npos) {
      victim_row = true;
      EXPECT_EQ(row.rfind(kNode, 0), 0u) << row;
      EXPECT_NE(row.find("victim"), std::string::npos) << row;
    }
  EXPECT_TRUE(victim_row) << listed.output;

  auto json = plugin({"list", "-o", "json"});
  ASSERT_TRUE(json.ok()) << json.output;
  const fs::path json_file = bin_ / "list.json";
  std::ofstream(json_file) << json.output;
  auto jq = run_command({"/usr/bin/jq", "-r", ".[] | select(.container == \"victim\") | .node + \" \" + .containerId",
                         json_file.string()});
  EXPECT_EQ(jq.output, std::string(kNode) + " " + id + "\n") << json.output;

  // show by container name: the calls, strace-like.
  auto shown = plugin({"show", "-c", "victim", "-f", "strace"});
  ASSERT_TRUE(shown.ok()) << shown.output << kubectl_calls();
  EXPECT_NE(shown.output.find("write(1, \"hello-from-victim\\n\", 18) = 18"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("ENOENT"), std::string::npos) << shown.output;

  // show --info: the container's metadata from Docker's records, the process tree.
  auto info = plugin({"show", "-c", "victim", "--info"});
  ASSERT_TRUE(info.ok()) << info.output;
  EXPECT_NE(info.output.find("container  " + id + " (victim)"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find(std::string("image       ") + DockerEngine::kImage), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("host       " + std::string(kNode)), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("(exited 3)"), std::string::npos) << info.output;

  // snapshot -o FILE: the trace's bytes through exec, readable here.
  const fs::path copy = bin_ / "victim.tl";
  auto snap = plugin({"snapshot", "-c", "victim", "-o", copy.string()});
  ASSERT_TRUE(snap.ok()) << snap.output;
  auto trace = format::load_trace(copy);
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  ASSERT_EQ(trace->metadata.containers.size(), 1u);
  EXPECT_EQ(trace->metadata.containers[0].id, id);
  EXPECT_TRUE(daemon::test_env::has_write(*trace, "hello-from-victim"));

  // Two runs of one name: the plugin asks which, and --id chooses.
  const std::string second = run_victim("victim2", "echo second");
  ASSERT_TRUE(wait_for([&] { return plugin({"list"}).output.find(second) != std::string::npos; }, 30s));
  auto by_id = plugin({"show", "--id", second.substr(0, 12), "-f", "strace"});
  ASSERT_TRUE(by_id.ok()) << by_id.output;
  EXPECT_NE(by_id.output.find("\"second\\n\""), std::string::npos) << by_id.output;

  // delete: gone from every list.
  auto deleted = plugin({"delete", "-c", "victim"});
  ASSERT_TRUE(deleted.ok()) << deleted.output;
  EXPECT_EQ(plugin({"list"}).output.find(id), std::string::npos);
  auto missing = plugin({"show", "-c", "victim"});
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.output.find("no history matches"), std::string::npos) << missing.output;
}

// A client in another container, sharing only the control socket: `show` and
// `snapshot -o -` get the trace's bytes through the socket.
TEST_F(DeploymentTest, AClientSharingOnlyTheSocketGetsTracesThroughIt) {
  const std::string id = run_victim("sidecar-victim", "echo through-the-socket");
  ASSERT_FALSE(id.empty());
  const fs::path socket = traces_->path() / "control.sock";
  ASSERT_TRUE(wait_for([&] { return fs::exists(traces_->path() / (id + ".tl")); }, 30s));
  // No network: the client needs only the socket. (With one, where the host
  // does not forward IPv4, the docker CLI warns on the output read here.)
  const std::vector<std::string> sidecar = {"run",   "--rm", "--network", "none", "-v",
                                            socket.string() + ":/run/traceloop.sock", kImage};
  auto run_sidecar = [&](std::vector<std::string> args) {
    std::vector<std::string> all = sidecar;
    all.insert(all.end(), args.begin(), args.end());
    return engine_->docker(all);
  };
  // The sidecar sees no trace directory at all.
  auto ls = engine_->docker({"run", "--rm", "--network", "none", "--entrypoint", "/bin/ls", kImage, "/var/lib/traceloop"});
  EXPECT_EQ(ls.output, "") << ls.output;
  auto shown = run_sidecar({"show", "--socket", "/run/traceloop.sock", id, "-f", "strace"});
  ASSERT_TRUE(shown.ok()) << shown.output;
  EXPECT_NE(shown.output.find("through-the-socket"), std::string::npos) << shown.output;
  auto bytes = run_sidecar({"snapshot", "--socket", "/run/traceloop.sock", id, "-o", "-"});
  ASSERT_TRUE(bytes.ok());
  const fs::path copy = bin_ / "sidecar.tl";
  std::ofstream(copy, std::ios::binary) << bytes.output;
  auto trace = format::load_trace(copy);
  ASSERT_TRUE(trace.ok()) << trace.error().message;
  EXPECT_TRUE(daemon::test_env::has_write(*trace, "through-the-socket"));
}

TEST(DeploymentManifest, IsValidForTheKubernetesApi) {
  auto checked = run_command({"/usr/bin/python3", (kSource / "tests/deploy/manifest.py").string(), "check",
                              (kSource / "deploy/kubernetes/traceloop.yaml").string()});
  EXPECT_TRUE(checked.ok()) << checked.output;
  // The check can fail: a field the API does not know is caught.
  testing::TempDir dir;
  std::ifstream in(kSource / "deploy/kubernetes/traceloop.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const size_t at = text.find("hostPID: true");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 7, "hostPid");
  std::ofstream(dir / "bad.yaml") << text;
  auto bad = run_command({"/usr/bin/python3", (kSource / "tests/deploy/manifest.py").string(), "check",
                          (dir / "bad.yaml").string()});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.output.find("hostPid is not a field"), std::string::npos) << bad.output;
}

// The unit's command line starts a working daemon (in a directory of the
// test's own), and systemd-analyze finds nothing wrong with the unit.
TEST(DeploymentSystemdUnit, VerifiesAndItsCommandRuns) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  std::ifstream in(kSource / "deploy/systemd/traceloop.service");
  std::string unit((std::istreambuf_iterator<char>(in)), {});
  const std::string binary = (kBuild / "recorder/traceloop-record").string();
  testing::TempDir dir;
  std::string local = unit;
  for (size_t at; (at = local.find("/usr/bin/traceloop-record")) != std::string::npos;)
    local.replace(at, std::string("/usr/bin/traceloop-record").size(), binary);
  std::ofstream(dir / "traceloop.service") << local;
  auto verified = run_command({"/usr/bin/systemd-analyze", "verify", "--man=no", (dir / "traceloop.service").string()});
  EXPECT_TRUE(verified.ok()) << verified.output;

  const size_t exec = unit.find("\nExecStart=");
  ASSERT_NE(exec, std::string::npos);
  std::vector<std::string> argv;
  std::istringstream words(unit.substr(exec + 11, unit.find('\n', exec + 1) - exec - 11));
  for (std::string w; words >> w;) argv.push_back(w == "/var/lib/traceloop" ? (dir / "state").string() : w);
  ASSERT_EQ(argv[0], "/usr/bin/traceloop-record");
  argv[0] = binary;
  testing::ChildProcess daemon = testing::ChildProcess::start(argv, dir / "daemon.log").value();
  const std::string socket = (dir / "state/control.sock").string();
  const bool answered = wait_for([&] { return run_command({binary, "list", "--socket", socket}).ok(); }, 20s);
  std::ifstream log(dir / "daemon.log");
  const std::string log_text((std::istreambuf_iterator<char>(log)), {});
  if (!answered && !bpf_required() && log_text.find("BPF") != std::string::npos) GTEST_SKIP() << log_text;
  EXPECT_TRUE(answered) << log_text;
  EXPECT_TRUE(run_command({binary, "stop", "--socket", socket}).ok());
}

}  // namespace
}  // namespace traceloop::deploy
