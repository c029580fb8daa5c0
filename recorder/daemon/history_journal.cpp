#include "recorder/daemon/history_journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <optional>
#include <tuple>

#include "format/published_file.h"
#include "format/trace_reader.h"
#include "format/trace_writer.h"
#include "recorder/daemon/container_metadata.h"

namespace traceloop::daemon {

namespace fs = std::filesystem;

namespace {

// A directory of a hostile size does not stall the daemon's start.
constexpr size_t kMaxEntries = 100000;
constexpr size_t kNumberDigits = 20;

fs::path segment_path(const fs::path& dir, uint64_t first) {
  char name[kNumberDigits + 8];
  std::snprintf(name, sizeof(name), "%020llu.tl", static_cast<unsigned long long>(first));
  return dir / name;
}

// The number a segment's name holds; none for any other name.
std::optional<uint64_t> segment_number(const fs::path& path) {
  const std::string name = path.filename().string();
  if (name.size() != kNumberDigits + 3 || path.extension() != ".tl") return std::nullopt;
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + kNumberDigits, n);
  if (ec != std::errc() || end != name.data() + kNumberDigits) return std::nullopt;
  return n;
}

Result<void> make_private_dir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return Error{dir.string() + ": " + std::strerror(errno)};
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return Error{dir.string() + ": not a directory"};
  return {};
}

uint64_t wall_serial() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

fs::path journal_root(const fs::path& trace_dir) { return trace_dir / "journal"; }

Result<HistoryJournal> HistoryJournal::create(const fs::path& trace_dir, const std::string& id,
                                              const format::TraceMetadata& metadata, uint64_t segment_bytes,
                                              uint64_t first_event) {
  if (sanitize_container_id(id) != id) return Error{"journal: unusable container id " + id};
  auto head = format::encode_trace_head(metadata);
  if (!head) return head.error();
  const fs::path root = journal_root(trace_dir);
  if (auto r = make_private_dir(root); !r) return r.error();
  // A serial of its own: a history of the same id still being published
  // keeps its directory.
  for (uint64_t serial = wall_serial(), tries = 0; tries < 100; ++serial, ++tries) {
    fs::path dir = root / (id + "." + std::to_string(serial));
    if (::mkdir(dir.c_str(), 0700) != 0) {
      if (errno == EEXIST) continue;
      return Error{dir.string() + ": " + std::strerror(errno)};
    }
    HistoryJournal journal(std::move(dir), segment_bytes);
    journal.next_ = first_event;
    if (auto r = journal.open_segment(*head); !r) {
      journal.remove();
      return r.error();
    }
    return journal;
  }
  return Error{root.string() + ": no free journal name for " + id};
}

Result<HistoryJournal> HistoryJournal::resume(const ReplayedJournal& replayed, const format::TraceMetadata& metadata,
                                              uint64_t segment_bytes) {
  auto head = format::encode_trace_head(metadata);
  if (!head) return head.error();
  HistoryJournal journal(replayed.dir, segment_bytes);
  journal.base_ = replayed.events_before;
  journal.next_ = replayed.events;
  journal.segments_.assign(replayed.segments.begin(), replayed.segments.end());
  // A new segment: the last one read back may end in a torn frame.
  if (auto r = journal.open_segment(*head); !r) return r.error();
  return journal;
}

Result<std::string> HistoryJournal::read_head() const {
  const fs::path& path = segments_.back().path;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return Error{path.string() + ": " + std::strerror(errno)};
  std::string head(head_bytes_, '\0');
  const ssize_t got = ::pread(fd.get(), head.data(), head.size(), 0);
  if (got != static_cast<ssize_t>(head.size())) return Error{path.string() + ": cannot read its head back"};
  return head;
}

Result<void> HistoryJournal::open_segment(std::string_view head) {
  // Names keep the order of the segments even after a resume from a journal
  // an unclean crash cut short (fewer events read back than its names count).
  const uint64_t number = std::max(base_ + next_, segments_.empty() ? 0 : segments_.back().number + 1);
  const fs::path path = segment_path(dir_, number);
  auto fd = format::create_exclusive(path, path, 0600);
  if (!fd) return fd.error();
  if (auto r = format::write_all(fd->get(), head, path); !r) {
    ::unlink(path.c_str());
    return r;
  }
  head_bytes_ = head.size();
  segments_.push_back({path, next_, head.size(), number});
  return {};
}

void HistoryJournal::fail(const std::string& why) {
  failed_ = true;
  std::fprintf(stderr, "traceloop-record daemon: %s: no longer kept on disk (%s): a crash would lose it\n",
               dir_.c_str(), why.c_str());
}

void HistoryJournal::append(const format::EncodedFrame& frame) {
  if (failed_) return;
  if (segments_.back().bytes >= segment_bytes_) {
    // The head comes from the segment before, on disk: a thousand journals
    // do not each keep a catalogue in memory.
    auto head = read_head();
    if (!head) return fail(head.error().message);
    if (auto r = open_segment(*head); !r) return fail(r.error().message);
  }
  // Opened for each frame, not kept open: a daemon recording a thousand
  // containers would otherwise hold a thousand descriptors.
  const fs::path& path = segments_.back().path;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return fail(path.string() + ": " + std::strerror(errno));
  if (auto r = format::write_all(fd.get(), frame.bytes, path); !r) {
    // What a short write left is a torn frame: replay stops before it.
    return fail(r.error().message);
  }
  segments_.back().bytes += frame.bytes.size();
  next_ += frame.event_count;
}

void HistoryJournal::forget_before(uint64_t events) {
  // A segment goes when the next one starts at or before `events`: all of
  // its events are gone. The last one is never complete enough to go.
  while (segments_.size() > 1 && segments_[1].first <= events) {
    ::unlink(segments_.front().path.c_str());
    segments_.pop_front();
  }
}

void HistoryJournal::remove() {
  segments_.clear();
  std::error_code ec;
  fs::remove_all(dir_, ec);
  failed_ = true;  // nothing more goes to it
}

uint64_t HistoryJournal::disk_bytes() const {
  uint64_t total = 0;
  for (const auto& s : segments_) total += s.bytes;
  return total;
}

uint64_t HistoryJournal::memory_bytes() const {
  uint64_t total = sizeof(*this) + dir_.native().capacity();
  for (const auto& s : segments_) total += sizeof(s) + s.path.native().capacity();
  return total;
}

std::vector<FoundJournal> find_journals(const fs::path& trace_dir) {
  std::vector<FoundJournal> found;
  std::error_code ec;
  size_t seen = 0;
  for (const auto& entry : fs::directory_iterator(journal_root(trace_dir), ec)) {
    if (++seen > kMaxEntries) break;
    if (!entry.is_directory(ec) || entry.is_symlink(ec)) continue;
    const std::string name = entry.path().filename().string();
    const size_t dot = name.rfind('.');
    if (dot == std::string::npos || dot == 0) continue;
    FoundJournal j{entry.path(), name.substr(0, dot), 0};
    auto [end, err] = std::from_chars(name.data() + dot + 1, name.data() + name.size(), j.serial);
    if (err != std::errc() || end != name.data() + name.size()) continue;
    if (sanitize_container_id(j.id) != j.id) continue;
    found.push_back(std::move(j));
  }
  std::sort(found.begin(), found.end(),
            [](const FoundJournal& a, const FoundJournal& b) { return std::tie(a.id, a.serial) < std::tie(b.id, b.serial); });
  return found;
}

Result<ReplayedJournal> replay_journal(const fs::path& dir, recorder::EventSink& sink) {
  std::vector<std::pair<uint64_t, fs::path>> files;
  std::error_code ec;
  size_t seen = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (++seen > kMaxEntries) break;
    if (!entry.is_regular_file(ec) || entry.is_symlink(ec)) continue;
    if (auto n = segment_number(entry.path())) files.emplace_back(*n, entry.path());
  }
  if (ec) return Error{dir.string() + ": " + ec.message()};
  std::sort(files.begin(), files.end());

  ReplayedJournal out;
  out.dir = dir;
  bool any_header = false;
  for (const auto& [number, path] : files) {
    auto reader = format::TraceReader::open(path);
    if (!reader) {
      // Made but its header never written whole (a crash right then): no
      // events. Left for the journal's removal.
      out.warnings.push_back(path.string() + ": " + reader.error().message);
      continue;
    }
    if (!any_header) out.events_before = number;
    any_header = true;
    out.metadata = reader->metadata();
    JournalSegment segment{path, out.events, 0, number};
    // Only a crash ends a segment early (torn, or zeroed by a node that went
    // down before the kernel wrote it out), and the history resumed after
    // a crash starts its next segment with a loss marker of its own.
    try {
      for (const auto& record : reader->records()) {
        if (record.kind == format::Record::Kind::loss) {
          sink.loss(record.loss);
          continue;
        }
        if (record.kind == format::Record::Kind::notice) {
          sink.notice(record.notice);
          continue;
        }
        sink.event(record.event);
        ++out.events;
        out.last_ns = record.event.enter_ns;
      }
    } catch (const FatalError& e) {
      out.warnings.push_back(e.what());
    }
    for (const auto& w : reader->warnings())
      if (w.find("no trailer") == std::string::npos) out.warnings.push_back(w);
    std::error_code size_ec;
    segment.bytes = fs::file_size(path, size_ec);
    out.segments.push_back(std::move(segment));
  }
  if (!any_header) return Error{dir.string() + ": no readable segment"};
  return out;
}

}  // namespace traceloop::daemon
