#pragma once
// A container's history kept on disk as it is recorded, so that a daemon
// that dies without saving (SIGKILL, the OOM killer, a node reboot) loses at
// most the events not yet sealed into a frame. Each history is a directory
// DIR/journal/<id>.<serial>/ of segment files. A segment is a .tl file
// written in place: preamble, header, then the history's events frames as
// they are sealed, one write each, and no trailer (any reader reads it as a
// trace cut short). Its name is the number of the history's events before its
// first one, so the first segment left tells how many were overwritten.
//
// Why segments rather than one file: the history in memory drops its oldest
// frames to stay within its budget, and the disk must follow. Dropping a
// whole segment is one unlink and nothing is written twice, where a single
// file would be rewritten without its oldest frames, copying up to the
// budget again every time. A segment is removed once every event in it is
// gone from memory: the disk holds the events the memory holds plus at most
// one segment of older ones. It holds the frames as sealed, not the big ones
// the memory merges them into later (writing those would write every event
// twice), which compress somewhat worse.
//
// Never fsynced: a killed daemon's writes are in the page cache and reach the
// disk anyway. A node that crashes may lose the last seconds of them and
// leave a torn or zeroed last frame, which replay_journal() ignores.

#include <cstdint>
#include <deque>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "format/frame.h"
#include "format/metadata.h"
#include "format/result.h"
#include "recorder/event_sink.h"

namespace traceloop::daemon {

struct JournalSegment {
  std::filesystem::path path;
  uint64_t first = 0;  // number of its first event in the history as replayed or appended
  uint64_t bytes = 0;
  uint64_t number = 0;  // in its name
};

// A journal found in DIR at start: a history an earlier daemon did not
// publish.
struct FoundJournal {
  std::filesystem::path dir;
  std::string id;
  uint64_t serial = 0;
};

// What replay_journal() read back.
struct ReplayedJournal {
  std::filesystem::path dir;
  format::TraceMetadata metadata;   // from the newest segment's header
  uint64_t events_before = 0;       // the history's events gone before its first segment (overwritten)
  uint64_t events = 0;              // replayed
  uint64_t last_ns = 0;             // enter time of the last event replayed
  std::vector<JournalSegment> segments;  // numbered from 0 as replayed
  std::vector<std::string> warnings;
};

class HistoryJournal {
 public:
  // A new journal for the history of `id`, whose next sealed event is number
  // `first_event` (those before it were overwritten). Segments hold about
  // `segment_bytes`.
  static Result<HistoryJournal> create(const std::filesystem::path& trace_dir, const std::string& id,
                                       const format::TraceMetadata& metadata, uint64_t segment_bytes,
                                       uint64_t first_event);
  // Continues a journal replay_journal() read: its segments stay, new frames
  // go to a new one. Event numbers go on from the events replayed.
  static Result<HistoryJournal> resume(const ReplayedJournal& replayed, const format::TraceMetadata& metadata,
                                       uint64_t segment_bytes);

  HistoryJournal(HistoryJournal&&) noexcept = default;
  HistoryJournal& operator=(HistoryJournal&&) noexcept = default;
  // Leaves the files: a journal is removed only once its history is published.
  ~HistoryJournal() = default;

  // One write. A failed write (disk full) ends the journal, said once; the
  // history goes on in memory.
  void append(const format::EncodedFrame& frame);
  // The history's first `events` are gone from memory: segments holding only
  // those go from disk too.
  void forget_before(uint64_t events);
  // The history is published: its directory goes.
  void remove();

  uint64_t events() const { return next_; }  // the number the next appended event gets
  uint64_t disk_bytes() const;
  size_t segment_count() const { return segments_.size(); }
  // What it holds in memory: its list of segments (the head every segment
  // starts with, the catalogue, is read back from the disk when needed).
  uint64_t memory_bytes() const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  HistoryJournal(std::filesystem::path dir, uint64_t segment_bytes) : dir_(std::move(dir)), segment_bytes_(segment_bytes) {}
  // A new segment, starting with `head`, that the next frames go to.
  Result<void> open_segment(std::string_view head);
  // The head of the last segment (this journal's own).
  Result<std::string> read_head() const;
  void fail(const std::string& why);

  std::filesystem::path dir_;
  uint64_t head_bytes_ = 0;  // of the preamble and header frame every segment starts with
  uint64_t segment_bytes_ = 0;
  uint64_t base_ = 0;  // added to event numbers in segment names: events gone before a resume
  uint64_t next_ = 0;
  std::deque<JournalSegment> segments_;
  bool failed_ = false;
};

// DIR/journal: where the journals live.
std::filesystem::path journal_root(const std::filesystem::path& trace_dir);

// The journals in DIR, oldest first (per id, by serial). Names that are not
// a sanitised container id and a serial are left alone.
std::vector<FoundJournal> find_journals(const std::filesystem::path& trace_dir);

// Feeds the journal's events and loss markers to `sink`, oldest first. A
// segment's torn or corrupt last frame (a crash while it was written) ends
// that segment, with a warning.
Result<ReplayedJournal> replay_journal(const std::filesystem::path& dir, recorder::EventSink& sink);

}  // namespace traceloop::daemon
