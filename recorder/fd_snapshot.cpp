#include "recorder/fd_snapshot.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "format/unique_fd.h"

namespace traceloop::recorder {
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kOCloexec = 02000000;
// A /proc/PID/net table of a busy host is large, and parsing it is the cost
// of a snapshot: past this, its sockets go without details.
constexpr size_t kMaxNetTableBytes = 4u << 20;

// The text at its length: a daemon keeps these for every tracked process,
// and a string shrunk from the room a link could need would keep that room.
std::optional<std::string> read_link(const fs::path& path) {
  char buf[format::kMaxSnapshotTextBytes + 1];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf));
  if (n <= 0 || static_cast<size_t>(n) > format::kMaxSnapshotTextBytes) return std::nullopt;  // gone, or too long
  return std::string(buf, static_cast<size_t>(n));
}

std::string read_bounded(const fs::path& path, size_t limit) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return {};
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n <= 0) break;
    if (out.size() + static_cast<size_t>(n) > limit) return {};  // all or nothing: a cut table could mislead
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

template <typename T>
std::optional<T> number(std::string_view text, int base) {
  T v{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

// Socket inode -> strace -yy's description, for one network namespace. An
// inode described twice (a line forged through a socket's path) is dropped.
class SocketTable {
 public:
  void add(uint64_t inode, std::string detail) {
    if (dropped_.contains(inode)) return;
    if (!details_.emplace(inode, std::move(detail)).second) {
      details_.erase(inode);
      dropped_.insert(inode);
    }
  }
  const std::string* find(uint64_t inode) const {
    auto it = details_.find(inode);
    return it == details_.end() ? nullptr : &it->second;
  }

 private:
  std::unordered_map<uint64_t, std::string> details_;
  std::unordered_set<uint64_t> dropped_;
};

// "Num RefCount Protocol Flags Type St Inode [Path]"
void parse_unix(std::string_view table, SocketTable& out) {
  std::istringstream lines{std::string(table)};
  std::string line;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    const auto f = fields(line);
    if (f.size() < 7 || f.size() > 8) continue;
    const auto type = number<unsigned>(f[4], 16);
    const auto state = number<unsigned>(f[5], 16);
    const auto inode = number<uint64_t>(f[6], 10);
    if (!type || !state || !inode) continue;
    std::string detail = *type == 2 ? "UNIX-DGRAM" : *type == 5 ? "UNIX-SEQPACKET" : "UNIX-STREAM";
    detail += ":[" + std::to_string(*inode);
    if (*state == 3) detail += "->?";  // connected; the peer's inode is not in this table
    if (f.size() == 8) {
      std::string_view path = f[7];
      detail += ",";
      if (path.front() == '@') {
        detail += "@";
        path.remove_prefix(1);
      }
      detail += "\"" + std::string(path) + "\"";
    }
    detail += "]";
    out.add(*inode, std::move(detail));
  }
}

// "0100007F:1F90" (IPv4) or 32 hex digits (IPv6), in the kernel's word order.
std::optional<std::string> inet_endpoint(std::string_view text, bool v6, bool& zero) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto port = number<unsigned>(text.substr(colon + 1), 16);
  const std::string_view hex = text.substr(0, colon);
  if (!port || hex.size() != (v6 ? 32u : 8u)) return std::nullopt;
  unsigned char bytes[16];
  for (size_t w = 0; w < hex.size() / 8; ++w) {
    const auto word = number<uint32_t>(hex.substr(w * 8, 8), 16);
    if (!word) return std::nullopt;
    for (size_t b = 0; b < 4; ++b) bytes[w * 4 + b] = static_cast<unsigned char>(*word >> (8 * b));
  }
  zero = *port == 0 && std::all_of(bytes, bytes + hex.size() / 2, [](unsigned char c) { return c == 0; });
  char ip[INET6_ADDRSTRLEN] = {};
  if (::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, ip, sizeof(ip)) == nullptr) return std::nullopt;
  return v6 ? "[" + std::string(ip) + "]:" + std::to_string(*port) : std::string(ip) + ":" + std::to_string(*port);
}

// "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ..."
void parse_inet(std::string_view table, std::string_view kind, bool v6, SocketTable& out) {
  std::istringstream lines{std::string(table)};
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line)) {
    const auto f = fields(line);
    if (f.size() < 10) continue;
    const auto inode = number<uint64_t>(f[9], 10);
    bool local_zero = false, remote_zero = false;
    const auto local = inet_endpoint(f[1], v6, local_zero);
    const auto remote = inet_endpoint(f[2], v6, remote_zero);
    if (!inode || *inode == 0 || !local || !remote) continue;
    std::string detail = std::string(kind) + ":[";
    if (local_zero)
      detail += std::to_string(*inode);
    else if (remote_zero)
      detail += *local;
    else
      detail += *local + "->" + *remote;
    out.add(*inode, detail + "]");
  }
}

SocketTable read_socket_table(const fs::path& net) {
  SocketTable table;
  parse_unix(read_bounded(net / "unix", kMaxNetTableBytes), table);
  parse_inet(read_bounded(net / "tcp", kMaxNetTableBytes), "TCP", false, table);
  parse_inet(read_bounded(net / "tcp6", kMaxNetTableBytes), "TCPv6", true, table);
  parse_inet(read_bounded(net / "udp", kMaxNetTableBytes), "UDP", false, table);
  parse_inet(read_bounded(net / "udp6", kMaxNetTableBytes), "UDPv6", true, table);
  return table;
}

std::optional<uint64_t> socket_inode(std::string_view target) {
  constexpr std::string_view kPrefix = "socket:[";
  if (!target.starts_with(kPrefix) || !target.ends_with("]")) return std::nullopt;
  return number<uint64_t>(target.substr(kPrefix.size(), target.size() - kPrefix.size() - 1), 10);
}

bool close_on_exec(const fs::path& fdinfo) {
  const std::string text = read_bounded(fdinfo, 65536);
  const size_t at = text.find("flags:");
  if (at == std::string::npos) return false;
  size_t i = at + 6;
  while (i < text.size() && (text[i] == '\t' || text[i] == ' ')) ++i;
  size_t j = i;
  while (j < text.size() && text[j] >= '0' && text[j] <= '7') ++j;
  const auto flags = number<uint64_t>(std::string_view(text).substr(i, j - i), 8);
  return flags && (*flags & kOCloexec) != 0;
}

}  // namespace

std::vector<format::FdSnapshot> read_fd_snapshots(std::span<const uint32_t> pids, uint64_t at_ns,
                                                  const fs::path& proc) {
  std::vector<format::FdSnapshot> out;
  std::map<uint64_t, SocketTable> by_netns;  // read once per namespace, when a socket asks
  size_t total = 0;
  for (const uint32_t pid : pids) {
    if (out.size() >= format::kMaxSnapshotProcesses || total >= format::kMaxSnapshotFdsTotal) break;
    const fs::path dir = proc / std::to_string(pid);
    format::FdSnapshot snapshot;
    snapshot.pid = pid;
    snapshot.at_ns = at_ns;
    if (auto cwd = read_link(dir / "cwd")) snapshot.cwd = std::move(*cwd);
    std::unique_ptr<DIR, int (*)(DIR*)> fds(::opendir((dir / "fd").c_str()), ::closedir);
    if (!fds) continue;  // gone, or not ours to read
    const SocketTable* sockets = nullptr;
    bool sockets_tried = false;
    while (const dirent* entry = ::readdir(fds.get())) {
      const auto fd = number<int32_t>(entry->d_name, 10);
      if (!fd) continue;  // "." and ".."
      if (snapshot.fds.size() >= format::kMaxSnapshotFdsPerProcess || total >= format::kMaxSnapshotFdsTotal) {
        snapshot.complete = false;
        break;
      }
      auto target = read_link(dir / "fd" / entry->d_name);
      if (!target) {
        snapshot.complete = false;  // closed meanwhile, or a name too long to keep
        continue;
      }
      format::OpenFd open;
      open.fd = *fd;
      open.cloexec = close_on_exec(dir / "fdinfo" / entry->d_name);
      if (const auto inode = socket_inode(*target)) {
        if (!sockets_tried) {
          sockets_tried = true;
          struct stat st {};
          if (::stat((dir / "ns" / "net").c_str(), &st) == 0) {
            auto it = by_netns.find(st.st_ino);
            if (it == by_netns.end()) it = by_netns.emplace(st.st_ino, read_socket_table(dir / "net")).first;
            sockets = &it->second;
          }
        }
        if (sockets != nullptr)
          if (const std::string* detail = sockets->find(*inode)) open.detail = *detail;
      }
      open.target = std::move(*target);
      snapshot.fds.push_back(std::move(open));
      ++total;
    }
    std::sort(snapshot.fds.begin(), snapshot.fds.end(),
              [](const format::OpenFd& a, const format::OpenFd& b) { return a.fd < b.fd; });
    out.push_back(std::move(snapshot));
  }
  format::sanitise_fd_snapshots(out);
  return out;
}

std::vector<uint32_t> cgroup_pids(const fs::path& cgroup_dir, size_t limit) {
  std::vector<uint32_t> pids;
  std::ifstream procs(cgroup_dir / "cgroup.procs");
  std::string line;
  while (pids.size() < limit && std::getline(procs, line))
    if (const auto pid = number<uint32_t>(line, 10); pid && *pid > 0) pids.push_back(*pid);
  return pids;
}

}  // namespace traceloop::recorder
