#include "recorder/daemon/cgroup_inspection.h"

#include <sys/stat.h>

#include <cctype>
#include <fstream>

namespace traceloop::daemon {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxProcessesLooked = 8;
constexpr size_t kMaxId = 128;

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

uint64_t first_foreign_mount_ns(const fs::path& cgroup_dir, uint64_t own, const fs::path& proc) {
  std::ifstream procs(cgroup_dir / "cgroup.procs");
  long pid = 0;
  for (int n = 0; n < kMaxProcessesLooked && procs >> pid; ++n) {
    if (pid <= 0) continue;
    struct stat st {};
    if (::stat((proc / std::to_string(pid) / "ns" / "mnt").c_str(), &st) != 0) continue;
    const auto ns = static_cast<uint64_t>(st.st_ino);
    if (ns != own) return ns;
  }
  return 0;
}

bool may_hold_a_container(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  for (std::string_view unit : {".service", ".socket", ".mount", ".swap", ".slice"})
    if (path.size() >= unit.size() && path.substr(path.size() - unit.size()) == unit) return false;
  return true;
}

std::string id_from_cgroup_path(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  std::string_view last = slash == std::string_view::npos ? path : path.substr(slash + 1);
  // The longest run of lowercase hex digits, when it is a whole engine id.
  size_t best = 0, best_at = 0;
  for (size_t i = 0; i < last.size();) {
    size_t j = i;
    while (j < last.size() && is_hex(last[j])) ++j;
    if (j - i > best) best = j - i, best_at = i;
    i = j == i ? i + 1 : j;
  }
  if (best == 64) return std::string(last.substr(best_at, best));
  std::string id;
  for (char c : last.substr(0, kMaxId))
    id.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ? c : '_');
  if (id.empty() || id == "." || id == "..") id = "cgroup";
  return id;
}

}  // namespace traceloop::daemon
