// The reader against hostile bytes: every case ends in one clear line (or, for
// a file cut short, every complete frame plus a warning), in bounded memory,
// without a crash or a hang.

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <random>

#include <capnp/message.h>
#include <capnp/schema.h>
#include <capnp/serialize.h>

#include "format/frame_codec.h"
#include "format/synthetic_workload.h"
#include "format/trace_reader.h"
#include "format/trace_writer.h"
#include "format/zstd_codec.h"
#include "trace.capnp.h"
#include "tests/support/file_bytes.h"
#include "tests/support/frame_walk.h"
#include "tests/support/random_captures.h"
#include "tests/support/temp_dir.h"

namespace traceloop::format {
namespace {

using testing::TempDir;

using testing::read_file;
using testing::write_file;

TraceMetadata metadata() {
  TraceMetadata m;
  fill_host_metadata(m);
  m.catalogue = builtin_catalogue(Arch::x86_64);
  return m;
}

// A valid trace of `n` synthetic events in frames of `per_frame`.
// `compacted`: rewritten at the end as a finished run's trace is (LZMA2 frames).
std::string valid_trace(const TempDir& dir, int n, uint32_t per_frame, bool compacted = false) {
  const auto path = dir / "valid.tl";
  auto writer = TraceWriter::create(
      path, metadata(),
      WriterOptions{.max_events_per_frame = per_frame, .compact_max_raw_bytes = compacted ? 64u << 20 : 0});
  if (!writer) throw std::runtime_error(writer.error().message);
  SyntheticWorkload workload(builtin_catalogue(Arch::x86_64), 1);
  for (int i = 0; i < n; ++i)
    if (!writer->append(workload.next())) throw std::runtime_error("append failed");
  if (!writer->finish()) throw std::runtime_error("finish failed");
  return read_file(path);
}

struct Outcome {
  bool ok = false;
  std::string error;
  size_t events = 0;
  std::vector<std::string> warnings;
};

Outcome read_all(const std::filesystem::path& path) {
  Outcome o;
  auto reader = TraceReader::open(path);
  if (!reader) {
    o.error = reader.error().message;
    return o;
  }
  for (;;) {
    auto batch = reader->next_batch();
    if (!batch) {
      o.error = batch.error().message;
      return o;
    }
    if (*batch == nullptr) break;
    o.events += (*batch)->size();
  }
  o.ok = true;
  o.warnings = reader->warnings();
  return o;
}

// Runs `body` in a child whose address space is capped, so an unbounded
// allocation fails the test instead of passing unnoticed.
// The cap is what the process already maps plus `extra_bytes`.
size_t mapped_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0;
  statm >> pages;
  return pages * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

void expect_bounded(const std::function<bool()>& body, size_t extra_bytes = 256u << 20) {
  const size_t cap_bytes = mapped_bytes() + extra_bytes;
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    rlimit limit{cap_bytes, cap_bytes};
    ::setrlimit(RLIMIT_AS, &limit);
    bool ok = false;
    try {
      ok = body();
    } catch (...) {
      ok = false;
    }
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child died: status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

std::string one_line(const std::string& s) { return s.substr(0, s.find('\n')); }

TEST(HostileInput, NotATrace) {
  TempDir dir;
  write_file(dir / "x.txt", "hello, I am a text file\n");
  const auto o = read_all(dir / "x.txt");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.error, (dir / "x.txt").string() + ": not a traceloop trace");
}

TEST(HostileInput, EmptyFile) {
  TempDir dir;
  write_file(dir / "e.tl", "");
  EXPECT_EQ(read_all(dir / "e.tl").error, (dir / "e.tl").string() + ": not a traceloop trace");
}

TEST(HostileInput, MissingFile) {
  const auto o = read_all("/nonexistent/x.tl");
  EXPECT_EQ(o.error, "/nonexistent/x.tl: No such file or directory");
}

// A FIFO nobody writes to: every tool used to block in open() forever.
TEST(HostileInput, AFifoWithNoWriterIsRefusedAtOnce) {
  TempDir dir;
  const auto fifo = dir / "f.tl";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const auto o = read_all(fifo);
    const std::string line = o.ok ? std::string("ok") : o.error;
    (void)!::write(pipe_fds[1], line.data(), line.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  pollfd p{pipe_fds[0], POLLIN, 0};
  const bool answered = ::poll(&p, 1, 10'000) == 1;
  char buf[512] = {};
  const ssize_t n = answered ? ::read(pipe_fds[0], buf, sizeof(buf) - 1) : 0;
  ::close(pipe_fds[0]);
  if (!answered) ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ASSERT_TRUE(answered) << "reading a FIFO with no writer blocked";
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0),
            fifo.string() + ": a FIFO with no writer: nothing to read");
}

TEST(HostileInput, NewerMajorVersion) {
  TempDir dir;
  std::string bytes = valid_trace(dir, 10, 100);
  bytes[8] = static_cast<char>(kFormatMajor + 1);
  write_file(dir / "n.tl", bytes);
  const auto o = read_all(dir / "n.tl");
  EXPECT_EQ(o.error, (dir / "n.tl").string() + ": trace format " + std::to_string(kFormatMajor + 1) + "." +
                         std::to_string(kFormatMinor) + " is newer than this tool reads (" + std::to_string(kFormatMajor) + ".x); upgrade traceloop");
}

TEST(HostileInput, NewerMinorVersionAndUnknownFrameTypesAreRead) {
  TempDir dir;
  std::string bytes = valid_trace(dir, 100, 50);
  bytes[10] = 9;  // minor 9
  // Insert an unknown frame type (a future addition) after the header frame.
  const auto header = detail::parse_frame_header(bytes.data() + kPreambleBytes);
  const size_t after_header = kPreambleBytes + kFrameHeaderBytes + header.compressed_size;
  ZstdCompressor compressor(1);
  std::string payload(64, '\0');
  std::string frame(kFrameHeaderBytes, '\0');
  compressor.compress(payload, frame);
  detail::write_frame_header(frame.data(), static_cast<FrameType>(42), FrameCodec::zstd,
                             static_cast<uint32_t>(frame.size() - kFrameHeaderBytes), 64, 0);
  bytes.insert(after_header, frame);
  write_file(dir / "m.tl", bytes);
  const auto o = read_all(dir / "m.tl");
  EXPECT_TRUE(o.ok) << o.error;
  EXPECT_EQ(o.events, 100u);
}

TEST(HostileInput, TruncatedAnywhereYieldsCompleteFramesAndAWarning) {
  TempDir dir;
  const std::string bytes = valid_trace(dir, 2000, 100);  // 20 event frames
  const auto header = detail::parse_frame_header(bytes.data() + kPreambleBytes);
  const size_t after_header = kPreambleBytes + kFrameHeaderBytes + header.compressed_size;
  size_t last_events = 0;
  std::vector<size_t> cuts;
  for (size_t cut = after_header; cut < bytes.size(); cut += 97) cuts.push_back(cut);
  cuts.push_back(bytes.size() - 1);  // inside the trailer: every event frame is complete
  for (size_t cut : cuts) {
    write_file(dir / "cut.tl", std::string_view(bytes).substr(0, cut));
    const auto o = read_all(dir / "cut.tl");
    ASSERT_TRUE(o.ok) << "cut at " << cut << ": " << o.error;
    ASSERT_EQ(o.events % 100, 0u) << "only complete frames";
    EXPECT_GE(o.events, last_events);
    last_events = o.events;
    ASSERT_EQ(o.warnings.size(), 1u) << "cut at " << cut;
    EXPECT_TRUE(o.warnings[0].find("truncated") != std::string::npos ||
                o.warnings[0].find("no trailer") != std::string::npos)
        << o.warnings[0];
  }
  EXPECT_EQ(last_events, 2000u);
  // Cut inside the preamble or the header frame: nothing to show, one line.
  for (size_t cut : {size_t{3}, size_t{12}, kPreambleBytes + 5, after_header - 1}) {
    write_file(dir / "cut.tl", std::string_view(bytes).substr(0, cut));
    const auto o = read_all(dir / "cut.tl");
    EXPECT_FALSE(o.ok) << cut;
    EXPECT_EQ(one_line(o.error), o.error);
  }
}

TEST(HostileInput, CorruptFrameBodyIsAnError) {
  TempDir dir;
  const std::string bytes = valid_trace(dir, 500, 100);
  const auto header = detail::parse_frame_header(bytes.data() + kPreambleBytes);
  const size_t first_events_frame = kPreambleBytes + kFrameHeaderBytes + header.compressed_size;
  std::string corrupt = bytes;
  corrupt[first_events_frame + kFrameHeaderBytes + 40] ^= 0x5a;
  write_file(dir / "c.tl", corrupt);
  const auto o = read_all(dir / "c.tl");
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.error.find("corrupt frame"), std::string::npos) << o.error;
  EXPECT_EQ(one_line(o.error), o.error);
}

TEST(HostileInput, AbsurdDeclaredSizesAreRefusedBeforeAllocating) {
  TempDir dir;
  const std::string bytes = valid_trace(dir, 50, 100);
  const auto header = detail::parse_frame_header(bytes.data() + kPreambleBytes);
  const size_t frame_at = kPreambleBytes + kFrameHeaderBytes + header.compressed_size;
  const auto events = detail::parse_frame_header(bytes.data() + frame_at);
  for (auto [compressed, raw] : {std::pair<uint32_t, uint32_t>{0xffffffffu, events.raw_size},
                                 {events.compressed_size, 0xfffffff8u},
                                 {events.compressed_size, 3},
                                 {events.compressed_size, events.raw_size + 8}}) {
    std::string evil = bytes;
    detail::write_frame_header(evil.data() + frame_at, FrameType::events, FrameCodec::zstd, compressed, raw,
                               events.event_count);
    write_file(dir / "s.tl", evil);
    expect_bounded([&] {
      const auto o = read_all(dir / "s.tl");
      return !o.ok && o.error.find("corrupt frame") != std::string::npos && one_line(o.error) == o.error;
    });
  }
}

TEST(HostileInput, DecompressionBombIsRefused) {
  TempDir dir;
  const std::string bytes = valid_trace(dir, 10, 100);
  const auto header = detail::parse_frame_header(bytes.data() + kPreambleBytes);
  const size_t after_header = kPreambleBytes + kFrameHeaderBytes + header.compressed_size;
  // 4 x 48 MiB of zeros compress to a few KiB; the frame claims 4 KiB.
  ZstdCompressor compressor(1);
  std::string frame(kFrameHeaderBytes, '\0');
  {
    const std::string zeros(48u << 20, '\0');
    for (int i = 0; i < 4; ++i) compressor.compress(zeros, frame);
    frame.shrink_to_fit();
  }
  detail::write_frame_header(frame.data(), FrameType::events, FrameCodec::zstd,
                             static_cast<uint32_t>(frame.size() - kFrameHeaderBytes), 4096, 10);
  std::string evil = bytes.substr(0, after_header) + frame;
  write_file(dir / "bomb.tl", evil);
  expect_bounded([&] {
    const auto o = read_all(dir / "bomb.tl");
    return !o.ok && o.error.find("corrupt frame") != std::string::npos;
  });
  // Same bomb declaring its true size: over the limit, refused from the header alone.
  detail::write_frame_header(evil.data() + after_header, FrameType::events, FrameCodec::zstd,
                             static_cast<uint32_t>(frame.size() - kFrameHeaderBytes), 0xfffffff8u, 10);
  write_file(dir / "bomb2.tl", evil);
  expect_bounded([&] {
    const auto o = read_all(dir / "bomb2.tl");
    return !o.ok && o.error.find("limit") != std::string::npos;
  });
}

TEST(HostileInput, HugeCapnpMessagesHitTheTraversalLimit) {
  TempDir dir;
  valid_trace(dir, 10, 100);
  ReaderLimits tight;
  tight.traversal_limit_words = 64;  // the catalogue alone is far larger
  auto reader = TraceReader::open(dir / "valid.tl", tight);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.error().message.find("corrupt header"), std::string::npos) << reader.error().message;
  EXPECT_EQ(one_line(reader.error().message), reader.error().message);
}

TEST(HostileInput, LyingEventBatchesAreRefused) {
  // Hand-made EventBatch messages whose counts and columns disagree.
  ZstdCompressor compressor(1);
  auto batch_bytes = [&](const std::function<void(EventBatchBuilder&)>& fill) {
    EventBatchBuilder b;
    fill(b);
    EncodedFrame f = b.finish(compressor);
    std::string raw(f.raw_size, '\0');
    ZstdDecompressor d;
    EXPECT_TRUE(d.decompress(std::string_view(f.bytes).substr(kFrameHeaderBytes), raw.data(), raw.size()).ok());
    return raw;
  };
  OwnedEvent e;
  e.comm = "x";
  e.captures.push_back({1, 5, "hello"});
  std::string raw = batch_bytes([&](EventBatchBuilder& b) { b.add(e.view()); });
  DecodedBatch out;
  ASSERT_TRUE(decode_event_batch(raw, out, ReaderLimits{}).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.event(0).captures[0].bytes, "hello");
  // Flip every byte in turn: each result is either a clean decode or an error, never a crash.
  int errors = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    std::string evil = raw;
    evil[i] = static_cast<char>(evil[i] ^ 0xff);
    DecodedBatch o;
    auto r = decode_event_batch(evil, o, ReaderLimits{});
    if (!r) {
      ++errors;
      EXPECT_EQ(one_line(r.error().message), r.error().message);
    } else {
      for (size_t k = 0; k < o.size(); ++k) (void)o.event(k);
    }
  }
  EXPECT_GT(errors, 0);
}

// A Cap'n Proto message whose root `Root` has every field zero except the
// struct list `field`, which claims `count` elements of zero size: one tag
// word stands for all of them. Cap'n Proto charges each such element one
// word of the traversal budget only, so a frame of a few dozen bytes can
// declare millions.
template <typename Root>
std::string zero_sized_struct_list(const char* field, uint32_t count) {
  const auto schema = capnp::Schema::from<Root>();
  const auto layout = schema.getProto().getStruct();
  const size_t data_words = layout.getDataWordCount(), pointers = layout.getPointerCount();
  const size_t slot = schema.getFieldByName(field).getProto().getSlot().getOffset();
  std::vector<uint64_t> words(1 + data_words + pointers + 1, 0);
  words[0] = (uint64_t{data_words} << 32) | (uint64_t{pointers} << 48);  // root struct, right after
  const size_t pointer_at = 1 + data_words + slot, tag_at = words.size() - 1;
  const uint64_t offset = tag_at - (pointer_at + 1);
  words[pointer_at] = 1 | (offset << 2) | (uint64_t{7} << 32);  // inline composite list, 0 words
  words[tag_at] = uint64_t{count} << 2;                           // count elements of 0 data, 0 pointers
  words.insert(words.begin(), uint64_t{words.size()} << 32);     // segment table: one segment of them all
  return std::string(reinterpret_cast<const char*>(words.data()), words.size() * sizeof(uint64_t));
}

TEST(HostileInput, ZeroSizedLossMarkersCannotAmplifyAFrame) {
  const std::string raw = zero_sized_struct_list<schema::EventBatch>("losses", 8u << 20);
  ASSERT_LT(raw.size(), 512u);
  expect_bounded([&] {
    DecodedBatch out;
    auto r = decode_event_batch(raw, out, ReaderLimits{});
    return !r && r.error().message.find("loss markers") != std::string::npos && out.losses().empty();
  });
}

TEST(HostileInput, ZeroSizedProcessesCannotAmplifyAFrame) {
  TempDir dir;
  std::string file = valid_trace(dir, 10, 100);
  ZstdCompressor compressor(1);
  EncodedFrame frame;
  detail::encode_raw_frame(FrameType::processes, zero_sized_struct_list<schema::ProcessTable>("processes", 4u << 20), 0,
                   compressor, frame);
  ASSERT_LT(frame.bytes.size(), 512u);
  const auto frames = testing::frames_of(file);
  ASSERT_EQ(static_cast<FrameType>(frames.back().header.type), FrameType::trailer);
  file.insert(frames.back().offset, frame.bytes);  // before the trailer
  write_file(dir / "amplified.tl", file);
  expect_bounded([&] {
    const Outcome o = read_all(dir / "amplified.tl");
    return !o.ok && o.error.find("process") != std::string::npos && one_line(o.error) == o.error;
  }, 64u << 20);
}

// A compacted trace's events frame and the captures frames after it (format 5).
struct PartedTrace {
  std::string bytes;
  std::vector<testing::FrameAt> frames;
  size_t events = 0;                 // index into frames of the events frame
  std::vector<size_t> captures;      // of its captures frames
  std::string frame(size_t i) const {
    return bytes.substr(frames[i].offset, kFrameHeaderBytes + frames[i].header.compressed_size);
  }
  size_t end(size_t i) const { return frames[i].offset + kFrameHeaderBytes + frames[i].header.compressed_size; }
};

PartedTrace parted_trace(const TempDir& dir) {
  PartedTrace t;
  testing::write_random_capture_trace(dir / "parted.tl", 400, 1024);
  t.bytes = read_file(dir / "parted.tl");
  t.frames = testing::frames_of(t.bytes);
  for (size_t i = 0; i < t.frames.size(); ++i) {
    if (t.frames[i].header.type == static_cast<uint8_t>(FrameType::events)) t.events = i;
    if (t.frames[i].header.type == static_cast<uint8_t>(FrameType::captures)) t.captures.push_back(i);
  }
  return t;
}

// Every frame of `bytes` decompressed and written again in zstd on its own,
// with `change` applied to the message of frame `changed`: a file whose
// messages lie while every frame decompresses.
std::string repacked(const std::string& bytes, size_t changed, const std::function<void(std::string&)>& change) {
  std::string out = bytes.substr(0, kPreambleBytes);
  detail::FrameDecompressor decompressor;
  detail::MessageBuffer words;
  ZstdCompressor compressor(1);
  const auto frames = testing::frames_of(bytes);
  for (size_t i = 0; i < frames.size(); ++i) {
    const auto& f = frames[i];
    auto message = detail::decompress_frame(
        std::string_view(bytes).substr(f.offset, kFrameHeaderBytes + f.header.compressed_size), decompressor, words);
    if (!message) throw std::runtime_error(message.error().message);
    std::string m(*message);
    if (i == changed) change(m);
    EncodedFrame frame;
    detail::encode_raw_frame(static_cast<FrameType>(f.header.type), m, f.header.event_count, compressor, frame);
    out += frame.bytes;
  }
  return out;
}

std::string capture_bytes_message(uint32_t part, std::string_view bytes) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::CaptureBytes>();
  root.setPart(part);
  root.setBytes(capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size()));
  const auto words = capnp::messageToFlatArray(message);
  return std::string(words.asChars().begin(), words.asChars().size());
}

// Captures frames belong right after their events frame, in part order, each
// once: anything else is refused in one line, never decoded from the wrong
// bytes.
TEST(HostileInput, CapturesFramesOutOfPlaceAreRefused) {
  TempDir dir;
  const PartedTrace t = parted_trace(dir);
  ASSERT_GE(t.captures.size(), 3u);
  ASSERT_EQ(t.captures.front(), t.events + 1);
  const auto expect_refused = [&](const std::string& evil, const std::string& what, const std::string& says) {
    write_file(dir / "p.tl", evil);
    const auto o = read_all(dir / "p.tl");
    EXPECT_FALSE(o.ok) << what;
    EXPECT_EQ(o.error.rfind((dir / "p.tl").string() + ": corrupt frame", 0), 0u) << what << ": " << o.error;
    EXPECT_NE(o.error.find(says), std::string::npos) << what << ": " << o.error;
    EXPECT_EQ(one_line(o.error), o.error);
  };
  const size_t first = t.frames[t.captures[0]].offset, second = t.frames[t.captures[1]].offset;
  {  // without their events frame
    std::string evil = t.bytes;
    evil.erase(t.frames[t.events].offset, first - t.frames[t.events].offset);
    expect_refused(evil, "events frame missing", "(a captures frame after no events frame that has captures frames)");
  }
  {  // after the trailer
    std::string evil = t.bytes;
    const std::string moved = t.frame(t.captures.back());
    evil.erase(t.frames[t.captures.back()].offset, moved.size());
    evil += moved;
    expect_refused(evil, "captures frame after the trailer",
                   "(" + std::to_string(t.captures.size() - 1) + " captures frames after an events frame of " +
                       std::to_string(t.captures.size()) + ")");
  }
  {  // two swapped
    std::string evil = t.bytes;
    evil.replace(first, t.end(t.captures[1]) - first, t.frame(t.captures[1]) + t.frame(t.captures[0]));
    expect_refused(evil, "captures frames swapped", "corrupt frame");
  }
  {  // one twice
    std::string evil = t.bytes;
    evil.insert(second, t.frame(t.captures[0]));
    expect_refused(evil, "captures frame duplicated", "corrupt frame");
  }
  {  // one in the middle missing
    std::string evil = t.bytes;
    evil.erase(second, t.end(t.captures[1]) - second);
    expect_refused(evil, "captures frame missing", "corrupt frame");
  }
  {  // the last one missing, with the trailer after: damage, not a cut
    std::string evil = t.bytes;
    const size_t last = t.frames[t.captures.back()].offset;
    evil.erase(last, t.end(t.captures.back()) - last);
    expect_refused(evil, "last captures frame missing",
                   "(" + std::to_string(t.captures.size() - 1) + " captures frames after an events frame of " +
                       std::to_string(t.captures.size()) + ")");
  }
  {  // Only an events frame and its captures frames are parts of an LZMA2 stream.
    std::string evil = t.bytes;
    evil[t.frames.back().offset + 1] = static_cast<char>(FrameCodec::lzma2_stream);
    expect_refused(evil, "a stream trailer", "neither an events nor a captures frame");
  }
  // The messages themselves, in frames that each decompress on their own.
  expect_refused(repacked(t.bytes, t.captures[1],
                          [](std::string& m) { m = capture_bytes_message(2, "abc"); }),
                 "a part out of order", "(captures frame of part 2 where part 1 belongs)");
  expect_refused(repacked(t.bytes, t.captures[1], [](std::string& m) { m = capture_bytes_message(1, "abc"); }),
                 "a part of the wrong size", "(captures frame of part 1 holds 3 bytes, its events frame declares ");
  {  // captures after a batch that holds its own captured bytes
    const std::string streamed = valid_trace(dir, 200, 100);
    const auto frames = testing::frames_of(streamed);
    size_t events = 0;
    while (frames[events].header.type != static_cast<uint8_t>(FrameType::events)) ++events;
    const size_t after = frames[events].offset + kFrameHeaderBytes + frames[events].header.compressed_size;
    ZstdCompressor compressor(1);
    EncodedFrame part;
    detail::encode_raw_frame(FrameType::captures, capture_bytes_message(0, ""), 0, compressor, part);
    std::string evil = streamed;
    evil.insert(after, part.bytes);
    expect_refused(evil, "captures of a batch that has its own",
                   "(a captures frame after no events frame that has captures frames)");
  }
}

TEST(HostileInput, CapturesFramesDeclaringTooMuchAreRefusedBeforeAllocating) {
  TempDir dir;
  const PartedTrace t = parted_trace(dir);
  ASSERT_GE(t.captures.size(), 2u);
  {  // each within the frame limit, together beyond it
    std::string evil = t.bytes;
    const auto& f = t.frames[t.captures[1]];
    detail::write_frame_header(evil.data() + f.offset, FrameType::captures, FrameCodec::lzma2_stream,
                               f.header.compressed_size, kMaxFrameRawBytes - 8, 0);
    write_file(dir / "big.tl", evil);
    expect_bounded([&] {
      const auto o = read_all(dir / "big.tl");
      return !o.ok && o.error.find("(an events frame and its captures frames declare more than 67108864 "
                                   "decompressed bytes)") != std::string::npos &&
             one_line(o.error) == o.error;
    }, 64u << 20);
  }
  {  // more frames than any writer makes
    ZstdCompressor compressor(1);
    EncodedFrame part;
    detail::encode_raw_frame(FrameType::captures, capture_bytes_message(0, ""), 0, compressor, part);
    std::string evil = t.bytes.substr(0, t.frames[t.captures[0]].offset);
    for (uint32_t i = 0; i <= kMaxCaptureFrames; ++i) evil += part.bytes;
    write_file(dir / "many.tl", evil);
    const auto o = read_all(dir / "many.tl");
    EXPECT_FALSE(o.ok);
    EXPECT_NE(o.error.find("(more than 4096 captures frames after an events frame)"), std::string::npos) << o.error;
  }
}

// Cut anywhere, a compacted trace shows nothing of an events frame cut short
// and every event of a whole one, with the data of its whole captures frames.
TEST(HostileInput, ACompactedTraceCutAnywhereShowsTheEventsOfAWholeEventsFrame) {
  TempDir dir;
  const PartedTrace t = parted_trace(dir);
  for (size_t cut = t.frames[1].offset; cut < t.bytes.size(); cut += 1009) {
    write_file(dir / "cut.tl", std::string_view(t.bytes).substr(0, cut));
    const auto o = read_all(dir / "cut.tl");
    ASSERT_TRUE(o.ok) << "cut at " << cut << ": " << o.error;
    EXPECT_EQ(o.events, cut >= t.end(t.events) ? 400u : 0u) << "cut at " << cut;
    ASSERT_GE(o.warnings.size(), 1u);
    const bool data_lost = cut >= t.end(t.events) && cut < t.end(t.captures.back());
    EXPECT_EQ(o.warnings.back().find("lost their captured data") != std::string::npos, data_lost)
        << "cut at " << cut << ": " << o.warnings.back();
  }
}

TEST(HostileInput, RandomMutationsNeverCrash) {
  for (const bool compacted : {false, true}) {
    SCOPED_TRACE(compacted ? "compacted (LZMA2)" : "as streamed (zstd)");
    TempDir dir;
    const std::string bytes = valid_trace(dir, 3000, 500, compacted);
    std::mt19937 random(12345);
    int errors = 0;
    for (int round = 0; round < 300; ++round) {
      std::string evil = bytes;
      const int flips = 1 + static_cast<int>(random() % 8);
      for (int f = 0; f < flips; ++f) evil[random() % evil.size()] ^= static_cast<char>(1 + random() % 255);
      write_file(dir / "mut.tl", evil);
      const auto o = read_all(dir / "mut.tl");
      if (!o.ok) {
        ++errors;
        EXPECT_EQ(one_line(o.error), o.error);
        EXPECT_EQ(o.error.rfind((dir / "mut.tl").string() + ": ", 0), 0u) << o.error;
      }
    }
    EXPECT_GT(errors, 250);  // checksums catch nearly every flip
  }
}

}  // namespace
}  // namespace traceloop::format
