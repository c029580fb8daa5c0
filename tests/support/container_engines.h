#pragma once
// The container engines users run, started for real by a test: Docker
// (dockerd with its own managed containerd) and containerd (driven by ctr).
// Each engine lives in a temporary directory laid out like a host's root
// (run/docker, var/lib/docker, run/containerd, var/lib/containerd ...), so
// it shares no state with the host or with another engine, and the daemon
// under test finds it with DaemonOptions::runtime_prefix = root(). The test
// image (bb:local, busybox-static; scripts/make_test_image.sh) is imported
// without any registry.
//
// stop() (and the destructor, when a test failed before) removes the
// engine's containers, stops it by its pid (SIGTERM, bounded wait, SIGKILL),
// ends whatever of it survived (runc containers, shims, a managed
// containerd: found by the engine's directory on their command line),
// unmounts what is mounted below its directory and removes the cgroups of
// the containerd namespaces it made.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "format/result.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace traceloop::testing {

// How long an engine took to become usable, for the tests' reports.
struct EngineTimes {
  std::chrono::milliseconds answered{0};  // from its start to its first answer
  std::chrono::milliseconds image{0};     // building the test image (and, for Docker, importing it)
  std::chrono::milliseconds stopped{0};   // stop(): removing the containers, stopping, cleaning up
};

class DockerEngine {
 public:
  static constexpr const char* kImage = "bb:local";

  // Starts dockerd (--iptables=false --bridge=none, its own data root,
  // exec root, socket, pidfile and an empty configuration), waits until it
  // answers (at most `limit`), imports the test image. The error carries
  // dockerd's log. `source_dir`: the source tree (for the image script).
  static Result<std::unique_ptr<DockerEngine>> start(const std::filesystem::path& source_dir,
                                                     std::chrono::milliseconds limit = std::chrono::seconds(30));
  ~DockerEngine();
  DockerEngine(const DockerEngine&) = delete;
  DockerEngine& operator=(const DockerEngine&) = delete;

  // Where the daemon under test looks for runtimes (runtime_prefix).
  const std::filesystem::path& root() const { return dir_.path(); }
  const EngineTimes& times() const { return times_; }

  // /usr/bin/docker -H <this engine> ARGS...
  CommandResult docker(const std::vector<std::string>& args,
                       std::chrono::milliseconds limit = std::chrono::seconds(60));

  struct RunResult {
    CommandResult command;  // the container's exit status and output
    std::string id;         // its full id (known even with --rm)
  };
  // `docker run ARGS...`, attached: returns when the container has exited.
  RunResult run(const std::vector<std::string>& args, std::chrono::milliseconds limit = std::chrono::seconds(60));

  // The end of dockerd's log (and of its containerd's), for failure messages.
  std::string log() const;

  // Removes the containers, stops dockerd and cleans up; the error lists
  // what could not be cleaned (processes left, mounts left).
  Result<void> stop();

 private:
  DockerEngine() = default;
  TempDir dir_;
  std::optional<ChildProcess> dockerd_;
  EngineTimes times_;
  int runs_ = 0;
  bool stopped_ = false;
};

class ContainerdEngine {
 public:
  // ctr's name for the imported Docker archive tagged bb:local.
  static constexpr const char* kImage = "docker.io/library/bb:local";

  // Starts containerd (--root, --state, --address below its directory and a
  // configuration that keeps it off the host's /var/lib/containerd, /opt
  // and CNI), waits until it answers (at most `limit`), builds the test
  // image's archive. The error carries containerd's log.
  static Result<std::unique_ptr<ContainerdEngine>> start(const std::filesystem::path& source_dir,
                                                         std::chrono::milliseconds limit = std::chrono::seconds(30));
  ~ContainerdEngine();
  ContainerdEngine(const ContainerdEngine&) = delete;
  ContainerdEngine& operator=(const ContainerdEngine&) = delete;

  const std::filesystem::path& root() const { return dir_.path(); }
  const EngineTimes& times() const { return times_; }
  // runc's state directory for containers of namespace `ns`
  // (<root>/run/containerd/runc/<ns>, as /run/containerd/runc/<ns> on a host).
  std::filesystem::path runc_root(const std::string& ns) const;

  // /usr/bin/ctr --address <this engine> -n NS ARGS...
  CommandResult ctr(const std::string& ns, const std::vector<std::string>& args,
                    std::chrono::milliseconds limit = std::chrono::seconds(60));
  // Imports the test image into namespace `ns`, which it creates (images
  // belong to a namespace).
  Result<void> import_image(const std::string& ns);
  // `ctr -n NS run --label K=V... IMAGE ID CMD...`, attached: returns when
  // the container has exited. Its record stays until stop().
  CommandResult run(const std::string& ns, const std::string& id, const std::map<std::string, std::string>& labels,
                    const std::vector<std::string>& cmd, std::chrono::milliseconds limit = std::chrono::seconds(60));

  std::string log() const;
  Result<void> stop();

 private:
  ContainerdEngine() = default;
  TempDir dir_;
  std::optional<ChildProcess> containerd_;
  std::set<std::string> namespaces_;  // used by this engine: their cgroups go at stop()
  EngineTimes times_;
  bool stopped_ = false;
};

}  // namespace traceloop::testing
