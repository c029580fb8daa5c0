#pragma once
// Where a long reading loop reports how far it got: one relaxed atomic add
// per batch of events (thousands of events), never a system call, so the
// loops stay as fast with progress as without. The loops take a
// ProgressSink* that is null when no progress is shown; see
// progress_meter.h for the one that draws it.

#include <atomic>
#include <cstdint>

namespace traceloop::progress {

class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  // Events read so far grow by `events` (from any thread).
  void add(uint64_t events) { read_.fetch_add(events, std::memory_order_relaxed); }
  uint64_t read() const { return read_.load(std::memory_order_relaxed); }
  // The reading is over: the progress disappears before the results are printed.
  virtual void finish() = 0;

 private:
  std::atomic<uint64_t> read_{0};
};

// For the loops: tolerate the null sink of "no progress".
inline void add_progress(ProgressSink* sink, uint64_t events) {
  if (sink != nullptr) sink->add(events);
}
inline void finish_progress(ProgressSink* sink) {
  if (sink != nullptr) sink->finish();
}

}  // namespace traceloop::progress
