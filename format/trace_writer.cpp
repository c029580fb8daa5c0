#include "format/trace_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capnp/message.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <random>

#include "format/frame_codec.h"
#include "format/schema_convert.h"
#include "format/unique_fd.h"
#include "format/zstd_codec.h"

namespace traceloop::format {
namespace {

std::string errno_text(int err) { return std::strerror(err); }


constexpr int kHeaderCompressionLevel = 19;

int64_t wall_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

struct TraceWriter::State {
  std::filesystem::path final_path;
  std::filesystem::path temp_path;
  UniqueFd fd;
  WriterOptions options;
  ZstdCompressor compressor;
  EventBatchBuilder batch;
  Counters counters;
  uint64_t bytes_written = 0;
  bool finished = false;
  bool any_event = false;

  State(WriterOptions opts)
      : options(opts), compressor(opts.compression_level), batch(opts.max_events_per_frame, opts.max_frame_raw_bytes) {}

  Result<void> write_all(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd.get(), bytes.data(), bytes.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error{temp_path.string() + ": write failed: " + errno_text(errno)};
      }
      bytes.remove_prefix(static_cast<size_t>(n));
      bytes_written += static_cast<uint64_t>(n);
    }
    return {};
  }

  Result<void> flush_batch() {
    if (batch.empty()) return {};
    const EncodedFrame frame = batch.finish(compressor);
    return write_all(frame.bytes);
  }

  void note_frame(uint64_t events, uint64_t first_ns, uint64_t last_ns) {
    if (events == 0) return;
    counters.events_recorded += events;
    if (!any_event || first_ns < counters.first_ns) counters.first_ns = first_ns;
    counters.last_ns = std::max(counters.last_ns, last_ns);
    any_event = true;
  }
};

TraceWriter::TraceWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
TraceWriter::TraceWriter(TraceWriter&&) noexcept = default;
TraceWriter& TraceWriter::operator=(TraceWriter&&) noexcept = default;

TraceWriter::~TraceWriter() {
  if (state_ && !state_->finished) {
    state_->fd.reset();
    ::unlink(state_->temp_path.c_str());
  }
}

Result<TraceWriter> TraceWriter::create(const std::filesystem::path& path, const TraceMetadata& metadata,
                                        WriterOptions options) {
  auto state = std::make_unique<State>(options);
  state->final_path = path;
  // Same directory as the destination, so the final rename is atomic.
  std::random_device random;
  char suffix[32];
  std::snprintf(suffix, sizeof(suffix), ".tmp.%d.%08x", ::getpid(), random());
  state->temp_path = path;
  state->temp_path += suffix;
  const int fd = ::open(state->temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, options.file_mode);
  if (fd < 0) return Error{path.string() + ": cannot create trace file: " + errno_text(errno)};
  state->fd.reset(fd);
  // The umask must not widen or narrow what the caller asked for.
  if (::fchmod(fd, options.file_mode) != 0) {
    const int err = errno;
    ::unlink(state->temp_path.c_str());
    return Error{path.string() + ": cannot set file mode: " + errno_text(err)};
  }

  capnp::MallocMessageBuilder message;
  detail::to_schema(metadata, message.initRoot<schema::Header>());
  // Written once per file, mostly the catalogue: worth the strongest level.
  ZstdCompressor header_compressor(kHeaderCompressionLevel);
  EncodedFrame header;
  detail::encode_frame(FrameType::header, message, 0, header_compressor, header);
  if (header.raw_size > kMaxFrameRawBytes) {
    ::unlink(state->temp_path.c_str());
    return Error{path.string() + ": trace header too large"};
  }
  TraceWriter writer(std::move(state));
  if (auto r = writer.state_->write_all(detail::make_preamble(kFormatMajor, kFormatMinor)); !r) return r.error();
  if (auto r = writer.state_->write_all(header.bytes); !r) return r.error();
  return writer;
}

Result<void> TraceWriter::append(const Event& event) {
  State& s = *state_;
  s.batch.add(event);
  s.note_frame(1, event.enter_ns, event.enter_ns);
  if (s.batch.should_flush()) return s.flush_batch();
  return {};
}

Result<void> TraceWriter::append_loss(const LossMarker& loss) {
  state_->batch.add_loss(loss);
  state_->counters.events_lost += loss.lost;
  state_->counters.events_overwritten += loss.overwritten;
  return {};
}

Result<void> TraceWriter::append_processes(std::span<const ProcessInfo> processes) {
  // Chunked so that a huge process table still respects the frame size limit.
  constexpr size_t kChunk = 4096;
  for (size_t begin = 0; begin < processes.size(); begin += kChunk) {
    const auto chunk = processes.subspan(begin, std::min(kChunk, processes.size() - begin));
    capnp::MallocMessageBuilder message;
    detail::to_schema(std::vector<ProcessInfo>(chunk.begin(), chunk.end()), message.initRoot<schema::ProcessTable>());
    EncodedFrame frame;
    detail::encode_frame(FrameType::processes, message, 0, state_->compressor, frame);
    if (auto r = state_->write_all(frame.bytes); !r) return r;
  }
  return {};
}

Result<void> TraceWriter::append_frame(const EncodedFrame& frame) {
  State& s = *state_;
  // Keep file order: events appended one by one before this frame come first.
  if (auto r = s.flush_batch(); !r) return r;
  s.note_frame(frame.event_count, frame.first_ns, frame.last_ns);
  s.counters.events_lost += frame.lost;
  s.counters.events_overwritten += frame.overwritten;
  return s.write_all(frame.bytes);
}

Counters& TraceWriter::counters() { return state_->counters; }

Result<void> TraceWriter::finish() {
  State& s = *state_;
  if (auto r = s.flush_batch(); !r) return r;
  s.counters.end_wall_ns = wall_now_ns();
  capnp::MallocMessageBuilder message;
  detail::to_schema(s.counters, message.initRoot<schema::Trailer>());
  EncodedFrame trailer;
  detail::encode_frame(FrameType::trailer, message, 0, s.compressor, trailer);
  if (auto r = s.write_all(trailer.bytes); !r) return r;
  if (::fsync(s.fd.get()) != 0) return Error{s.temp_path.string() + ": fsync failed: " + errno_text(errno)};
  s.fd.reset();
  if (::rename(s.temp_path.c_str(), s.final_path.c_str()) != 0)
    return Error{s.final_path.string() + ": cannot publish trace: " + errno_text(errno)};
  s.finished = true;
  // The rename itself must survive a crash: sync the directory entry too.
  auto dir = s.final_path.parent_path();
  if (dir.empty()) dir = ".";
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() >= 0) ::fsync(dir_fd.get());
  return {};
}

const std::filesystem::path& TraceWriter::path() const { return state_->final_path; }
uint64_t TraceWriter::bytes_written() const { return state_->bytes_written; }

}  // namespace traceloop::format
