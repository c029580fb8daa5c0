#include "recorder/daemon/history_reload.h"

#include <cstdio>
#include <cstdlib>

#include "format/trace_reader.h"
#include "recorder/daemon/history_journal.h"
#include "recorder/event_sink.h"

namespace traceloop::daemon {

namespace fs = std::filesystem;

namespace {

// Boot-time clocks of one boot start within this of each other on the wall
// clock (only a step of the wall clock moves it); two boots, far more.
constexpr int64_t kSameBootNs = 10'000'000'000;

struct Refill : recorder::EventSink {
  Refill(FlightBuffer& buffer_in, recorder::ProcessTracker& processes_in, FlightCodec& codec_in)
      : buffer(buffer_in), processes(processes_in), codec(codec_in) {}
  void event(const format::Event& e) override {
    buffer.add(e, codec);
    processes.observe(e);
  }
  void loss(const format::LossMarker& l) override { buffer.add_loss(l); }
  void notice(const format::TaskNotice& n) override {
    buffer.add_notice(n);
    processes.observe(n);
  }
  FlightBuffer& buffer;
  recorder::ProcessTracker& processes;
  FlightCodec& codec;
};

}  // namespace

Result<ReloadedHistory> reload_history(const fs::path& journal_dir, FlightBuffer& buffer,
                                       recorder::ProcessTracker& processes, FlightCodec& codec,
                                       uint64_t segment_bytes, const format::TraceMetadata* metadata) {
  Refill refill(buffer, processes, codec);
  auto replayed = replay_journal(journal_dir, refill);
  if (!replayed) return replayed.error();
  for (const auto& w : replayed->warnings) std::fprintf(stderr, "traceloop-record daemon: %s\n", w.c_str());
  buffer.seal(codec);
  buffer.set_overwritten_before(replayed->events_before, 0);
  auto journal = HistoryJournal::resume(*replayed, metadata != nullptr ? *metadata : replayed->metadata, segment_bytes);
  if (journal) buffer.keep_on_disk(std::move(*journal));
  else std::fprintf(stderr, "traceloop-record daemon: %s: %s\n", journal_dir.c_str(), journal.error().message.c_str());
  return ReloadedHistory{std::move(replayed->metadata), replayed->events, replayed->last_ns};
}

bool journal_of_this_boot(const fs::path& journal_dir, int64_t boot_to_wall_ns) {
  fs::path first;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(journal_dir, ec))
    if (entry.path().extension() == ".tl" && (first.empty() || entry.path() < first)) first = entry.path();
  auto head = format::TraceReader::open(first);
  return head.ok() && std::llabs(head->metadata().boot_to_wall_ns - boot_to_wall_ns) <= kSameBootNs;
}

}  // namespace traceloop::daemon
