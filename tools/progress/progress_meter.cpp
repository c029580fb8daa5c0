#include "tools/progress/progress_meter.h"

#include <sys/stat.h>

#include <chrono>
#include <optional>

#include "format/trace_reader.h"

namespace traceloop::progress {

namespace {

constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

// "4,212,736": counts of millions stay readable as they change.
std::string grouped(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

void write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;  // a terminal gone away: progress is not worth an error
    done += static_cast<size_t>(n);
  }
}

}  // namespace

std::optional<uint64_t> count_events(const std::string& path) {
  auto reader = format::TraceReader::open(path);
  if (!reader.ok()) return std::nullopt;
  reader->pass_over_events();
  for (;;) {
    auto batch = reader->next_batch();
    if (!batch.ok()) return std::nullopt;
    if (*batch == nullptr) break;
  }
  return reader->events_so_far();
}

std::unique_ptr<ProgressMeter> ProgressMeter::start(std::string label, const std::vector<std::string>& paths,
                                                    bool wanted, int fd) {
  if (!wanted || ::isatty(fd) != 1) return nullptr;
  uint64_t bytes = 0;
  for (const auto& path : paths) {
    struct stat st {};
    if (path == "-" || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;
    bytes += static_cast<uint64_t>(st.st_size);
  }
  if (bytes <= kMinBytes) return nullptr;
  uint64_t total = 0;
  for (const auto& path : paths) total += count_events(path).value_or(0);
  if (total == 0) return nullptr;
  return std::make_unique<ProgressMeter>(std::move(label), total, fd);
}

ProgressMeter::ProgressMeter(std::string label, uint64_t total_events, int fd)
    : label_(std::move(label)), total_(total_events), fd_(fd) {
  draw(line(label_, 0, total_));
  thread_ = std::thread([this] { run(); });
}

ProgressMeter::~ProgressMeter() { finish(); }

std::string ProgressMeter::line(const std::string& label, uint64_t read, uint64_t total) {
  if (read > total) read = total;  // a file that grew, or was cut, between counting and reading
  const uint64_t percent = total == 0 ? 100 : read * 100 / total;
  return label + ": " + grouped(read) + " of " + grouped(total) + " events (" + std::to_string(percent) + "%)";
}

void ProgressMeter::draw(const std::string& text) {
  // Carriage return and erase-line: the line is redrawn in place, never scrolls.
  write_all(fd_, "\r\x1b[K" + text);
}

void ProgressMeter::run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    wake_.wait_for(lock, kRedrawInterval, [this] { return stop_; });
    if (stop_) break;
    draw(line(label_, read(), total_));
  }
}

void ProgressMeter::finish() {
  {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  write_all(fd_, "\r\x1b[K");
}

}  // namespace traceloop::progress
