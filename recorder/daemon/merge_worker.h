#pragma once
// Merges flight buffers' small frames into big ones on a thread of its own.
// Decoding and re-encoding megabytes of events takes tens of milliseconds;
// done in the daemon's loop it stalls the ring consumer, and a busy
// container's ring fills meanwhile. The thread runs at nice 19: when the
// CPU is short, the loop gets it.
//
// Bounded: at most `max_jobs` jobs are queued, in progress or done and not
// yet taken, so at most that many merged frames wait for their buffers. A
// buffer whose job is refused keeps its small frames and asks again later.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "format/frame.h"
#include "format/unique_fd.h"

namespace traceloop::daemon {

using FramePtr = std::shared_ptr<const format::EncodedFrame>;

struct MergeJob {
  uint32_t owner = 0;            // whose frames (the daemon's container index)
  uint64_t serial = 0;           // which of its jobs
  std::vector<FramePtr> frames;  // consecutive, oldest first
};

struct MergeResult {
  uint32_t owner = 0;
  uint64_t serial = 0;
  std::vector<FramePtr> frames;  // what was merged: the buffer replaces them if it still holds them all
  std::optional<format::EncodedFrame> merged;  // none: the frames did not merge (kept as they are)
};

class MergeWorker {
 public:
  explicit MergeWorker(int compression_level, size_t max_jobs = 2);
  // Abandons queued jobs: their buffers keep their small frames.
  ~MergeWorker();
  MergeWorker(const MergeWorker&) = delete;
  MergeWorker& operator=(const MergeWorker&) = delete;

  // False when `max_jobs` are already out.
  bool submit(MergeJob job);
  // Readable (eventfd) when results wait in take_done().
  int fd() const { return event_.get(); }
  std::vector<MergeResult> take_done();
  // Blocks until every submitted job is done (tests).
  void wait_idle();
  // The memory the worker holds for its jobs: the frames it was handed (as
  // their buffers no longer count them once dropped) are not in it, the
  // merge's scratch and the results not yet taken are, about.
  uint64_t scratch_bytes() const { return scratch_bytes_.load(std::memory_order_relaxed); }

 private:
  void work(int compression_level);

  const size_t max_jobs_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<MergeJob> jobs_;
  std::vector<MergeResult> done_;
  size_t out_ = 0;      // submitted and not yet taken
  size_t working_ = 0;  // being merged now
  bool stop_ = false;
  std::atomic<uint64_t> scratch_bytes_{0};
  uint64_t done_bytes_ = 0;  // of done_
  UniqueFd event_;
  std::thread thread_;
};

}  // namespace traceloop::daemon
