#include "format/trace_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cerrno>
#include <cstring>

#include "format/frame_codec.h"
#include "format/schema_convert.h"
#include "format/zstd_codec.h"

namespace traceloop::format {
namespace {

// Buffered reads from a file descriptor; distinguishes a clean end of file
// from one in the middle of a frame.
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
      return {};
    }
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return Error{std::strerror(errno)};
    owned_ = true;
    return {};
  }
  // Reads up to n bytes; fewer only at end of file.
  Result<size_t> read(char* out, size_t n) {
    size_t done = 0;
    while (done < n) {
      const ssize_t r = ::read(fd_, out + done, n - done);
      if (r < 0) {
        if (errno == EINTR) continue;
        return Error{std::string("read failed: ") + std::strerror(errno)};
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    offset_ += done;
    return done;
  }
  uint64_t offset() const { return offset_; }

 private:
  int fd_ = -1;
  bool owned_ = false;
  uint64_t offset_ = 0;
};

struct RawFrame {
  detail::FrameHeader header;
  std::vector<capnp::word> message;  // decompressed, word aligned for Cap'n Proto
  std::string_view bytes() const {
    return {reinterpret_cast<const char*>(message.data()), header.raw_size};
  }
};

}  // namespace

struct TraceReader::State {
  std::string name;
  ReaderLimits limits;
  InputFile input;
  ZstdDecompressor decompressor;
  std::string compressed;
  RawFrame frame;
  TraceMetadata metadata;
  DecodedBatch batch;
  std::vector<ProcessInfo> processes;
  std::optional<Counters> counters;
  std::vector<std::string> warnings;
  uint64_t frames_read = 0;
  bool at_end = false;

  Error error(const std::string& what) const { return Error{name + ": " + what}; }

  // Reads the next frame. nullopt-like: returns false at a clean end or a cut
  // file (with a warning); an error for corrupt or oversized frames.
  Result<bool> next_frame() {
    char header[kFrameHeaderBytes];
    auto got = input.read(header, sizeof(header));
    if (!got) return error(got.error().message);
    if (*got == 0) return false;
    const uint64_t frame_offset = input.offset() - *got;
    if (*got < sizeof(header)) {
      warnings.push_back(name + ": file is truncated (incomplete frame header at byte " + std::to_string(frame_offset) +
                         "); showing the " + std::to_string(frames_read) + " complete frames");
      return false;
    }
    frame.header = detail::parse_frame_header(header);
    const auto& h = frame.header;
    if (header[1] != 0 || header[2] != 0 || header[3] != 0)
      return error("corrupt frame at byte " + std::to_string(frame_offset) + " (bad frame header)");
    if (h.compressed_size > limits.max_frame_compressed_bytes)
      return error("corrupt frame at byte " + std::to_string(frame_offset) + " (declares " +
                   std::to_string(h.compressed_size) + " compressed bytes, limit " +
                   std::to_string(limits.max_frame_compressed_bytes) + ")");
    if (h.raw_size > limits.max_frame_raw_bytes)
      return error("corrupt frame at byte " + std::to_string(frame_offset) + " (declares " +
                   std::to_string(h.raw_size) + " decompressed bytes, limit " +
                   std::to_string(limits.max_frame_raw_bytes) + ")");
    if (h.raw_size % sizeof(capnp::word) != 0 || h.raw_size == 0)
      return error("corrupt frame at byte " + std::to_string(frame_offset) + " (bad message size)");
    compressed.resize(h.compressed_size);
    got = input.read(compressed.data(), h.compressed_size);
    if (!got) return error(got.error().message);
    if (*got < h.compressed_size) {
      warnings.push_back(name + ": file is truncated (last frame has " + std::to_string(*got) + " of " +
                         std::to_string(h.compressed_size) + " bytes); showing the " + std::to_string(frames_read) +
                         " complete frames");
      return false;
    }
    frame.message.resize(h.raw_size / sizeof(capnp::word));
    if (auto r = decompressor.decompress(compressed, reinterpret_cast<char*>(frame.message.data()), h.raw_size); !r)
      return error(r.error().message + " at byte " + std::to_string(frame_offset));
    ++frames_read;
    return true;
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
      capnp::FlatArrayMessageReader reader(kj::ArrayPtr<const capnp::word>(frame.message.data(), frame.message.size()),
                                           reader_options());
      Result<void> used = use(reader.template getRoot<Root>());
      if (!used) return error("corrupt " + what + " (" + used.error().message + ")");
      return {};
    } catch (const kj::Exception& e) {
      return error("corrupt " + what + " (" + std::string(e.getDescription().cStr()) + ")");
    }
  }

  Result<void> read_header() {
    auto got = next_frame();
    if (!got) return got.error();
    if (!*got || frame.header.type != static_cast<uint8_t>(FrameType::header))
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
};

TraceReader::TraceReader(std::unique_ptr<State> state) : state_(std::move(state)) {}
TraceReader::TraceReader(TraceReader&&) noexcept = default;
TraceReader& TraceReader::operator=(TraceReader&&) noexcept = default;
TraceReader::~TraceReader() = default;

Result<TraceReader> TraceReader::open(const std::filesystem::path& path, ReaderLimits limits) {
  auto state = std::make_unique<State>();
  state->name = path == "-" ? "<stdin>" : path.string();
  state->limits = limits;
  if (auto r = state->input.open(path); !r) return state->error(r.error().message);
  char preamble[kPreambleBytes];
  auto got = state->input.read(preamble, sizeof(preamble));
  if (!got) return got.error();
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
  if (major == 0) return state->error("corrupt trace (format version 0)");
  state->metadata.format_major = major;
  state->metadata.format_minor = minor;
  if (auto r = state->read_header(); !r) return r.error();
  return TraceReader(std::move(state));
}

const TraceMetadata& TraceReader::metadata() const { return state_->metadata; }
const std::string& TraceReader::file_name() const { return state_->name; }
const std::vector<ProcessInfo>& TraceReader::processes() const { return state_->processes; }
const std::optional<Counters>& TraceReader::counters() const { return state_->counters; }
const std::vector<std::string>& TraceReader::warnings() const { return state_->warnings; }

Result<const DecodedBatch*> TraceReader::next_batch() {
  State& s = *state_;
  while (!s.at_end) {
    auto got = s.next_frame();
    if (!got) return got.error();
    if (!*got) {
      s.at_end = true;
      break;
    }
    if (s.counters) {
      s.warnings.push_back(s.name + ": data after the trailer ignored");
      s.at_end = true;
      return nullptr;
    }
    switch (static_cast<FrameType>(s.frame.header.type)) {
      case FrameType::events: {
        if (auto r = decode_event_batch(s.frame.bytes(), s.batch, s.limits); !r)
          return s.error(r.error().message + " in frame " + std::to_string(s.frames_read));
        if (s.batch.size() != s.frame.header.event_count)
          return s.error("corrupt frame " + std::to_string(s.frames_read) + " (event count disagrees with header)");
        return &s.batch;
      }
      case FrameType::processes:
        if (auto r = s.read_processes(); !r) return r.error();
        break;
      case FrameType::trailer:
        if (auto r = s.read_trailer(); !r) return r.error();
        break;
      case FrameType::header:
        return s.error("corrupt trace (second header frame " + std::to_string(s.frames_read) + ")");
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
    if (batch_ == nullptr) {
      done_ = true;
      return;
    }
  }
}

TraceReader::RecordRange TraceReader::records() { return RecordRange(this); }

Result<LoadedTrace> load_trace(const std::filesystem::path& path, size_t max_events) {
  auto reader = TraceReader::open(path);
  if (!reader) return reader.error();
  LoadedTrace trace;
  trace.metadata = reader->metadata();
  for (;;) {
    auto batch = reader->next_batch();
    if (!batch) return batch.error();
    if (*batch == nullptr) break;
    const DecodedBatch& b = **batch;
    size_t loss_index = 0;
    const auto losses = b.losses();
    for (size_t i = 0; i <= b.size(); ++i) {
      while (loss_index < losses.size() && losses[loss_index].before_event == i)
        trace.losses.emplace_back(trace.events.size(), losses[loss_index++].loss);
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
