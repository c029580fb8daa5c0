#include "tests/support/container_engines.h"

#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

namespace traceloop::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr size_t kLogTail = 8000;  // of an engine's log, in a failure message

std::chrono::milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

// The first of `candidates` that exists (the packages install to /usr/bin
// or /usr/sbin); the first when none does, so the error names it.
std::string program(std::initializer_list<const char*> candidates) {
  for (const char* c : candidates)
    if (::access(c, X_OK) == 0) return c;
  return *candidates.begin();
}

std::string tail_of(const fs::path& file, size_t bytes) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "(no log at " + file.string() + ")";
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > bytes) text = "[...]" + text.substr(text.size() - bytes);
  return text;
}

std::vector<std::string> words_of(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

Result<void> write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Error{"cannot write " + path.string()};
  return ok_result();
}

// Polls `answers` until it holds, the server exits or `limit` passes.
Result<void> wait_until_answering(ChildProcess& server, const std::function<bool()>& answers,
                                  std::chrono::milliseconds limit, const std::string& what) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (!server.running())
      return Error{what + " " + describe_wait_status(server.exit_status()) + " before it answered"};
    if (answers()) return ok_result();
    std::this_thread::sleep_for(50ms);
  }
  return Error{what + " did not answer within " + std::to_string(limit.count()) + " ms"};
}

// scripts/make_test_image.sh into `out`: rootfs.tar and image.tar.
Result<void> build_image(const fs::path& source_dir, const fs::path& out) {
  const fs::path script = source_dir / "scripts/make_test_image.sh";
  auto made = run_command({"/bin/sh", script.string(), out.string()});
  if (!made.ok()) return Error{command_line({script.string(), out.string()}) + ": " + made.output};
  return ok_result();
}

// One entry of /proc/self/mountinfo.
struct Mount {
  fs::path point;
  std::string type;
};

// mountinfo escapes blanks and backslashes in paths as \ooo.
std::string unescape_mount_path(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const std::string octal = s.substr(i + 1, 3);
      if (octal.size() == 3 && octal.find_first_not_of("01234567") == std::string::npos) {
        out += static_cast<char>(std::stoi(octal, nullptr, 8));
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::vector<Mount> mounts() {
  std::vector<Mount> all;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    const auto fields = words_of(line);
    const auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 5 || dash == fields.end() || dash + 1 == fields.end()) continue;
    all.push_back({unescape_mount_path(fields[4]), *(dash + 1)});
  }
  return all;
}

bool is_below(const fs::path& path, const fs::path& root) {
  const std::string p = path.string(), r = root.string();
  return p == r || (p.size() > r.size() && p.compare(0, r.size(), r) == 0 && p[r.size()] == '/');
}

std::vector<fs::path> mounts_below(const fs::path& root) {
  std::vector<fs::path> below;
  for (const auto& m : mounts())
    if (is_below(m.point, root)) below.push_back(m.point);
  return below;
}

// Deepest first, so that a mount is never hidden by the one above it.
void unmount_below(const fs::path& root, std::vector<std::string>& problems) {
  auto points = mounts_below(root);
  std::sort(points.begin(), points.end(), [](const fs::path& a, const fs::path& b) { return a.string() > b.string(); });
  for (const auto& p : points) ::umount2(p.c_str(), MNT_DETACH);
  for (const auto& p : mounts_below(root)) problems.push_back("still mounted: " + p.string());
}

// Processes whose command line names `root` (shims, a managed containerd,
// runc): whatever of an engine outlived it. Never this process.
std::vector<pid_t> processes_naming(const fs::path& root) {
  std::vector<pid_t> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::stoi(name);
    if (pid == ::getpid()) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(root.string() + "/") != std::string::npos) found.push_back(pid);
  }
  return found;
}

void end_processes(const fs::path& root, std::vector<std::string>& problems) {
  auto left = processes_naming(root);
  for (const pid_t pid : left) ::kill(pid, SIGKILL);
  const auto deadline = Clock::now() + 10s;
  while (!left.empty() && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    left = processes_naming(root);
  }
  for (const pid_t pid : left) problems.push_back("process " + std::to_string(pid) + " is still running");
}

// `runc delete -f` for each container whose state is still in the runc
// roots below `parent` (one per namespace): ends a container whose engine
// died before removing it.
void delete_runc_leftovers(const fs::path& parent, std::vector<std::string>& problems) {
  const std::string runc = program({"/usr/sbin/runc", "/usr/bin/runc"});
  std::error_code ec;
  for (const auto& ns : fs::directory_iterator(parent, ec)) {
    std::error_code ec2;
    for (const auto& container : fs::directory_iterator(ns.path(), ec2)) {
      auto deleted = run_command({runc, "--root", ns.path().string(), "delete", "-f",
                                  container.path().filename().string()}, 30s);
      if (!deleted.ok()) problems.push_back("runc delete " + container.path().string() + ": " + deleted.output);
    }
  }
}

// The cgroup `name` (a top-level directory: containerd makes /<namespace>/<id>)
// in every hierarchy, now that its containers' cgroups are gone.
void remove_top_cgroup(const std::string& name, std::vector<std::string>& problems) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) return;
  for (const auto& m : mounts()) {
    if (m.type != "cgroup" && m.type != "cgroup2") continue;
    const fs::path dir = m.point / name;
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) problems.push_back("rmdir " + dir.string() + ": " + std::strerror(errno));
  }
}

Result<void> outcome(const std::string& engine, const std::vector<std::string>& problems) {
  if (problems.empty()) return ok_result();
  std::string message = engine + " left things behind:";
  for (const auto& p : problems) message += "\n  " + p;
  return Error{message};
}

}  // namespace

// ---- Docker ----

Result<std::unique_ptr<DockerEngine>> DockerEngine::start(const fs::path& source_dir, std::chrono::milliseconds limit) {
  std::unique_ptr<DockerEngine> engine(new DockerEngine());
  const fs::path& root = engine->root();
  for (const char* d : {"run/docker", "var/lib/docker", "etc/docker"}) fs::create_directories(root / d);
  // An empty configuration: the host's /etc/docker/daemon.json is not ours.
  if (auto written = write_file(root / "etc/docker/daemon.json", "{}\n"); !written) return written.error();

  const auto started = Clock::now();
  auto dockerd = ChildProcess::start(
      {program({"/usr/sbin/dockerd", "/usr/bin/dockerd"}), "--iptables=false", "--ip-forward=false", "--bridge=none",
       "--data-root", (root / "var/lib/docker").string(), "--exec-root", (root / "run/docker").string(),
       "-H", "unix://" + (root / "run/docker.sock").string(), "--pidfile", (root / "run/docker.pid").string(),
       "--config-file", (root / "etc/docker/daemon.json").string()},
      root / "dockerd.log");
  if (!dockerd.ok()) return dockerd.error();
  engine->dockerd_.emplace(std::move(dockerd.value()));
  auto up = wait_until_answering(
      *engine->dockerd_, [&] { return engine->docker({"version", "--format", "{{.Server.Version}}"}, 5s).ok(); },
      limit, "dockerd");
  if (!up) return Error{up.error().message + "; its log:\n" + engine->log()};
  engine->times_.answered = since(started);

  const auto image_start = Clock::now();
  if (auto built = build_image(source_dir, root / "image"); !built) return built.error();
  auto imported = engine->docker({"import", (root / "image/rootfs.tar").string(), kImage});
  if (!imported.ok()) return Error{"docker import: " + imported.output + "\ndockerd's log:\n" + engine->log()};
  engine->times_.image = since(image_start);
  return engine;
}

DockerEngine::~DockerEngine() { (void)stop(); }

CommandResult DockerEngine::docker(const std::vector<std::string>& args, std::chrono::milliseconds limit) {
  // /usr/bin/docker: the client of the same release (another may come first in PATH).
  std::vector<std::string> argv = {"/usr/bin/docker", "-H", "unix://" + (root() / "run/docker.sock").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, limit);
}

DockerEngine::RunResult DockerEngine::run(const std::vector<std::string>& args, std::chrono::milliseconds limit) {
  fs::create_directories(root() / "cid");
  const fs::path cidfile = root() / "cid" / std::to_string(++runs_);
  std::vector<std::string> full = {"run", "--cidfile", cidfile.string()};
  full.insert(full.end(), args.begin(), args.end());
  RunResult result;
  result.command = docker(full, limit);
  std::ifstream in(cidfile);
  in >> result.id;
  return result;
}

std::string DockerEngine::log() const { return tail_of(root() / "dockerd.log", kLogTail); }

Result<void> DockerEngine::stop() {
  if (stopped_) return ok_result();
  stopped_ = true;
  const auto start = Clock::now();
  std::vector<std::string> problems;
  if (dockerd_ && dockerd_->running()) {
    auto ids = words_of(docker({"ps", "--all", "--quiet", "--no-trunc"}, 30s).output);
    if (!ids.empty()) {
      ids.insert(ids.begin(), {"rm", "--force"});
      if (auto removed = docker(ids); !removed.ok()) problems.push_back("docker rm: " + removed.output);
    }
  }
  if (dockerd_) {
    const int status = dockerd_->stop(15s);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      problems.push_back("dockerd " + describe_wait_status(status) + " at SIGTERM; its log:\n" + log());
  }
  delete_runc_leftovers(root() / "run/docker/runtime-runc", problems);
  end_processes(root(), problems);
  unmount_below(root(), problems);
  times_.stopped = since(start);
  return outcome("dockerd", problems);
}

// ---- containerd ----

Result<std::unique_ptr<ContainerdEngine>> ContainerdEngine::start(const fs::path& source_dir,
                                                                  std::chrono::milliseconds limit) {
  std::unique_ptr<ContainerdEngine> engine(new ContainerdEngine());
  const fs::path& root = engine->root();
  for (const char* d : {"run/containerd/runc", "run/containerd/fifo", "var/lib/containerd", "etc/containerd", "opt/containerd"})
    fs::create_directories(root / d);
  // Everything below `root`; no CRI (it would look for CNI in /etc and /opt
  // and slow the start), no snapshotters that cannot work here.
  const std::string config = "version = 2\n"
                             "root = \"" + (root / "var/lib/containerd").string() + "\"\n"
                             "state = \"" + (root / "run/containerd").string() + "\"\n"
                             "disabled_plugins = [\"io.containerd.grpc.v1.cri\", \"io.containerd.snapshotter.v1.aufs\",\n"
                             "  \"io.containerd.snapshotter.v1.btrfs\", \"io.containerd.snapshotter.v1.devmapper\",\n"
                             "  \"io.containerd.snapshotter.v1.zfs\"]\n"
                             "[grpc]\n"
                             "  address = \"" + (root / "run/containerd/containerd.sock").string() + "\"\n"
                             "[ttrpc]\n"
                             "  address = \"" + (root / "run/containerd/containerd.sock.ttrpc").string() + "\"\n"
                             "[plugins.\"io.containerd.internal.v1.opt\"]\n"
                             "  path = \"" + (root / "opt/containerd").string() + "\"\n";
  if (auto written = write_file(root / "etc/containerd/config.toml", config); !written) return written.error();

  const auto started = Clock::now();
  auto containerd = ChildProcess::start(
      {program({"/usr/bin/containerd", "/usr/sbin/containerd"}), "--config",
       (root / "etc/containerd/config.toml").string(), "--root", (root / "var/lib/containerd").string(), "--state",
       (root / "run/containerd").string(), "--address", (root / "run/containerd/containerd.sock").string()},
      root / "containerd.log");
  if (!containerd.ok()) return containerd.error();
  engine->containerd_.emplace(std::move(containerd.value()));
  auto up = wait_until_answering(
      *engine->containerd_, [&] { return engine->ctr("default", {"version"}, 5s).ok(); }, limit, "containerd");
  if (!up) return Error{up.error().message + "; its log:\n" + engine->log()};
  engine->times_.answered = since(started);

  const auto image_start = Clock::now();
  if (auto built = build_image(source_dir, root / "image"); !built) return built.error();
  engine->times_.image = since(image_start);
  return engine;
}

ContainerdEngine::~ContainerdEngine() { (void)stop(); }

fs::path ContainerdEngine::runc_root(const std::string& ns) const { return root() / "run/containerd/runc" / ns; }

CommandResult ContainerdEngine::ctr(const std::string& ns, const std::vector<std::string>& args,
                                    std::chrono::milliseconds limit) {
  std::vector<std::string> argv = {program({"/usr/bin/ctr", "/usr/sbin/ctr"}), "--address",
                                   (root() / "run/containerd/containerd.sock").string(), "--namespace", ns};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, limit);
}

Result<void> ContainerdEngine::import_image(const std::string& ns) {
  namespaces_.insert(ns);
  auto imported = ctr(ns, {"images", "import", (root() / "image/image.tar").string()});
  if (!imported.ok()) return Error{"ctr images import: " + imported.output + "\ncontainerd's log:\n" + log()};
  return ok_result();
}

CommandResult ContainerdEngine::run(const std::string& ns, const std::string& id,
                                    const std::map<std::string, std::string>& labels,
                                    const std::vector<std::string>& cmd, std::chrono::milliseconds limit) {
  namespaces_.insert(ns);
  // runc's state and the output fifos below `root`, as they are below /run/containerd on a host.
  std::vector<std::string> args = {"run", "--runc-root", (root() / "run/containerd/runc").string(), "--fifo-dir",
                                   (root() / "run/containerd/fifo").string()};
  for (const auto& [k, v] : labels) args.insert(args.end(), {"--label", k + "=" + v});
  args.insert(args.end(), {kImage, id});
  args.insert(args.end(), cmd.begin(), cmd.end());
  return ctr(ns, args, limit);
}

std::string ContainerdEngine::log() const { return tail_of(root() / "containerd.log", kLogTail); }

Result<void> ContainerdEngine::stop() {
  if (stopped_) return ok_result();
  stopped_ = true;
  const auto start = Clock::now();
  std::vector<std::string> problems;
  if (containerd_ && containerd_->running()) {
    for (const auto& ns : words_of(ctr("default", {"namespaces", "list", "--quiet"}, 30s).output)) {
      for (const auto& task : words_of(ctr(ns, {"tasks", "list", "--quiet"}, 30s).output))
        if (auto r = ctr(ns, {"tasks", "delete", "--force", task}, 30s); !r.ok())
          problems.push_back("ctr tasks delete " + task + ": " + r.output);
      for (const auto& c : words_of(ctr(ns, {"containers", "list", "--quiet"}, 30s).output))
        if (auto r = ctr(ns, {"containers", "delete", c}, 30s); !r.ok())
          problems.push_back("ctr containers delete " + c + ": " + r.output);
    }
  }
  if (containerd_) {
    const int status = containerd_->stop(15s);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      problems.push_back("containerd " + describe_wait_status(status) + " at SIGTERM; its log:\n" + log());
  }
  delete_runc_leftovers(root() / "run/containerd/runc", problems);
  end_processes(root(), problems);
  unmount_below(root(), problems);
  for (const auto& ns : namespaces_) remove_top_cgroup(ns, problems);
  times_.stopped = since(start);
  return outcome("containerd", problems);
}

}  // namespace traceloop::testing
