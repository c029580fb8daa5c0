#include "recorder/daemon/publisher.h"

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "format/zstd_codec.h"

namespace traceloop::daemon {

Publisher::Publisher(int compression_level)
    : event_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)), thread_([this, compression_level] { work(compression_level); }) {}

Publisher::~Publisher() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Publisher::submit(Job job) {
  {
    std::lock_guard lock(mutex_);
    in_progress_.push_back(job.path);
    pending_bytes_ += job.buffer.bytes();
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

std::vector<Publisher::Done> Publisher::take_done() {
  uint64_t count = 0;
  (void)!::read(event_.get(), &count, sizeof(count));
  std::lock_guard lock(mutex_);
  return std::exchange(done_, {});
}

void Publisher::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return in_progress_.empty(); });
}

bool Publisher::busy_with(const std::filesystem::path& path) {
  std::lock_guard lock(mutex_);
  return std::find(in_progress_.begin(), in_progress_.end(), path) != in_progress_.end();
}

void Publisher::work(int compression_level) {
  // Signals are the daemon loop's business (signalfd): a SIGTERM delivered
  // to this thread would kill the process before the histories are saved.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  FlightCodec codec(compression_level);
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stop_, and nothing left to write
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    const uint64_t bytes = job.buffer.bytes();
    auto written = job.buffer.write(job.path, job.metadata, job.processes, codec);
    // Published: the copy on disk has served. Not published: it stays, and
    // the next daemon publishes it.
    if (written.ok()) job.buffer.remove_journal();
    job.buffer = FlightBuffer({.budget_bytes = 0});  // its memory goes now, not with the next job
    pending_bytes_ -= bytes;
    lock.lock();
    done_.push_back({job.path, written.ok() ? std::nullopt : std::optional<std::string>(written.error().message)});
    in_progress_.erase(std::find(in_progress_.begin(), in_progress_.end(), job.path));
    uint64_t one = 1;
    (void)!::write(event_.get(), &one, sizeof(one));
    if (in_progress_.empty()) idle_.notify_all();
  }
}

}  // namespace traceloop::daemon
