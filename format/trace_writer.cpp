#include "format/trace_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capnp/message.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "format/frame_codec.h"
#include "format/published_file.h"
#include "format/schema_convert.h"
#include "format/trace_compaction.h"
#include "format/unique_fd.h"
#include "format/zstd_codec.h"

namespace traceloop::format {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

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
  TraceMetadata metadata;  // for the compacted header; empty without compaction
  Counters counters;
  uint64_t bytes_written = 0;
  uint64_t frames_begin = 0;      // where the frames after the header start
  uint64_t frames_raw_bytes = 0;  // decompressed size of every frame written
  bool finished = false;
  bool any_event = false;

  State(WriterOptions opts)
      : options(opts), compressor(opts.compression_level), batch(opts.max_events_per_frame, opts.max_frame_raw_bytes) {}

  Result<void> write_all(std::string_view bytes) {
    if (auto r = format::write_all(fd.get(), bytes, temp_path); !r) return r;
    bytes_written += bytes.size();
    return {};
  }

  Result<void> write_frame(const EncodedFrame& frame) {
    frames_raw_bytes += frame.raw_size;
    return write_all(frame.bytes);
  }

  // The compacted file under a second temporary name, fsynced: what finish()
  // publishes instead of the first when compaction is on and worth it.
  Result<std::filesystem::path> write_compacted() {
    auto file = detail::compact_trace(fd.get(), frames_begin, bytes_written, metadata);
    if (!file) return file.error();
    const auto path = temp_path_for(final_path);
    auto out = create_exclusive(path, final_path, options.file_mode);
    if (!out) return out.error();
    Result<void> written = format::write_all(out->get(), *file, path);
    if (written && ::fsync(out->get()) != 0) written = Error{path.string() + ": fsync failed: " + errno_text(errno)};
    if (!written) {
      ::unlink(path.c_str());
      return written.error();
    }
    bytes_written = file->size();
    return path;
  }

  Result<void> flush_batch() {
    if (batch.empty()) return {};
    const EncodedFrame frame = batch.finish(compressor);
    return write_frame(frame);
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
  // Renaming onto a directory would fail only once the trace is complete.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Error{path.string() + ": is a directory"};
  auto state = std::make_unique<State>(options);
  state->final_path = path;
  state->temp_path = temp_path_for(path);
  auto fd = create_exclusive(state->temp_path, path, options.file_mode);
  if (!fd) return fd.error();
  state->fd = std::move(*fd);
  auto header = detail::encode_header_frame(
      metadata, options.compact_max_raw_bytes > 0 ? detail::HeaderCodec::zstd_fast : detail::HeaderCodec::zstd);
  if (!header) {
    ::unlink(state->temp_path.c_str());
    return Error{path.string() + ": " + header.error().message};
  }
  if (options.compact_max_raw_bytes > 0) state->metadata = metadata;  // only compaction reads it again
  state->batch.set_time_unit(metadata.capture.timestamp_resolution_ns);
  TraceWriter writer(std::move(state));
  if (auto r = writer.state_->write_all(detail::make_preamble(kFormatMajor, kFormatMinor)); !r) return r.error();
  if (auto r = writer.state_->write_all(header->bytes); !r) return r.error();
  writer.state_->frames_begin = writer.state_->bytes_written;
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

Result<void> TraceWriter::append_notice(const TaskNotice& notice) {
  State& s = *state_;
  s.batch.add_notice(notice);
  if (s.batch.should_flush()) return s.flush_batch();
  return {};
}

Result<void> TraceWriter::append_processes(std::span<const ProcessInfo> processes) {
  // Chunked so that a huge process table still respects the frame size limit.
  constexpr size_t kChunk = 4096;
  for (size_t begin = 0; begin < processes.size(); begin += kChunk) {
    const auto chunk = processes.subspan(begin, std::min(kChunk, processes.size() - begin));
    detail::FrameMessage message(chunk.size() * 64);
    detail::to_schema(std::vector<ProcessInfo>(chunk.begin(), chunk.end()),
                      message.builder().initRoot<schema::ProcessTable>());
    EncodedFrame frame;
    detail::encode_frame(FrameType::processes, message, 0, state_->compressor, frame);
    if (auto r = state_->write_frame(frame); !r) return r;
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
  return s.write_frame(frame);
}

Counters& TraceWriter::counters() { return state_->counters; }

Result<void> TraceWriter::finish() {
  State& s = *state_;
  if (auto r = s.flush_batch(); !r) return r;
  s.counters.end_wall_ns = wall_now_ns();
  detail::FrameMessage message(64);
  detail::to_schema(s.counters, message.builder().initRoot<schema::Trailer>());
  EncodedFrame trailer;
  detail::encode_frame(FrameType::trailer, message, 0, s.compressor, trailer);
  if (auto r = s.write_frame(trailer); !r) return r;
  std::filesystem::path published = s.temp_path;
  if (s.options.compact_max_raw_bytes > 0 && s.frames_raw_bytes <= s.options.compact_max_raw_bytes) {
    // The file as written is a complete trace: publish it if compaction fails.
    if (auto compacted = s.write_compacted()) published = *compacted;
  }
  if (published == s.temp_path && ::fsync(s.fd.get()) != 0)
    return Error{s.temp_path.string() + ": fsync failed: " + errno_text(errno)};
  s.fd.reset();
  if (::rename(published.c_str(), s.final_path.c_str()) != 0) {
    const int err = errno;
    if (published != s.temp_path) ::unlink(published.c_str());
    return Error{s.final_path.string() + ": cannot publish trace: " + errno_text(err)};
  }
  if (published != s.temp_path) ::unlink(s.temp_path.c_str());
  s.finished = true;
  // The rename itself must survive a crash: sync the directory entry too.
  auto dir = s.final_path.parent_path();
  if (dir.empty()) dir = ".";
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() >= 0) ::fsync(dir_fd.get());
  return {};
}

Result<std::string> encode_trace_head(const TraceMetadata& metadata) {
  auto header = detail::encode_header_frame(metadata);
  if (!header) return header.error();
  return detail::make_preamble(kFormatMajor, kFormatMinor) + header->bytes;
}

const std::filesystem::path& TraceWriter::path() const { return state_->final_path; }
uint64_t TraceWriter::bytes_written() const { return state_->bytes_written; }

}  // namespace traceloop::format
