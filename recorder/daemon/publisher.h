#pragma once
// Writes finished containers' histories to disk on a thread of its own, so
// that the daemon's loop never waits for an fsync: a late loop would notice
// the next container's cgroup late and miss its first syscalls. A history's
// journal is removed once its trace is published, never before.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "format/event.h"
#include "format/metadata.h"
#include "format/unique_fd.h"
#include "recorder/daemon/flight_buffer.h"

namespace traceloop::daemon {

class Publisher {
 public:
  struct Job {
    FlightBuffer buffer;
    format::TraceMetadata metadata;
    std::vector<format::ProcessInfo> processes;
    std::filesystem::path path;
  };
  struct Done {
    std::filesystem::path path;
    std::optional<std::string> error;
  };

  explicit Publisher(int compression_level);
  // Finishes the queued jobs first: a history handed over is never dropped.
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  void submit(Job job);
  // Readable (eventfd) when finished jobs wait in take_done().
  int fd() const { return event_.get(); }
  std::vector<Done> take_done();
  // Blocks until every submitted job is written.
  void wait_idle();
  bool busy_with(const std::filesystem::path& path);
  // The memory of the histories handed over and not yet written.
  uint64_t pending_bytes() const { return pending_bytes_.load(std::memory_order_relaxed); }

 private:
  void work(int compression_level);

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<Job> jobs_;
  std::vector<std::filesystem::path> in_progress_;
  std::vector<Done> done_;
  bool stop_ = false;
  std::atomic<uint64_t> pending_bytes_{0};
  UniqueFd event_;
  std::thread thread_;
};

}  // namespace traceloop::daemon
