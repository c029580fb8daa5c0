#include "recorder/daemon/merge_worker.h"

#include <pthread.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "format/frame_merge.h"
#include "format/zstd_codec.h"

namespace traceloop::daemon {

MergeWorker::MergeWorker(int compression_level, size_t max_jobs)
    : max_jobs_(max_jobs == 0 ? 1 : max_jobs),
      event_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      thread_([this, compression_level] { work(compression_level); }) {}

MergeWorker::~MergeWorker() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    jobs_.clear();
  }
  wake_.notify_all();
  thread_.join();
}

bool MergeWorker::submit(MergeJob job) {
  {
    std::lock_guard lock(mutex_);
    if (out_ >= max_jobs_) return false;
    ++out_;
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

std::vector<MergeResult> MergeWorker::take_done() {
  uint64_t count = 0;
  (void)!::read(event_.get(), &count, sizeof(count));
  std::lock_guard lock(mutex_);
  out_ -= done_.size();
  scratch_bytes_ -= done_bytes_;
  done_bytes_ = 0;
  return std::exchange(done_, {});
}

void MergeWorker::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return jobs_.empty() && working_ == 0; });
}

void MergeWorker::work(int compression_level) {
  // Signals are the daemon loop's business (signalfd).
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  // Little of the time the loop wants: a merge that waits costs
  // compression, a loop that waits costs events. Nice 19 rather than
  // SCHED_IDLE: on a saturated machine merges still progress, slowly.
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);
  format::ZstdCompressor zstd(compression_level);
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
    if (stop_) return;
    MergeJob job = std::move(jobs_.front());
    jobs_.pop_front();
    ++working_;
    lock.unlock();
    MergeResult result;
    result.owner = job.owner;
    result.serial = job.serial;
    // Decoded columns, the new frame's columns, its message and the
    // compressor's output: about five times the events' raw size.
    uint64_t raw = 0;
    for (const FramePtr& f : job.frames) raw += f->raw_size + f->bytes.size();
    const uint64_t scratch = 5 * raw;
    scratch_bytes_ += scratch;
    {
      // The merger's scratch grows to a merge's size: made per job and freed
      // after it, so that the daemon does not keep it between merges.
      format::EventFrameMerger merger;
      std::vector<format::EncodedFrame> frames;
      frames.reserve(job.frames.size());
      for (const FramePtr& f : job.frames) frames.push_back(*f);
      auto merged = merger.merge(frames, zstd);
      if (merged.ok()) {
        merged->bytes.shrink_to_fit();
        result.merged = std::move(*merged);
      }
    }
    const uint64_t kept = result.merged ? result.merged->bytes.capacity() : 0;
    scratch_bytes_ += kept;
    scratch_bytes_ -= scratch;
    result.frames = std::move(job.frames);
    lock.lock();
    --working_;
    done_bytes_ += kept;
    done_.push_back(std::move(result));
    uint64_t one = 1;
    (void)!::write(event_.get(), &one, sizeof(one));
    if (jobs_.empty() && working_ == 0) idle_.notify_all();
  }
}

}  // namespace traceloop::daemon
