#include "recorder/attached_process.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>

namespace traceloop::recorder {

namespace fs = std::filesystem;

namespace {

// Far above any real command line; a hostile one is cut, not trusted.
constexpr size_t kMaxCmdlineBytes = 64 * 1024;
constexpr size_t kMaxProcFileBytes = 8 * 1024;

std::string read_bounded(const fs::path& path, size_t limit) {
  std::ifstream in(path, std::ios::binary);
  std::string out;
  if (!in) return out;
  out.resize(limit);
  in.read(out.data(), static_cast<std::streamsize>(limit));
  out.resize(static_cast<size_t>(in.gcount()));
  return out;
}

// The number after "Key:\t" on its own line of a status file; 0 when absent.
uint32_t status_field(const std::string& status, std::string_view key) {
  size_t at = 0;
  while (at < status.size()) {
    const size_t end = std::min(status.find('\n', at), status.size());
    std::string_view line(status.data() + at, end - at);
    if (line.substr(0, key.size()) == key && line.size() > key.size() && line[key.size()] == ':') {
      line.remove_prefix(key.size() + 1);
      while (!line.empty() && (line.front() == '\t' || line.front() == ' ')) line.remove_prefix(1);
      uint32_t v = 0;
      std::from_chars(line.data(), line.data() + line.size(), v);
      return v;
    }
    at = end + 1;
  }
  return 0;
}

std::vector<std::string> split_nul(const std::string& bytes) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < bytes.size()) {
    const size_t end = std::min(bytes.find('\0', at), bytes.size());
    out.emplace_back(bytes, at, end - at);
    at = end + 1;
  }
  return out;
}

}  // namespace

Result<std::vector<AttachedProcess>> find_attached_processes(const std::vector<int>& ids, pid_t self,
                                                             const fs::path& proc) {
  std::vector<AttachedProcess> out;
  for (const int id : ids) {
    const std::string name = std::to_string(id);
    if (id <= 0) return Error{"not a process id: " + name};
    // /proc/ID names threads too (hidden from the listing, not from a lookup).
    const std::string status = read_bounded(proc / name / "status", kMaxProcFileBytes);
    const uint32_t tgid = status_field(status, "Tgid");
    if (status.empty() || tgid == 0) return Error{"no such process: " + name};
    if (static_cast<pid_t>(tgid) == self) return Error{"cannot attach to the recorder itself: " + name};
    if (std::any_of(out.begin(), out.end(), [&](const AttachedProcess& p) { return p.tgid == tgid; })) continue;
    AttachedProcess p;
    p.tgid = tgid;
    p.ppid = status_field(status, "PPid");
    const fs::path dir = proc / std::to_string(tgid);
    p.comm = read_bounded(dir / "comm", 64);
    while (!p.comm.empty() && p.comm.back() == '\n') p.comm.pop_back();
    p.argv = split_nul(read_bounded(dir / "cmdline", kMaxCmdlineBytes));
    struct stat st {};
    if (::stat((dir / "ns" / "mnt").c_str(), &st) == 0) p.mount_ns_id = st.st_ino;
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<BlockedCall> blocked_calls(uint32_t tgid, const fs::path& proc) {
  std::vector<BlockedCall> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(proc / std::to_string(tgid) / "task", ec)) {
    uint32_t tid = 0;
    const std::string name = entry.path().filename().string();
    if (std::from_chars(name.data(), name.data() + name.size(), tid).ec != std::errc{}) continue;
    // "NR ARG1..ARG6 SP PC" in a call; "running", or "-1 SP PC" elsewhere.
    const std::string text = read_bounded(entry.path() / "syscall", 512);
    const char* at = text.data();
    const char* end = text.data() + text.size();
    BlockedCall call;
    call.tid = tid;
    auto [p, err] = std::from_chars(at, end, call.nr);
    if (err != std::errc{}) continue;
    bool complete = true;
    for (uint64_t& arg : call.args) {
      if (end - p < 4 || p[0] != ' ' || p[1] != '0' || p[2] != 'x') {
        complete = false;
        break;
      }
      auto r = std::from_chars(p + 3, end, arg, 16);
      if (r.ec != std::errc{}) {
        complete = false;
        break;
      }
      p = r.ptr;
    }
    if (!complete) continue;
    call.comm = read_bounded(entry.path() / "comm", 64);
    while (!call.comm.empty() && call.comm.back() == '\n') call.comm.pop_back();
    out.push_back(std::move(call));
  }
  return out;
}

size_t thread_count(uint32_t tgid, const fs::path& proc) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = fs::directory_iterator(proc / std::to_string(tgid) / "task", ec); !ec && it != fs::directory_iterator();
       it.increment(ec))
    ++n;
  return n;
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

}  // namespace traceloop::recorder
