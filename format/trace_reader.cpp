#include "format/trace_reader.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capnp/serialize.h>
#include <kj/exception.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include "format/event_batch_legacy.h"
#include "format/frame_codec.h"
#include "format/schema_convert.h"
#include "format/unique_fd.h"
#include "format/version_text.h"
#include "format/zstd_codec.h"

namespace traceloop::format {
namespace {

// Buffered reads from a file descriptor; distinguishes a clean end of file
// from one in the middle of a frame.
//
// Reads run on the prefetch thread, and a read from a pipe or a terminal can
// block forever (stdin whose writer never closes it). Joining that thread
// would then hang the reader's destructor, and detaching it would leave a
// thread running into static destruction. So, for anything but a regular
// file, every read first polls the descriptor together with an eventfd that
// cancel() makes readable: the blocked read returns an error instead. A
// regular file's read always completes, so it skips the extra syscall.
class InputFile {
 public:
  InputFile() = default;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile() {
    if (owned_ && fd_ >= 0) ::close(fd_);
  }
  Result<void> open(const std::filesystem::path& path) {
    if (path == "-") {
      fd_ = STDIN_FILENO;
      owned_ = false;
    } else {
      // A FIFO is opened without blocking: open() would wait for a writer
      // forever. Reads then tell whether one comes (awaiting_writer_).
      struct stat named {};
      awaiting_writer_ = ::stat(path.c_str(), &named) == 0 && S_ISFIFO(named.st_mode);
      fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (awaiting_writer_ ? O_NONBLOCK : 0));
      if (fd_ < 0) return Error{std::strerror(errno)};
      owned_ = true;
    }
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) {
      regular_size_ = static_cast<uint64_t>(st.st_size);
      return {};
    }
    wake_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake_) return Error{std::string("eventfd failed: ") + std::strerror(errno)};
    return {};
  }
  // Reads up to n bytes; fewer only at end of file.
  Result<size_t> read(char* out, size_t n) {
    size_t done = 0;
    while (done < n) {
      if (wake_) {
        if (auto ready = wait_readable(); !ready) return ready.error();
      }
      const ssize_t r = ::read(fd_, out + done, n - done);
      if (r < 0) {
        if (errno == EINTR) continue;
        // stdin may have been left non-blocking by whoever shares it: poll
        // again. On a FIFO it also says that a writer has come.
        if (wake_ && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          awaiting_writer_ = false;
          continue;
        }
        return Error{std::string("read failed: ") + std::strerror(errno)};
      }
      if (r == 0 && awaiting_writer_) {
        // No writer has opened the FIFO yet: one that is starting gets a
        // moment, then the FIFO is refused rather than waited on forever.
        if (std::chrono::steady_clock::now() - writer_wait_start() > kFifoWriterWait)
          return Error{"a FIFO with no writer: nothing to read"};
        continue;
      }
      if (r > 0) awaiting_writer_ = false;
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    offset_ += done;
    return done;
  }
  uint64_t offset() const { return offset_; }

  // Goes past up to n bytes without reading them where the file allows
  // (a regular file: a seek); fewer only at end of file.
  Result<size_t> skip(size_t n) {
    if (!regular_size_) {
      char scratch[65536];
      size_t done = 0;
      while (done < n) {
        auto got = read(scratch, std::min(sizeof(scratch), n - done));
        if (!got) return got.error();
        done += *got;
        if (*got == 0) break;
      }
      return done;
    }
    const size_t done = static_cast<size_t>(std::min<uint64_t>(n, *regular_size_ - std::min(*regular_size_, offset_)));
    if (::lseek(fd_, static_cast<off_t>(done), SEEK_CUR) < 0)
      return Error{std::string("seek failed: ") + std::strerror(errno)};
    offset_ += done;
    return done;
  }

  // Makes the current and every later read of a non-regular file fail at
  // once. Safe from any thread: it only writes to the eventfd, which is
  // never replaced after open().
  void cancel() const {
    if (!wake_) return;
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t ignored = ::write(wake_.get(), &one, sizeof(one));
  }

 private:
  static constexpr auto kFifoWriterWait = std::chrono::seconds(3);
  std::chrono::steady_clock::time_point writer_wait_start() {
    if (!writer_wait_start_) writer_wait_start_ = std::chrono::steady_clock::now();
    return *writer_wait_start_;
  }

  Result<void> wait_readable() const {
    std::array<pollfd, 2> fds{{{fd_, POLLIN, 0}, {wake_.get(), POLLIN, 0}}};
    for (;;) {
      // A FIFO no writer has opened yet reports nothing at all: look again
      // every 10 ms, by reading.
      const int r = ::poll(fds.data(), fds.size(), awaiting_writer_ ? 10 : -1);
      if (r == 0) return {};
      if (r < 0) {
        if (errno == EINTR) continue;
        return Error{std::string("poll failed: ") + std::strerror(errno)};
      }
      if (fds[1].revents != 0) return Error{"read cancelled"};
      // Data, end of file (POLLHUP) or an error: read() tells which.
      if (fds[0].revents != 0) return {};
    }
  }

  int fd_ = -1;
  bool owned_ = false;
  uint64_t offset_ = 0;
  UniqueFd wake_;  // only for inputs whose reads can block forever
  bool awaiting_writer_ = false;  // a FIFO from which nothing came yet
  std::optional<std::chrono::steady_clock::time_point> writer_wait_start_;
  std::optional<uint64_t> regular_size_;  // as opened: a regular file's, which skip() seeks in
};

using detail::MessageBuffer;

// Whether an events frame's message says that captures frames follow it
// (columnEncoding 4): the reader looks for them only then, so that a batch
// read from a pipe is not held back until the next frame comes. False for
// a message that does not parse (decoding it says why).
bool has_capture_parts(std::string_view message, const ReaderLimits& limits) {
  if (message.size() % sizeof(capnp::word) != 0) return false;
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = limits.traversal_limit_words;
    options.nestingLimit = limits.nesting_limit;
    capnp::FlatArrayMessageReader reader(
        kj::ArrayPtr<const capnp::word>(reinterpret_cast<const capnp::word*>(message.data()),
                                        message.size() / sizeof(capnp::word)),
        options);
    return reader.getRoot<schema::EventBatch>().getColumnEncoding() == detail::kColumnsParted;
  } catch (const kj::Exception&) {
    return false;
  }
}

// One frame, decompressed, and for an events frame decoded by whichever
// thread got to it first (see FramePrefetcher::produce()).
struct Frame {
  detail::FrameHeader header;
  uint64_t number = 0;  // 1-based among the complete frames of the file, for messages
  MessageBuffer message;             // decompressed, word aligned for Cap'n Proto
  DecodedBatch batch;                // its captures point into `message` or into itself
  std::optional<Result<void>> decoded;
  // An events frame another reader of the file owns (see
  // TraceReader::share_events_frames): read past, not decompressed.
  bool passed_over = false;
  // An events frame's captures frames (format 5), decompressed: the first
  // `capture_frames` of `captures` (kept from frame to frame for their
  // memory), and whether the file ended right after them.
  std::vector<MessageBuffer> captures;
  size_t capture_frames = 0;
  bool file_ended_after_captures = false;
  std::vector<std::string_view> capture_messages;  // views of them, for the decoder

  std::string_view bytes() const {
    return {reinterpret_cast<const char*>(message.data()), header.raw_size};
  }
  // Decoding is a pure function of the messages: done on either thread, it
  // gives the same batch and the same error, which the caller reports only
  // where it reaches the frame.
  const Result<void>& decode(const ReaderLimits& limits) {
    if (!decoded) {
      capture_messages.clear();
      for (size_t k = 0; k < capture_frames; ++k)
        capture_messages.emplace_back(reinterpret_cast<const char*>(captures[k].data()),
                                      captures[k].size() * sizeof(capnp::word));
      decoded = decode_event_batch(bytes(), batch, limits, {capture_messages, file_ended_after_captures});
    }
    return *decoded;
  }
};

// Reads and decompresses the frames of one file in order. open() uses it for
// the header frame; afterwards only the prefetch thread does.
class FrameSource {
 public:
  FrameSource(std::string name, ReaderLimits limits) : name_(std::move(name)), limits_(limits) {}

  InputFile& input() { return input_; }
  const InputFile& input() const { return input_; }
  const ReaderLimits& limits() const { return limits_; }
  // Set before the first next(): see TraceReader::share_events_frames.
  void share_events_frames(uint32_t stride, uint32_t offset) {
    stride_ = std::max<uint32_t>(stride, 1);
    offset_ = offset;
  }
  void pass_over_events() { pass_over_all_ = true; }

  // true: `frame` holds the next frame. false: a clean end, or a cut file
  // (then `warning` says so). An error for corrupt or oversized frames; the
  // next call goes on after the bytes it consumed, as it always did.
  Result<bool> next(Frame& frame, std::string& warning) {
    char header[kFrameHeaderBytes];
    uint64_t frame_offset = 0;
    auto got = read_frame_header(header, frame_offset);
    if (!got) return error(got.error().message);
    if (*got == 0) return false;
    if (*got < sizeof(header)) {
      warning = name_ + ": file is truncated (incomplete frame header at byte " + std::to_string(frame_offset) +
                "); showing the " + std::to_string(frames_read_) + " complete frames";
      return false;
    }
    frame.header = detail::parse_frame_header(header);
    const auto& h = frame.header;
    if (auto problem = detail::frame_header_problem(header, limits_); !problem.empty())
      return error("corrupt frame at byte " + std::to_string(frame_offset) + " (" + problem + ")");
    // An events frame's own are read with it.
    if (h.type == static_cast<uint8_t>(FrameType::captures))
      return error("corrupt frame at byte " + std::to_string(frame_offset) +
                   " (a captures frame after no events frame that has captures frames)");
    frame.capture_frames = 0;
    frame.file_ended_after_captures = false;
    if (pass_over_all_ && h.type == static_cast<uint8_t>(FrameType::events)) {
      got = input_.skip(h.compressed_size);
      if (!got) return error(got.error().message);
      if (*got < h.compressed_size) {
        warning = name_ + ": file is truncated (last frame has " + std::to_string(*got) + " of " +
                  std::to_string(h.compressed_size) + " bytes); showing the " + std::to_string(frames_read_) +
                  " complete frames";
        return false;
      }
      frame.decoded.reset();
      frame.passed_over = true;
      frame.number = ++frames_read_;
      if (auto r = read_captures(frame, warning); !r) return r.error();
      return true;
    }
    compressed_.resize(h.compressed_size);
    got = input_.read(compressed_.data(), h.compressed_size);
    if (!got) return error(got.error().message);
    if (*got < h.compressed_size) {
      warning = name_ + ": file is truncated (last frame has " + std::to_string(*got) + " of " +
                std::to_string(h.compressed_size) + " bytes); showing the " + std::to_string(frames_read_) +
                " complete frames";
      return false;
    }
    frame.decoded.reset();
    frame.passed_over = h.type == static_cast<uint8_t>(FrameType::events) && events_frames_++ % stride_ != offset_;
    if (!frame.passed_over) {
      frame.message.resize_for_overwrite(h.raw_size / sizeof(capnp::word));
      if (auto r = decompressor_.decompress(h, compressed_, reinterpret_cast<char*>(frame.message.data())); !r)
        return error(r.error().message + " at byte " + std::to_string(frame_offset));
    }
    frame.number = ++frames_read_;
    // A passed-over frame's message is unknown: any captures frames after it
    // are its own.
    if (h.type == static_cast<uint8_t>(FrameType::events) &&
        (frame.passed_over || has_capture_parts(frame.bytes(), limits_))) {
      if (auto r = read_captures(frame, warning); !r) return r.error();
    }
    return true;
  }

 private:
  Error error(const std::string& what) const { return Error{name_ + ": " + what}; }

  // The next frame header: the one read_captures() read ahead, or the
  // file's next bytes (fewer at its end). `offset`: where it is.
  Result<size_t> read_frame_header(char* out, uint64_t& offset) {
    if (has_pending_) {
      std::memcpy(out, pending_header_, kFrameHeaderBytes);
      offset = pending_offset_;
      has_pending_ = false;
      return kFrameHeaderBytes;
    }
    auto got = input_.read(out, kFrameHeaderBytes);
    if (got) offset = input_.offset() - *got;
    return got;
  }

  std::string truncated(uint64_t got, uint64_t of) const {
    return name_ + ": file is truncated (last frame has " + std::to_string(got) + " of " + std::to_string(of) +
           " bytes); showing the " + std::to_string(frames_read_) + " complete frames";
  }

  // The captures frames after an events frame are its own: read with it,
  // decompressed unless it is passed over, up to the next frame of another
  // type, whose header the next call takes. Together they hold at most the
  // frame limit. A file cut among them is no error: the events frame
  // decodes without the missing parts (see CaptureFrames).
  Result<void> read_captures(Frame& frame, std::string& warning) {
    uint64_t raw = frame.header.raw_size;
    for (;;) {
      uint64_t offset = 0;
      auto got = read_frame_header(pending_header_, offset);
      if (!got) return error(got.error().message);
      if (*got < kFrameHeaderBytes) {
        if (*got > 0)
          warning = name_ + ": file is truncated (incomplete frame header at byte " + std::to_string(offset) +
                    "); showing the " + std::to_string(frames_read_) + " complete frames";
        frame.file_ended_after_captures = true;
        return {};
      }
      const detail::FrameHeader h = detail::parse_frame_header(pending_header_);
      if (h.type != static_cast<uint8_t>(FrameType::captures)) {
        has_pending_ = true;
        pending_offset_ = offset;
        return {};
      }
      const std::string at = "corrupt frame at byte " + std::to_string(offset);
      if (auto problem = detail::frame_header_problem(pending_header_, limits_); !problem.empty())
        return error(at + " (" + problem + ")");
      if (raw + h.raw_size > limits_.max_frame_raw_bytes)
        return error(at + " (an events frame and its captures frames declare more than " +
                     std::to_string(limits_.max_frame_raw_bytes) + " decompressed bytes)");
      raw += h.raw_size;
      if (frame.capture_frames == kMaxCaptureFrames)
        return error(at + " (more than " + std::to_string(kMaxCaptureFrames) + " captures frames after an events frame)");
      if (frame.passed_over) {
        got = input_.skip(h.compressed_size);
      } else {
        compressed_.resize(h.compressed_size);
        got = input_.read(compressed_.data(), h.compressed_size);
      }
      if (!got) return error(got.error().message);
      if (*got < h.compressed_size) {
        warning = truncated(*got, h.compressed_size);
        frame.file_ended_after_captures = true;
        return {};
      }
      if (!frame.passed_over) {
        if (frame.captures.size() == frame.capture_frames) frame.captures.emplace_back();
        MessageBuffer& part = frame.captures[frame.capture_frames];
        part.resize_for_overwrite(h.raw_size / sizeof(capnp::word));
        if (auto r = decompressor_.decompress(h, compressed_, reinterpret_cast<char*>(part.data())); !r)
          return error(r.error().message + " at byte " + std::to_string(offset));
      }
      ++frame.capture_frames;
      ++frames_read_;
    }
  }

  const std::string name_;
  const ReaderLimits limits_;
  InputFile input_;
  detail::FrameDecompressor decompressor_;
  std::string compressed_;
  uint64_t frames_read_ = 0;
  uint64_t events_frames_ = 0;
  uint32_t stride_ = 1, offset_ = 0;
  bool pass_over_all_ = false;  // events frames are skipped, never read
  char pending_header_[kFrameHeaderBytes] = {};
  uint64_t pending_offset_ = 0;
  bool has_pending_ = false;
};

// One outcome of FrameSource::next(), in file order.
struct Fetched {
  Result<bool> got = false;
  std::string warning;
  std::exception_ptr exception;  // what next() threw (bad_alloc): rethrown on the caller's thread
  // Always set, even with an error: the buffer travels with its outcome, so
  // the fixed set of buffers bounds the queue and the memory.
  std::unique_ptr<Frame> frame;
};

// Runs a FrameSource on its own thread, kFramesAhead frames ahead of the
// caller, so that decompression (a third of tl-stats) and part of the
// decoding overlap what the caller does with the previous batch, on the
// other core.
//
// Frames circulate: free_ -> the producer fills one -> ready_ -> the
// caller's current_ -> back to free_ on the caller's next call, never
// earlier, because the batch the caller holds points into it. Memory is
// bounded by (kFramesAhead + 1) frames of at most limits.max_frame_raw_bytes
// (an events frame and its captures frames together; and their decoded
// batches, which hold a copy of the captured bytes of captures frames) plus
// one compressed frame, and a steady-state read allocates nothing.
class FramePrefetcher {
 public:
  static constexpr size_t kFramesAhead = 2;
  static constexpr size_t kBuffers = kFramesAhead + 1;  // + the caller's current frame

  // `spare` (the header frame's buffer) becomes one of the circulating buffers.
  FramePrefetcher(std::unique_ptr<FrameSource> source, std::unique_ptr<Frame> spare) : source_(std::move(source)) {
    free_.reserve(kBuffers);
    free_.push_back(std::move(spare));
    while (free_.size() < kBuffers) free_.push_back(std::make_unique<Frame>());
    if (!second_cpu_available()) return;  // next() reads inline
    try {
      producer_ = std::thread([this] { produce(); });
    } catch (const std::system_error&) {
      // No thread to be had (RLIMIT_NPROC, a seccomp sandbox): next() reads
      // inline, as the reader always did before. Slower, never wrong.
    }
  }

  FramePrefetcher(const FramePrefetcher&) = delete;
  FramePrefetcher& operator=(const FramePrefetcher&) = delete;

  // Never hangs on a producer waiting for a free buffer (stop_ wakes it) or
  // blocked reading a pipe or stdin (cancel() wakes it). Only a regular-file
  // read that never completes (a dead NFS server) could hold it up, and that
  // would have hung the synchronous reader just the same. Whatever the
  // producer read ahead of the caller is lost: for stdin, bytes beyond the
  // frames the caller consumed are gone from the pipe.
  ~FramePrefetcher() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_producer_.notify_all();
    source_->input().cancel();
    if (producer_.joinable()) producer_.join();
  }

  // The next outcome, in file order. Its frame stays valid and unmodified
  // until the next call.
  Fetched& next() {
    if (!producer_.joinable()) {
      if (!current_.frame) {
        current_.frame = std::move(free_.back());
        free_.pop_back();
      }
      current_.warning.clear();
      current_.got = source_->next(*current_.frame, current_.warning);
      return current_;
    }
    std::unique_lock lock(mutex_);
    if (current_.frame) {
      free_.push_back(std::move(current_.frame));
      wake_producer_.notify_one();
    }
    wake_consumer_.wait(lock, [&] { return ready_count_ > 0 || producer_done_; });
    if (ready_count_ == 0) {
      // Only after the end, or after an exception ended the producer.
      current_ = Fetched{};
      return current_;
    }
    current_ = std::move(ready_[ready_head_]);
    ready_head_ = (ready_head_ + 1) % ready_.size();
    --ready_count_;
    return current_;
  }

 private:
  void produce() {
    for (;;) {
      std::unique_ptr<Frame> frame;
      {
        std::unique_lock lock(mutex_);
        wake_producer_.wait(lock, [&] { return stop_ || !free_.empty(); });
        if (stop_) break;
        frame = std::move(free_.back());
        free_.pop_back();
      }
      Fetched fetched;
      try {
        fetched.got = source_->next(*frame, fetched.warning);
        if (fetched.got.ok() && *fetched.got && frame->header.type == static_cast<uint8_t>(FrameType::events) &&
            !frame->passed_over && caller_has_work())
          frame->decode(source_->limits());
      } catch (...) {
        fetched.exception = std::current_exception();
      }
      fetched.frame = std::move(frame);
      // After the end, the synchronous reader was never asked again; after an
      // error it could be, so the producer goes on like it would have.
      const bool last = fetched.exception || (fetched.got.ok() && !*fetched.got);
      {
        std::lock_guard lock(mutex_);
        if (stop_) break;  // also discards the error a cancelled read returns
        ready_[(ready_head_ + ready_count_) % ready_.size()] = std::move(fetched);
        ++ready_count_;
      }
      wake_consumer_.notify_one();
      if (last) break;
    }
    {
      std::lock_guard lock(mutex_);
      producer_done_ = true;
    }
    wake_consumer_.notify_one();
  }

  // Whether the producer should decode the frame it just decompressed rather
  // than leave that to the caller. Measured on tl-stats (2 cores): the
  // caller alone decoding left the producer idle half the time; the producer
  // always decoding made it the bottleneck instead (a core reading what the
  // other one wrote is slow, which inflates whichever side reads second).
  // So the producer decodes only while the caller has a frame queued, i.e.
  // when it would otherwise soon wait for a buffer, and hands a frame over
  // at once when the caller may be waiting for it. The split then follows
  // the caller's speed, whatever it does with the batches.
  bool caller_has_work() {
    std::lock_guard lock(mutex_);
    return ready_count_ > 0;
  }

  // The pipeline costs CPU time: frames are read a frame later, out of
  // cache, and by the other core. Two busy cores more than make up for it;
  // one does not (tl-stats pinned to one CPU with taskset: 15% slower with
  // the thread). A process confined to one CPU therefore reads inline. (One
  // of two CPUs kept busy by something else is the same loss, but nothing
  // cheap tells that apart from a passing spike.)
  static bool second_cpu_available() {
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    if (::sched_getaffinity(0, sizeof(cpus), &cpus) != 0) return true;  // more CPUs than a cpu_set_t holds
    return CPU_COUNT(&cpus) >= 2;
  }

  const std::unique_ptr<FrameSource> source_;  // the producer's alone once it runs (cancel() aside)
  std::mutex mutex_;
  std::condition_variable wake_producer_;  // a buffer came back, or stop_
  std::condition_variable wake_consumer_;  // an outcome is ready, or the producer ended
  std::vector<std::unique_ptr<Frame>> free_;
  // A ring rather than a deque: a deque allocates as it cycles. It cannot
  // overflow: every entry holds one of the kBuffers buffers.
  std::array<Fetched, kBuffers> ready_;
  size_t ready_head_ = 0;
  size_t ready_count_ = 0;
  bool stop_ = false;
  bool producer_done_ = false;
  Fetched current_;       // the caller's; only touched on the caller's thread
  std::thread producer_;  // last: starts once every member it uses exists
};

}  // namespace

struct TraceReader::State {
  std::string name;
  ReaderLimits limits;
  // The header is read synchronously, so that open() reports a broken
  // preamble or header itself; `source` and `header_frame` are then handed
  // to the prefetcher at the first next_batch(). Not at open(): a reader
  // opened for its metadata only (parallel tl-grep opens one) would
  // otherwise decompress frames nobody reads.
  std::unique_ptr<FrameSource> source;
  std::unique_ptr<Frame> header_frame;
  std::unique_ptr<FramePrefetcher> prefetcher;
  Frame* frame = nullptr;  // the frame being parsed; the last batch points into it
  TraceMetadata metadata;
  std::vector<ProcessInfo> processes;
  std::optional<Counters> counters;
  std::vector<std::string> warnings;
  bool at_end = false;
  uint64_t events_read = 0;          // in the events frames so far, those passed over included
  uint64_t events_before_batch = 0;  // of them, before the last batch returned

  Error error(const std::string& what) const { return Error{name + ": " + what}; }

  // The next frame, read ahead by the prefetcher: false at a clean end or a
  // cut file (with a warning); an error for corrupt or oversized frames.
  Result<bool> next_frame() {
    if (!prefetcher) prefetcher = std::make_unique<FramePrefetcher>(std::move(source), std::move(header_frame));
    Fetched& fetched = prefetcher->next();
    if (fetched.exception) std::rethrow_exception(std::exchange(fetched.exception, nullptr));
    if (!fetched.warning.empty()) warnings.push_back(std::move(fetched.warning));
    frame = fetched.frame.get();
    return fetched.got;
  }

  capnp::ReaderOptions reader_options() const {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = limits.traversal_limit_words;
    options.nestingLimit = limits.nesting_limit;
    return options;
  }

  // Parses the current frame's message as `Root` and hands it to `use`;
  // Cap'n Proto's complaints about hostile bytes become "corrupt WHAT (...)".
  template <typename Root, typename Use>
  Result<void> parse_frame(const std::string& what, Use&& use) {
    try {
      capnp::FlatArrayMessageReader reader(
          kj::ArrayPtr<const capnp::word>(frame->message.data(), frame->message.size()), reader_options());
      Result<void> used = use(reader.template getRoot<Root>());
      if (!used) return error("corrupt " + what + " (" + used.error().message + ")");
      return {};
    } catch (const kj::Exception& e) {
      return error("corrupt " + what + " (" + std::string(e.getDescription().cStr()) + ")");
    }
  }

  Result<void> read_header() {
    header_frame = std::make_unique<Frame>();
    std::string warning;  // a file cut inside its header frame is an error, not a warning
    auto got = source->next(*header_frame, warning);
    if (!got) return got.error();
    frame = header_frame.get();
    if (!*got || frame->header.type != static_cast<uint8_t>(FrameType::header))
      return error("corrupt trace (no header frame)");
    return parse_frame<schema::Header>("header", [&](schema::Header::Reader root) -> Result<void> {
      auto parsed = detail::from_schema(root);
      if (!parsed) return parsed.error();
      const uint16_t major = metadata.format_major, minor = metadata.format_minor;
      metadata = std::move(parsed).value();
      metadata.format_major = major;
      metadata.format_minor = minor;
      return {};
    });
  }

  Result<void> read_processes() {
    return parse_frame<schema::ProcessTable>("process table", [&](schema::ProcessTable::Reader root) -> Result<void> {
      // As for loss markers: zero-sized entries would cost nothing to declare.
      if (root.getProcesses().size() > frame->message.size()) return Error{"more processes than the frame holds"};
      auto parsed = detail::from_schema(root);
      if (!parsed) return parsed.error();
      for (auto& p : *parsed) processes.push_back(std::move(p));
      return {};
    });
  }

  Result<void> read_trailer() {
    return parse_frame<schema::Trailer>("trailer", [&](schema::Trailer::Reader root) -> Result<void> {
      counters = detail::from_schema(root);
      return {};
    });
  }

  // Nothing more will be read: the producer thread and its buffers go now
  // rather than with the reader.
  void finish() {
    at_end = true;
    frame = nullptr;
    prefetcher.reset();
  }
};

TraceReader::TraceReader(std::unique_ptr<State> state) : state_(std::move(state)) {}
TraceReader::TraceReader(TraceReader&&) noexcept = default;
TraceReader& TraceReader::operator=(TraceReader&&) noexcept = default;
TraceReader::~TraceReader() = default;

Result<TraceReader> TraceReader::open(const std::filesystem::path& path, ReaderLimits limits) {
  auto state = std::make_unique<State>();
  state->name = path == "-" ? "<stdin>" : path.string();
  state->limits = limits;
  state->source = std::make_unique<FrameSource>(state->name, limits);
  InputFile& input = state->source->input();
  if (auto r = input.open(path); !r) return state->error(r.error().message);
  char preamble[kPreambleBytes];
  auto got = input.read(preamble, sizeof(preamble));
  if (!got) return state->error(got.error().message);
  if (*got < sizeof(kMagic) || std::memcmp(preamble, kMagic, sizeof(kMagic)) != 0)
    return state->error("not a traceloop trace");
  if (*got < sizeof(preamble)) return state->error("corrupt trace (file ends inside the preamble)");
  const auto u16 = [&](size_t at) {
    return static_cast<uint16_t>(static_cast<uint8_t>(preamble[at]) | static_cast<uint8_t>(preamble[at + 1]) << 8);
  };
  const uint16_t major = u16(8), minor = u16(10);
  if (major > kFormatMajor)
    return state->error("trace format " + std::to_string(major) + "." + std::to_string(minor) +
                        " is newer than this tool reads (" + std::to_string(kFormatMajor) +
                        ".x); upgrade traceloop");
  if (major < kOldestFormatMajor)
    return state->error("corrupt trace (format version " + std::to_string(major) + ")");
  state->metadata.format_major = major;
  state->metadata.format_minor = minor;
  if (auto r = state->read_header(); !r) return r.error();
  state->frame = nullptr;
  return TraceReader(std::move(state));
}

const TraceMetadata& TraceReader::metadata() const { return state_->metadata; }
const std::string& TraceReader::file_name() const { return state_->name; }
const std::vector<ProcessInfo>& TraceReader::processes() const { return state_->processes; }
const std::optional<Counters>& TraceReader::counters() const { return state_->counters; }
const std::vector<std::string>& TraceReader::warnings() const { return state_->warnings; }

void TraceReader::share_events_frames(uint32_t stride, uint32_t offset) {
  if (state_->source) state_->source->share_events_frames(stride, offset);  // before the prefetcher owns it
}
uint64_t TraceReader::events_before_batch() const { return state_->events_before_batch; }
void TraceReader::pass_over_events() {
  if (state_->source) state_->source->pass_over_events();
}
uint64_t TraceReader::events_so_far() const { return state_->events_read; }

Result<const DecodedBatch*> TraceReader::next_batch() {
  State& s = *state_;
  while (!s.at_end) {
    auto got = s.next_frame();
    if (!got) return got.error();
    if (!*got) {
      s.finish();
      break;
    }
    if (s.counters) {
      s.warnings.push_back(s.name + ": data after the trailer ignored");
      s.finish();
      return nullptr;
    }
    Frame& frame = *s.frame;
    switch (static_cast<FrameType>(frame.header.type)) {
      case FrameType::events: {
        if (frame.passed_over) {
          // Its header's count: the reader that owns the frame checks it.
          s.events_read += frame.header.event_count;
          break;
        }
        if (const auto& decoded = frame.decode(s.limits); !decoded)
          return s.error(decoded.error().message + " in frame " + std::to_string(frame.number));
        if (frame.batch.size() != frame.header.event_count)
          return s.error("corrupt frame " + std::to_string(frame.number) + " (event count disagrees with header)");
        if (const size_t cut_from = frame.batch.captures_cut_from(); cut_from < frame.batch.size())
          s.warnings.push_back(s.name + ": file cut short: the last " + std::to_string(frame.batch.size() - cut_from) +
                               " of the " + std::to_string(frame.batch.size()) + " events of frame " +
                               std::to_string(frame.number) + " (from event " +
                               std::to_string(s.events_read + cut_from + 1) +
                               " of the file on) lost their captured data: their paths, strings, buffers and "
                               "structures show as addresses");
        s.events_before_batch = s.events_read;
        s.events_read += frame.batch.size();
        return &frame.batch;
      }
      case FrameType::processes:
        if (auto r = s.read_processes(); !r) return r.error();
        break;
      case FrameType::trailer:
        if (auto r = s.read_trailer(); !r) return r.error();
        break;
      case FrameType::header:
        return s.error("corrupt trace (second header frame " + std::to_string(frame.number) + ")");
      default:
        // A frame type from a newer minor version: skipped, it only adds information.
        break;
    }
  }
  if (!s.counters && s.warnings.empty())
    s.warnings.push_back(s.name + ": no trailer (the recorder did not finish this file; counters unknown)");
  return nullptr;
}

// ------------------------------------------------------------- iteration --

TraceReader::RecordIterator::RecordIterator(TraceReader* reader) : reader_(reader), done_(false) { advance(); }

TraceReader::RecordIterator& TraceReader::RecordIterator::operator++() {
  advance();
  return *this;
}

void TraceReader::RecordIterator::advance() {
  for (;;) {
    if (batch_ != nullptr) {
      const auto losses = batch_->losses();
      if (loss_index_ < losses.size() && losses[loss_index_].before_event <= event_index_) {
        current_.kind = Record::Kind::loss;
        current_.loss = losses[loss_index_++].loss;
        return;
      }
      const auto notices = batch_->notices();
      if (notice_index_ < notices.size() && notices[notice_index_].before_event <= event_index_) {
        current_.kind = Record::Kind::notice;
        current_.notice = notices[notice_index_++].notice;
        return;
      }
      if (event_index_ < batch_->size()) {
        current_.kind = Record::Kind::event;
        current_.event = batch_->event(event_index_++);
        return;
      }
    }
    auto next = reader_->next_batch();
    if (!next) throw FatalError(next.error());
    batch_ = *next;
    event_index_ = 0;
    loss_index_ = 0;
    notice_index_ = 0;
    if (batch_ == nullptr) {
      done_ = true;
      return;
    }
  }
}

TraceReader::RecordRange TraceReader::records() { return RecordRange(this); }

Result<LoadedTrace> load_trace(const std::filesystem::path& path, size_t max_events,
                               const std::function<void(size_t events)>& on_batch) {
  auto reader = TraceReader::open(path);
  if (!reader) return reader.error();
  LoadedTrace trace;
  trace.metadata = reader->metadata();
  for (;;) {
    auto batch = reader->next_batch();
    if (!batch) return batch.error();
    if (*batch == nullptr) break;
    const DecodedBatch& b = **batch;
    if (on_batch) on_batch(b.size());
    size_t loss_index = 0, notice_index = 0;
    const auto losses = b.losses();
    const auto notices = b.notices();
    for (size_t i = 0; i <= b.size(); ++i) {
      while (loss_index < losses.size() && losses[loss_index].before_event == i)
        trace.losses.emplace_back(trace.events.size(), losses[loss_index++].loss);
      while (notice_index < notices.size() && notices[notice_index].before_event == i)
        trace.notices.emplace_back(trace.events.size(), OwnedTaskNotice::from(notices[notice_index++].notice));
      if (i == b.size()) break;
      if (trace.events.size() >= max_events)
        return Error{reader->file_name() + ": more than " + std::to_string(max_events) + " events"};
      trace.events.push_back(OwnedEvent::from(b.event(i)));
    }
  }
  trace.processes = reader->processes();
  trace.counters = reader->counters();
  trace.warnings = reader->warnings();
  return trace;
}

}  // namespace traceloop::format
