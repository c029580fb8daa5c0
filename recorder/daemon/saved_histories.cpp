#include "recorder/daemon/saved_histories.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "format/trace_reader.h"
#include "recorder/daemon/container_metadata.h"

namespace traceloop::daemon {

namespace fs = std::filesystem;

namespace {

// A directory of a hostile size does not stall the daemon's start.
constexpr size_t kMaxEntries = 100000;

}  // namespace

uint64_t count_events(format::TraceReader& reader) {
  // The trailer's count when the file has one; else its frames', from
  // their headers. No events frame is read, let alone decompressed: a
  // directory of large traces is listed at once.
  reader.pass_over_events();
  for (;;) {
    auto batch = reader.next_batch();
    if (!batch.ok() || *batch == nullptr) break;
  }
  if (reader.counters()) return reader.counters()->events_recorded;
  return reader.events_so_far();
}

void SavedHistories::remove_leftovers() const {
  std::error_code ec;
  size_t seen = 0;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (++seen > kMaxEntries) break;
    const std::string name = entry.path().filename().string();
    bool leftover = name.size() > 12 && name.compare(name.size() - 12, 12, ".snapshot.tl") == 0;
    // Temporary files: NAME.tl.tmp.PID.RANDOM (traces, snapshots), and
    // .write-test.tmp.PID.RANDOM (the probe of DIR, trace_dir.h). A writer
    // that is still alive keeps its file. One named with this process's pid
    // is a leftover too: nothing is written yet, and a daemon restarted in a
    // container of its own gets the pid its predecessor had (1, often).
    constexpr std::string_view kTraceTemp = ".tl.tmp.", kProbeTemp = ".write-test.tmp.";
    size_t pid_at = std::string::npos;
    if (const size_t at = name.find(kTraceTemp); at != std::string::npos) pid_at = at + kTraceTemp.size();
    else if (name.starts_with(kProbeTemp)) pid_at = kProbeTemp.size();
    if (pid_at != std::string::npos) {
      const long pid = std::strtol(name.c_str() + pid_at, nullptr, 10);
      leftover = pid > 0 && (pid == ::getpid() || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH));
    }
    if (leftover && entry.is_regular_file(ec)) ::unlink(entry.path().c_str());
  }
}

void SavedHistories::load() {
  std::error_code ec;
  size_t seen = 0;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (++seen > kMaxEntries) break;
    const fs::path& p = entry.path();
    const std::string name = p.filename().string();
    if (p.extension() != ".tl" || name.find(".snapshot.") != std::string::npos || !entry.is_regular_file(ec)) continue;
    auto reader = format::TraceReader::open(p);
    if (!reader.ok() || reader->metadata().containers.empty()) continue;
    const auto& info = reader->metadata().containers.front();
    if (sanitize_container_id(info.id) != info.id || p.stem().string() != info.id) continue;
    by_id_[info.id] = Saved{info, p, count_events(*reader)};
  }
}

fs::path SavedHistories::prepare_file(const std::string& id) const {
  fs::path file = dir_ / (id + ".tl");
  if (::access(file.c_str(), F_OK) != 0) return file;
  for (int n = 1; n < 10000; ++n) {
    const fs::path aside = dir_ / (id + "." + std::to_string(n) + ".tl");
    if (::renameat2(AT_FDCWD, file.c_str(), AT_FDCWD, aside.c_str(), RENAME_NOREPLACE) == 0) return file;
    if (errno != EEXIST) break;
  }
  std::fprintf(stderr, "traceloop-record daemon: %s: cannot keep the earlier history aside (%s); it is replaced\n",
               file.c_str(), std::strerror(errno));
  return file;
}

const Saved* SavedHistories::find(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

void SavedHistories::forget_file(const fs::path& file) {
  for (auto it = by_id_.begin(); it != by_id_.end(); ++it)
    if (it->second.file == file) {
      by_id_.erase(it);
      return;
    }
}

void SavedHistories::remove(const std::string& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  std::error_code ec;
  fs::remove(it->second.file, ec);
  fs::remove(snapshot_file(id), ec);
  by_id_.erase(it);
}

}  // namespace traceloop::daemon
