#pragma once
// The progress line of the tl-* tools on a terminal:
//
//   tl-stats: 4,212,736 of 10,000,000 events (42%)
//
// shown on standard error only when it is a terminal and the files to read
// are big (more than kMinBytes together): below that a tool is done in well
// under a second on this kind of machine (about 1.4M syscalls at 6 bytes
// each) and a line that flashes would be noise. The total comes from the
// files' frame headers (read without decompressing the events); a thread of
// the meter's own redraws the line at most ten times a second from the
// counter the reading loop adds to, and clears it at finish().

#include <unistd.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tools/progress/progress_sink.h"

namespace traceloop::progress {

inline constexpr uint64_t kMinBytes = 8ull << 20;

class ProgressMeter final : public ProgressSink {
 public:
  // A meter that draws on `fd` for reading `paths`, or nullptr when `wanted`
  // is false, `fd` is not a terminal, a path is "-" (stdin: no size known
  // ahead), or the files hold kMinBytes or less. `label` starts the line
  // (the tool's name). Files that cannot be read count for nothing: the tool
  // reports them.
  static std::unique_ptr<ProgressMeter> start(std::string label, const std::vector<std::string>& paths, bool wanted,
                                              int fd = STDERR_FILENO);
  // Starts drawing regardless of the size and terminal checks (tests).
  ProgressMeter(std::string label, uint64_t total_events, int fd);
  ~ProgressMeter() override;  // finish()
  ProgressMeter(const ProgressMeter&) = delete;
  ProgressMeter& operator=(const ProgressMeter&) = delete;

  void finish() override;

  // The line as drawn for `read` events (without the terminal controls).
  static std::string line(const std::string& label, uint64_t read, uint64_t total);

 private:
  void run();
  void draw(const std::string& text);

  std::string label_;
  uint64_t total_;
  int fd_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool finished_ = false;
  std::thread thread_;
};

// Events in the events frames of `path`, from their headers; nullopt when it
// cannot be read as a trace.
std::optional<uint64_t> count_events(const std::string& path);

}  // namespace traceloop::progress
