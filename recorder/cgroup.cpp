#include "recorder/cgroup.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "format/unique_fd.h"

namespace traceloop::recorder {

namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// mountinfo escapes blanks in paths as octal (\040).
std::string unescape_mount_path(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (size_t k = 1; k <= 3; ++k) {
        char c = s[i + k];
        if (c < '0' || c > '7') ok = false;
        v = v * 8 + (c - '0');
      }
      if (ok) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

Result<void> write_pid(const fs::path& procs, pid_t pid) {
  int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Error{procs.string() + ": " + std::strerror(errno)};
  std::string text = std::to_string(pid);
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()))
    return Error{"moving process " + text + " into " + procs.parent_path().string() + ": " + std::strerror(err)};
  return ok_result();
}

}  // namespace

std::optional<fs::path> find_cgroup2_mount(std::string_view mountinfo) {
  std::istringstream in{std::string(mountinfo)};
  std::string line;
  while (std::getline(in, line)) {
    // id parent major:minor root mountpoint options [optional...] - fstype source superopts
    auto sep = line.find(" - ");
    if (sep == std::string::npos) continue;
    std::istringstream tail(line.substr(sep + 3));
    std::string fstype;
    tail >> fstype;
    if (fstype != "cgroup2") continue;
    std::istringstream head(line.substr(0, sep));
    std::string id, parent, dev, root, mountpoint;
    head >> id >> parent >> dev >> root >> mountpoint;
    if (mountpoint.empty()) continue;
    return fs::path(unescape_mount_path(mountpoint));
  }
  return std::nullopt;
}

Result<fs::path> cgroup2_mount() {
  std::string text = read_file("/proc/self/mountinfo");
  auto mount = find_cgroup2_mount(text);
  if (!mount) return Error{"no cgroup2 filesystem mounted (see /proc/self/mountinfo): the recorder needs cgroup v2"};
  return *mount;
}

Result<uint64_t> cgroup_id_of(const fs::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return Error{dir.string() + ": " + std::strerror(errno)};
  return static_cast<uint64_t>(st.st_ino);
}

Result<std::string> cgroup2_path_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  if (!in) return Error{"cannot read /proc/" + std::to_string(pid) + "/cgroup"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  return Error{"process " + std::to_string(pid) + " has no cgroup v2 membership"};
}

ScopedCgroup::ScopedCgroup(fs::path mount, fs::path dir, uint64_t id)
    : mount_(std::move(mount)), dir_(std::move(dir)), id_(id) {}

ScopedCgroup::ScopedCgroup(ScopedCgroup&& other) noexcept
    : mount_(std::move(other.mount_)), dir_(std::move(other.dir_)), id_(other.id_) {
  other.dir_.clear();
}

Result<ScopedCgroup> ScopedCgroup::create(const fs::path& mount, const std::string& name) {
  fs::path dir = mount / name;
  if (::mkdir(dir.c_str(), 0755) != 0)
    return Error{"creating cgroup " + dir.string() + ": " + std::strerror(errno)};
  auto id = cgroup_id_of(dir);
  if (!id.ok()) {
    ::rmdir(dir.c_str());
    return id.error();
  }
  return ScopedCgroup(mount, dir, *id);
}

ScopedCgroup::~ScopedCgroup() {
  if (dir_.empty()) return;
  auto home = cgroup2_path_of(::getpid());
  fs::path home_dir = home.ok() ? mount_ / fs::path(*home).relative_path() : mount_;
  for (int round = 0; round < 5; ++round) {
    std::istringstream procs(read_file(dir_ / "cgroup.procs"));
    pid_t pid = 0;
    bool any = false;
    while (procs >> pid) {
      any = true;
      (void)write_pid(home_dir / "cgroup.procs", pid);
    }
    if (!any) break;
  }
  ::rmdir(dir_.c_str());
}

Result<void> ScopedCgroup::add_process(pid_t pid) const { return write_pid(dir_ / "cgroup.procs", pid); }

void remove_abandoned_cgroups(const fs::path& mount, std::string_view prefix) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(mount, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) continue;
    const pid_t owner = static_cast<pid_t>(std::stol(digits));
    if (owner > 0 && ::kill(owner, 0) != 0 && errno == ESRCH) ::rmdir(entry.path().c_str());
  }
}

pid_t ScopedCgroup::fork_into() const {
  UniqueFd dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return -1;
  clone_args args{};
  args.flags = CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<uint64_t>(dir.get());
  return static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof(args)));
}

std::string ScopedCgroup::relative_path() const { return "/" + fs::relative(dir_, mount_).string(); }

}  // namespace traceloop::recorder
