// TraceReader decompresses (and partly decodes) ahead of its caller on a
// thread of its own. These tests hold it to what the synchronous reader
// guaranteed: frames in order, a batch intact until the next call, warnings
// and errors at the same place in the stream, and a destructor that never
// hangs, whether the input is a regular file, a FIFO or stdin.

#include <fcntl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <future>
#include <optional>
#include <thread>

#include "format/frame_codec.h"
#include "format/synthetic_workload.h"
#include "format/trace_reader.h"
#include "format/trace_writer.h"
#include "format/zstd_codec.h"
#include "tests/support/same_event.h"
#include "tests/support/file_bytes.h"
#include "tests/support/frame_walk.h"
#include "tests/support/temp_dir.h"

namespace traceloop::format {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

using testing::FrameAt;
using testing::frames_of;
using testing::read_file;
using testing::write_file;

// A trace of `n` synthetic events, `per_frame` to a frame, with a loss marker
// and a process table along the way; `events` gets what went in.
std::string write_trace(const std::filesystem::path& path, int n, uint32_t per_frame, std::vector<OwnedEvent>& events) {
  TraceMetadata metadata;
  fill_host_metadata(metadata);
  metadata.catalogue = builtin_catalogue(Arch::x86_64);
  auto writer = TraceWriter::create(path, metadata, WriterOptions{.max_events_per_frame = per_frame});
  if (!writer) throw std::runtime_error(writer.error().message);
  SyntheticWorkload workload(metadata.catalogue, 11);
  for (int i = 0; i < n; ++i) {
    const Event& e = workload.next();
    events.push_back(OwnedEvent::from(e));
    if (!writer->append(e)) throw std::runtime_error("append failed");
    if (i == n / 3 && !writer->append_loss({.lost = 7, .cpu = 1})) throw std::runtime_error("loss failed");
    if (i == n / 2) {
      const ProcessInfo p{.pid = 4242, .ppid = 1, .comm = "sh", .argv = {"sh"}};
      if (!writer->append_processes(std::vector<ProcessInfo>{p})) throw std::runtime_error("processes failed");
    }
  }
  if (!writer->finish()) throw std::runtime_error("finish failed");
  return read_file(path);
}

// Index (in frames_of) of the `k`-th events frame, 0-based.
size_t events_frame(const std::vector<FrameAt>& frames, size_t k) {
  for (size_t i = 0; i < frames.size(); ++i)
    if (frames[i].header.type == static_cast<uint8_t>(FrameType::events) && k-- == 0) return i;
  throw std::runtime_error("not that many events frames");
}
uint64_t events_before(const std::vector<FrameAt>& frames, size_t index) {
  uint64_t n = 0;
  for (size_t i = 0; i < index; ++i)
    if (frames[i].header.type == static_cast<uint8_t>(FrameType::events)) n += frames[i].header.event_count;
  return n;
}

// Everything one pass of next_batch() gives, events copied out batch by
// batch. After each batch the caller dawdles so the producer runs ahead and
// fills every buffer it may; the batch is checked only then, so a frame
// recycled before the next call shows up as wrong events.
struct Outcome {
  bool opened = false;
  std::string error;  // open() or next_batch(), whichever failed
  std::vector<size_t> batch_sizes;
  std::vector<OwnedEvent> events;
  std::vector<std::string> warnings;
  std::optional<Counters> counters;
  size_t processes = 0;
};

Outcome read_all(const std::filesystem::path& path, const std::vector<OwnedEvent>* expected = nullptr,
                 std::chrono::microseconds dawdle = 0us) {
  Outcome o;
  auto reader = TraceReader::open(path);
  if (!reader) {
    o.error = reader.error().message;
    return o;
  }
  o.opened = true;
  for (;;) {
    auto batch = reader->next_batch();
    if (!batch) {
      o.error = batch.error().message;
      break;
    }
    if (*batch == nullptr) break;
    const DecodedBatch& b = **batch;
    if (dawdle > 0us) std::this_thread::sleep_for(dawdle);
    o.batch_sizes.push_back(b.size());
    for (size_t i = 0; i < b.size(); ++i) {
      const size_t n = o.events.size();
      if (expected != nullptr && n < expected->size()) {
        traceloop::testing::expect_same_event(b.event(i), (*expected)[n].view(), n);
        if (::testing::Test::HasFatalFailure()) return o;
      }
      o.events.push_back(OwnedEvent::from(b.event(i)));
    }
  }
  o.warnings = reader->warnings();
  o.counters = reader->counters();
  o.processes = reader->processes().size();
  return o;
}

// Runs `body` and fails (aborting: a hung thread cannot be cancelled) if it
// does not return within `limit`.
void within(std::chrono::seconds limit, const std::function<void()>& body) {
  std::packaged_task<void()> task(body);
  auto done = task.get_future();
  std::thread runner(std::move(task));
  if (done.wait_for(limit) != std::future_status::ready) {
    std::fprintf(stderr, "hung for more than %llds\n", static_cast<long long>(limit.count()));
    std::abort();
  }
  runner.join();
  done.get();
}

// Feeds bytes into a pipe end from a thread: a FIFO (opened by path, so the
// reader's open() meets a writer) or a pipe's write end. With `hold_open` the
// writer keeps its end open after the bytes until destruction: a stream
// that never ends. `unblock` frees a writer stuck in open() or write() once
// the test is over, even a failed one that stopped reading early.
class PipeFeeder {
 public:
  PipeFeeder(std::function<int()> open_end, std::string bytes, bool hold_open, std::function<void()> unblock)
      : unblock_(std::move(unblock)),
        thread_([this, open_end = std::move(open_end), bytes = std::move(bytes), hold_open] {
          const int fd = open_end();
          if (fd < 0) return;
          for (size_t done = 0; done < bytes.size();) {
            const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;  // EPIPE: the reader went away
            done += static_cast<size_t>(w);
          }
          if (hold_open) released_.wait();
          ::close(fd);
        }) {}
  PipeFeeder(const PipeFeeder&) = delete;
  PipeFeeder& operator=(const PipeFeeder&) = delete;
  ~PipeFeeder() {
    release_.set_value();
    unblock_();
    thread_.join();
  }

 private:
  std::function<void()> unblock_;
  std::promise<void> release_;
  std::future<void> released_ = release_.get_future();
  std::thread thread_;
};

class TraceReaderPrefetch : public ::testing::Test {
 protected:
  void SetUp() override {
    // A writer whose reader is gone gets EPIPE instead of a fatal signal.
    ::signal(SIGPIPE, SIG_IGN);
    bytes_ = write_trace(dir_ / "t.tl", 20'000, 100, expected_);
    frames_ = frames_of(bytes_);
  }

  TempDir dir_;
  std::vector<OwnedEvent> expected_;
  std::string bytes_;
  std::vector<FrameAt> frames_;
};

TEST_F(TraceReaderPrefetch, ManyFramesComeBackInOrderAndIntact) {
  ASSERT_EQ(frames_.size(), 1u + 200u + 1u + 1u) << "header, 200 events frames, processes, trailer";
  const auto o = read_all(dir_ / "t.tl", &expected_, 300us);
  ASSERT_TRUE(o.error.empty()) << o.error;
  ASSERT_EQ(o.events.size(), expected_.size());
  std::vector<size_t> frame_sizes;
  for (const auto& f : frames_)
    if (f.header.type == static_cast<uint8_t>(FrameType::events)) frame_sizes.push_back(f.header.event_count);
  EXPECT_EQ(o.batch_sizes, frame_sizes);
  EXPECT_TRUE(o.warnings.empty());
  ASSERT_TRUE(o.counters.has_value());
  EXPECT_EQ(o.counters->events_recorded, expected_.size());
  EXPECT_EQ(o.counters->events_lost, 7u);
  EXPECT_EQ(o.processes, 1u);

  auto loaded = load_trace(dir_ / "t.tl");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_EQ(loaded->events.size(), o.events.size());
  for (size_t i = 0; i < o.events.size(); ++i)
    ASSERT_NO_FATAL_FAILURE(traceloop::testing::expect_same_event(loaded->events[i].view(), o.events[i].view(), i));
  ASSERT_EQ(loaded->losses.size(), 1u);
  EXPECT_EQ(loaded->losses[0].first, expected_.size() / 3 + 1);
}

// A reader that only counts (a directory's listing) never reads an events
// frame's payload, let alone decompresses it: a damaged payload changes
// nothing, the count comes from the frame headers, and the process table and
// trailer are still read. A file cut inside a payload counts the frames
// before it, with the warning a reader gives.
TEST_F(TraceReaderPrefetch, AReaderThatOnlyCountsPassesOverEveryEventsFrame) {
  std::string damaged = bytes_;
  for (const FrameAt& f : frames_)
    if (f.header.type == static_cast<uint8_t>(FrameType::events))
      damaged[f.offset + kFrameHeaderBytes + f.header.compressed_size / 2] ^= 0x5a;
  write_file(dir_ / "damaged.tl", damaged);
  auto reader = TraceReader::open(dir_ / "damaged.tl");
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  reader->pass_over_events();
  auto batch = reader->next_batch();
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  EXPECT_EQ(*batch, nullptr);
  EXPECT_EQ(reader->events_so_far(), expected_.size());
  EXPECT_EQ(reader->processes().size(), 1u);
  ASSERT_TRUE(reader->counters().has_value());
  EXPECT_EQ(reader->counters()->events_recorded, expected_.size());
  EXPECT_TRUE(reader->warnings().empty());

  const FrameAt& f = frames_[events_frame(frames_, 150)];
  write_file(dir_ / "cut.tl", damaged.substr(0, f.offset + kFrameHeaderBytes + f.header.compressed_size - 1));
  auto cut = TraceReader::open(dir_ / "cut.tl");
  ASSERT_TRUE(cut.ok());
  cut->pass_over_events();
  batch = cut->next_batch();
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  EXPECT_EQ(*batch, nullptr);
  EXPECT_EQ(cut->events_so_far(), events_before(frames_, events_frame(frames_, 150)));
  EXPECT_FALSE(cut->counters().has_value());
  ASSERT_EQ(cut->warnings().size(), 1u);
  EXPECT_NE(cut->warnings()[0].find("truncated"), std::string::npos) << cut->warnings()[0];
}

// Readers sharing out a file's events frames (parallel tl-grep): each gets
// its own frames whole, knows how many events came before each, and still
// reads the process table and trailer; a lying event count in a frame one
// reader passes over is refused by the reader that owns it.
TEST_F(TraceReaderPrefetch, ReadersSharingTheEventsFramesGetTheirsAndTheirPlace) {
  constexpr uint32_t kReaders = 3;
  std::vector<bool> seen(expected_.size(), false);
  for (uint32_t k = 0; k < kReaders; ++k) {
    SCOPED_TRACE(k);
    auto reader = TraceReader::open(dir_ / "t.tl");
    ASSERT_TRUE(reader.ok()) << reader.error().message;
    reader->share_events_frames(kReaders, k);
    size_t batches = 0;
    for (;;) {
      auto batch = reader->next_batch();
      ASSERT_TRUE(batch.ok()) << batch.error().message;
      if (*batch == nullptr) break;
      const uint64_t first = reader->events_before_batch();
      EXPECT_EQ(first, events_before(frames_, events_frame(frames_, batches * kReaders + k)));
      for (size_t i = 0; i < (*batch)->size(); ++i) {
        ASSERT_LT(first + i, expected_.size());
        ASSERT_NO_FATAL_FAILURE(
            traceloop::testing::expect_same_event((*batch)->event(i), expected_[first + i].view(), first + i));
        seen[first + i] = true;
      }
      ++batches;
    }
    EXPECT_EQ(batches, (200u + kReaders - 1 - k) / kReaders);
    EXPECT_EQ(reader->processes().size(), 1u);
    ASSERT_TRUE(reader->counters().has_value());
    EXPECT_EQ(reader->counters()->events_recorded, expected_.size());
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), static_cast<std::ptrdiff_t>(expected_.size()));

  // Frame 90 (of reader 0) says it holds one event more than it does.
  const FrameAt& f = frames_[events_frame(frames_, 90)];
  std::string count = bytes_;
  detail::write_frame_header(count.data() + f.offset, FrameType::events, FrameCodec::zstd, f.header.compressed_size,
                             f.header.raw_size, f.header.event_count + 1);
  write_file(dir_ / "count.tl", count);
  for (uint32_t k = 0; k < kReaders; ++k) {
    auto reader = TraceReader::open(dir_ / "count.tl");
    ASSERT_TRUE(reader.ok());
    reader->share_events_frames(kReaders, k);
    std::string error;
    for (;;) {
      auto batch = reader->next_batch();
      if (!batch) {
        error = batch.error().message;
        break;
      }
      if (*batch == nullptr) break;
    }
    if (k == 0)
      EXPECT_NE(error.find("(event count disagrees with header)"), std::string::npos) << error;
    else
      EXPECT_EQ(error, "") << "passed over: its owner reports it";
  }
}

TEST_F(TraceReaderPrefetch, RecordRangeAgreesWithTheEventsWritten) {
  auto reader = TraceReader::open(dir_ / "t.tl");
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  size_t n = 0, losses = 0;
  for (const Record& r : reader->records()) {
    if (r.kind == Record::Kind::loss) {
      ++losses;
      continue;
    }
    ASSERT_LT(n, expected_.size());
    ASSERT_NO_FATAL_FAILURE(traceloop::testing::expect_same_event(r.event, expected_[n].view(), n));
    ++n;
  }
  EXPECT_EQ(n, expected_.size());
  EXPECT_EQ(losses, 1u);
}

// The file ends inside the body of the 57th events frame, or inside its
// header: the 56 frames before, exactly, then one warning naming the cut.
TEST_F(TraceReaderPrefetch, CutInsideAFrameYieldsTheEarlierFramesAndOneWarning) {
  const size_t cut_frame = events_frame(frames_, 56);
  const FrameAt& f = frames_[cut_frame];
  const uint64_t want_events = events_before(frames_, cut_frame);
  ASSERT_EQ(want_events, 5600u);
  const auto path = dir_ / "cut.tl";
  struct Cut {
    size_t at;
    std::string warning;
  };
  const size_t half = f.header.compressed_size / 2;
  const Cut cuts[] = {
      {f.offset + kFrameHeaderBytes + half,
       path.string() + ": file is truncated (last frame has " + std::to_string(half) + " of " +
           std::to_string(f.header.compressed_size) + " bytes); showing the " + std::to_string(cut_frame) +
           " complete frames"},
      {f.offset + 5, path.string() + ": file is truncated (incomplete frame header at byte " +
                         std::to_string(f.offset) + "); showing the " + std::to_string(cut_frame) + " complete frames"},
  };
  for (const Cut& cut : cuts) {
    SCOPED_TRACE(cut.at);
    write_file(path, std::string_view(bytes_).substr(0, cut.at));
    const auto o = read_all(path, &expected_);
    ASSERT_TRUE(o.error.empty()) << o.error;
    EXPECT_EQ(o.events.size(), want_events);
    EXPECT_EQ(o.batch_sizes.size(), 56u);
    EXPECT_EQ(o.warnings, std::vector<std::string>{cut.warning});
    EXPECT_FALSE(o.counters.has_value());
  }
}

// A damaged frame in the middle: every batch before it, intact, then the
// error the synchronous reader gave, naming the frame's offset.
TEST_F(TraceReaderPrefetch, CorruptFrameInTheMiddleComesAfterTheEarlierBatches) {
  const size_t bad = events_frame(frames_, 120);
  const FrameAt& f = frames_[bad];
  const uint64_t want_events = events_before(frames_, bad);
  const auto path = dir_ / "corrupt.tl";
  const std::string at = " at byte " + std::to_string(f.offset);

  std::string body = bytes_;
  body[f.offset + kFrameHeaderBytes + f.header.compressed_size / 2] ^= 0x5a;
  write_file(path, body);
  auto o = read_all(path, &expected_, 100us);
  EXPECT_EQ(o.events.size(), want_events);
  EXPECT_EQ(o.batch_sizes.size(), 120u);
  EXPECT_EQ(o.error.rfind(path.string() + ": corrupt frame (", 0), 0u) << o.error;
  EXPECT_TRUE(o.error.ends_with(at)) << o.error;
  EXPECT_TRUE(o.warnings.empty());

  std::string header = bytes_;
  header[f.offset + 2] = 1;
  write_file(path, header);
  o = read_all(path, &expected_);
  EXPECT_EQ(o.events.size(), want_events);
  EXPECT_EQ(o.error, path.string() + ": corrupt frame" + at + " (bad frame header)");

  std::string oversized = bytes_;
  detail::write_frame_header(oversized.data() + f.offset, FrameType::events, FrameCodec::zstd, f.header.compressed_size,
                             kMaxFrameRawBytes + 8, f.header.event_count);
  write_file(path, oversized);
  o = read_all(path, &expected_);
  EXPECT_EQ(o.events.size(), want_events);
  EXPECT_EQ(o.error, path.string() + ": corrupt frame" + at + " (declares " + std::to_string(kMaxFrameRawBytes + 8) +
                         " decompressed bytes, limit " + std::to_string(kMaxFrameRawBytes) + ")");
}

// A frame that decompresses fine but does not decode. Events frames are
// decoded by whichever thread gets there first (the prefetcher while the
// caller is busy, else the caller): either way the error comes after the
// earlier batches and names the frame. Run with a caller that keeps up and
// one that dawdles, so both threads get their turn.
TEST_F(TraceReaderPrefetch, UndecodableFrameInTheMiddleComesAfterTheEarlierBatches) {
  const size_t bad = events_frame(frames_, 90);
  const FrameAt& f = frames_[bad];
  const uint64_t want_events = events_before(frames_, bad);
  const auto path = dir_ / "undecodable.tl";
  const std::string frame_number = std::to_string(bad + 1);  // the header frame is frame 1

  // The same message with its event count off by one.
  std::string count = bytes_;
  detail::write_frame_header(count.data() + f.offset, FrameType::events, FrameCodec::zstd, f.header.compressed_size,
                             f.header.raw_size, f.header.event_count + 1);
  // Valid zstd of bytes that are no EventBatch.
  ZstdCompressor compressor(1);
  std::string garbage_frame(kFrameHeaderBytes, '\0');
  compressor.compress(std::string(4096, '\xab'), garbage_frame);
  detail::write_frame_header(garbage_frame.data(), FrameType::events, FrameCodec::zstd,
                             static_cast<uint32_t>(garbage_frame.size() - kFrameHeaderBytes), 4096, 100);
  const std::string garbage = bytes_.substr(0, f.offset) + garbage_frame +
                              bytes_.substr(f.offset + kFrameHeaderBytes + f.header.compressed_size);

  for (const auto dawdle : {0us, 2000us}) {
    SCOPED_TRACE(dawdle.count());
    write_file(path, count);
    auto o = read_all(path, &expected_, dawdle);
    EXPECT_EQ(o.events.size(), want_events);
    EXPECT_EQ(o.error, path.string() + ": corrupt frame " + frame_number + " (event count disagrees with header)");

    write_file(path, garbage);
    o = read_all(path, &expected_, dawdle);
    EXPECT_EQ(o.events.size(), want_events);
    EXPECT_EQ(o.error.rfind(path.string() + ": ", 0), 0u) << o.error;
    EXPECT_TRUE(o.error.ends_with(" in frame " + frame_number)) << o.error;
  }
}

// An error does not end the stream (it never did): the next call goes on
// with the bytes after the damaged frame, here the next, intact, frame.
TEST_F(TraceReaderPrefetch, ReadingGoesOnAfterACorruptFrameAsBefore) {
  const size_t bad = events_frame(frames_, 3);
  const FrameAt& f = frames_[bad];
  std::string body = bytes_;
  body[f.offset + kFrameHeaderBytes + f.header.compressed_size / 2] ^= 0x5a;
  write_file(dir_ / "c.tl", body);
  auto reader = TraceReader::open(dir_ / "c.tl");
  ASSERT_TRUE(reader.ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(reader->next_batch().ok());
  ASSERT_FALSE(reader->next_batch().ok());
  auto next = reader->next_batch();
  ASSERT_TRUE(next.ok()) << next.error().message;
  ASSERT_NE(*next, nullptr);
  const uint64_t first = events_before(frames_, bad + 1);
  ASSERT_NO_FATAL_FAILURE(traceloop::testing::expect_same_event((*next)->event(0), expected_[first].view(), first));
}

TEST_F(TraceReaderPrefetch, DataAfterTheTrailerIsIgnoredWithAWarning) {
  std::string more = bytes_;
  more += bytes_.substr(frames_[1].offset, frames_[5].offset - frames_[1].offset);
  write_file(dir_ / "more.tl", more);
  const auto o = read_all(dir_ / "more.tl");
  ASSERT_TRUE(o.error.empty()) << o.error;
  EXPECT_EQ(o.events.size(), expected_.size());
  EXPECT_EQ(o.warnings, std::vector<std::string>{(dir_ / "more.tl").string() + ": data after the trailer ignored"});
}

size_t threads_of_this_process() {
  const std::filesystem::directory_iterator tasks("/proc/self/task");
  return static_cast<size_t>(std::distance(begin(tasks), end(tasks)));
}

cpu_set_t affinity() {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  EXPECT_EQ(::sched_getaffinity(0, sizeof(cpus), &cpus), 0);
  return cpus;
}

// Without this one, every other test here would pass with no thread at all.
TEST_F(TraceReaderPrefetch, ReadsAheadOnAThreadOfItsOwnFromTheFirstBatch) {
  cpu_set_t cpus = affinity();
  if (CPU_COUNT(&cpus) < 2) GTEST_SKIP() << "one CPU: the reader reads inline";
  const size_t alone = threads_of_this_process();
  auto reader = TraceReader::open(dir_ / "t.tl");
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(threads_of_this_process(), alone) << "no thread for a reader nobody reads from";
  ASSERT_TRUE(reader->next_batch().ok());
  EXPECT_EQ(threads_of_this_process(), alone + 1);
  while (true) {
    auto batch = reader->next_batch();
    ASSERT_TRUE(batch.ok());
    if (*batch == nullptr) break;
  }
  // The thread is joined at the end, not with the reader; its /proc entry
  // may outlive the join by a moment.
  for (int i = 0; i < 100 && threads_of_this_process() != alone; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(threads_of_this_process(), alone);
}

// Confined to one CPU the reader reads inline (a thread there only costs);
// that path must give the same batches and the same warning.
TEST_F(TraceReaderPrefetch, ConfinedToOneCpuItReadsInlineAndTheSame) {
  const cpu_set_t saved = affinity();
  cpu_set_t one;
  CPU_ZERO(&one);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &saved)) {
      CPU_SET(cpu, &one);
      break;
    }
  }
  ASSERT_EQ(::sched_setaffinity(0, sizeof(one), &one), 0);
  struct Restore {
    const cpu_set_t& cpus;
    ~Restore() { ::sched_setaffinity(0, sizeof(cpus), &cpus); }
  } restore{saved};

  const size_t alone = threads_of_this_process();
  {
    auto reader = TraceReader::open(dir_ / "t.tl");
    ASSERT_TRUE(reader.ok());
    ASSERT_TRUE(reader->next_batch().ok());
    EXPECT_EQ(threads_of_this_process(), alone);
  }
  auto o = read_all(dir_ / "t.tl", &expected_);
  ASSERT_TRUE(o.error.empty()) << o.error;
  EXPECT_EQ(o.events.size(), expected_.size());
  EXPECT_TRUE(o.warnings.empty());

  const size_t cut_frame = events_frame(frames_, 56);
  write_file(dir_ / "cut.tl", std::string_view(bytes_).substr(0, frames_[cut_frame].offset + 5));
  o = read_all(dir_ / "cut.tl", &expected_);
  ASSERT_TRUE(o.error.empty()) << o.error;
  EXPECT_EQ(o.events.size(), events_before(frames_, cut_frame));
  EXPECT_EQ(o.warnings.size(), 1u);

  std::string corrupt = bytes_;
  corrupt[frames_[cut_frame].offset + 2] = 1;
  write_file(dir_ / "corrupt.tl", corrupt);
  o = read_all(dir_ / "corrupt.tl", &expected_);
  EXPECT_EQ(o.events.size(), events_before(frames_, cut_frame));
  EXPECT_EQ(o.error, (dir_ / "corrupt.tl").string() + ": corrupt frame at byte " +
                         std::to_string(frames_[cut_frame].offset) + " (bad frame header)");
}

// Destroying a reader mid-stream: right after open (no thread yet), right
// after the first batch (producer busy), and once the producer has filled
// every buffer and waits for one back.
TEST_F(TraceReaderPrefetch, DestroyingAReaderEarlyNeitherHangsNorCrashes) {
  within(20s, [&] {
    for (int round = 0; round < 20; ++round) {
      auto reader = TraceReader::open(dir_ / "t.tl");
      ASSERT_TRUE(reader.ok());
      if (round % 4 == 0) continue;
      auto batch = reader->next_batch();
      ASSERT_TRUE(batch.ok());
      ASSERT_NE(*batch, nullptr);
      if (round % 4 == 2) std::this_thread::sleep_for(20ms);
      if (round % 4 == 3) {
        ASSERT_TRUE(reader->next_batch().ok());
      }
    }
  });
}

TEST_F(TraceReaderPrefetch, MovedReadersKeepReadingAndMoveAssignmentStopsTheOldOne) {
  auto opened = TraceReader::open(dir_ / "t.tl");
  ASSERT_TRUE(opened.ok());
  TraceReader a = std::move(opened).value();
  ASSERT_TRUE(a.next_batch().ok());
  TraceReader b = std::move(a);
  auto other = TraceReader::open(dir_ / "t.tl");
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(other->next_batch().ok());
  within(10s, [&] { *other = std::move(b); });  // other's producer, blocked on a full queue, must go
  size_t n = 100;  // the first batch was read before the moves
  for (;;) {
    auto batch = other->next_batch();
    ASSERT_TRUE(batch.ok()) << batch.error().message;
    if (*batch == nullptr) break;
    for (size_t i = 0; i < (*batch)->size(); ++i, ++n)
      ASSERT_NO_FATAL_FAILURE(traceloop::testing::expect_same_event((*batch)->event(i), expected_[n].view(), n));
  }
  EXPECT_EQ(n, expected_.size());
}

// ----------------------------------------------------------------- pipes --

int open_fifo_for_writing(const std::filesystem::path& fifo) { return ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC); }

// A reader that comes and goes at once: lets a writer blocked in open() on,
// and then write() to, a FIFO nobody reads any more carry on (to EPIPE).
std::function<void()> unblock_fifo(const std::filesystem::path& fifo) {
  return [fifo] {
    const int fd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) ::close(fd);
  };
}

TEST_F(TraceReaderPrefetch, ReadsAFifoLikeTheFile) {
  const auto fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto from_file = read_all(dir_ / "t.tl");
  Outcome from_fifo;
  {
    PipeFeeder feeder([&] { return open_fifo_for_writing(fifo); }, bytes_, false, unblock_fifo(fifo));
    from_fifo = read_all(fifo, &expected_, 100us);
  }
  ASSERT_TRUE(from_fifo.error.empty()) << from_fifo.error;
  EXPECT_EQ(from_fifo.batch_sizes, from_file.batch_sizes);
  EXPECT_EQ(from_fifo.events.size(), expected_.size());
  EXPECT_TRUE(from_fifo.warnings.empty());
  ASSERT_TRUE(from_fifo.counters.has_value());
  EXPECT_EQ(from_fifo.counters->events_recorded, expected_.size());
}

TEST_F(TraceReaderPrefetch, AFifoCutShortEndsWithTheSameWarningAsTheFile) {
  const auto fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const size_t cut_frame = events_frame(frames_, 30);
  const size_t cut_at = frames_[cut_frame].offset + kFrameHeaderBytes + 10;
  Outcome o;
  {
    PipeFeeder feeder([&] { return open_fifo_for_writing(fifo); }, bytes_.substr(0, cut_at), false,
                      unblock_fifo(fifo));
    o = read_all(fifo, &expected_);
  }
  ASSERT_TRUE(o.error.empty()) << o.error;
  EXPECT_EQ(o.events.size(), events_before(frames_, cut_frame));
  EXPECT_EQ(o.warnings, std::vector<std::string>{fifo.string() + ": file is truncated (last frame has 10 of " +
                                                 std::to_string(frames_[cut_frame].header.compressed_size) +
                                                 " bytes); showing the " + std::to_string(cut_frame) +
                                                 " complete frames"});
}

// The producer is blocked in a read of a FIFO whose writer neither writes
// nor closes: the destructor must still return.
TEST_F(TraceReaderPrefetch, DestroyingAReaderBlockedOnAFifoThatNeverEnds) {
  const auto fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const size_t stop_frame = events_frame(frames_, 5);
  PipeFeeder feeder([&] { return open_fifo_for_writing(fifo); }, bytes_.substr(0, frames_[stop_frame].offset), true,
                    unblock_fifo(fifo));
  auto reader = TraceReader::open(fifo);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  for (int i = 0; i < 5; ++i) {
    auto batch = reader->next_batch();
    ASSERT_TRUE(batch.ok());
    ASSERT_NE(*batch, nullptr);
  }
  std::this_thread::sleep_for(50ms);  // the producer now waits in read() for bytes that never come
  within(10s, [&] { auto gone = std::move(reader).value(); });
}

// "-": stdin replaced by a pipe for the test's duration (gtest_discover_tests
// runs each test in its own process; restored anyway for a whole-binary run).
class StdinFromPipe {
 public:
  StdinFromPipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    saved_ = ::dup(STDIN_FILENO);
    ::dup2(fds[0], STDIN_FILENO);
    ::close(fds[0]);
    write_end_ = fds[1];
  }
  StdinFromPipe(const StdinFromPipe&) = delete;
  StdinFromPipe& operator=(const StdinFromPipe&) = delete;
  ~StdinFromPipe() { restore(); }
  // Closes the pipe's read end too: a feeder still writing gets EPIPE.
  void restore() {
    if (saved_ < 0) return;
    ::dup2(saved_, STDIN_FILENO);
    ::close(std::exchange(saved_, -1));
  }
  int take_write_end() { return std::exchange(write_end_, -1); }

 private:
  int saved_ = -1;
  int write_end_ = -1;
};

TEST_F(TraceReaderPrefetch, ReadsStdin) {
  StdinFromPipe stdin_pipe;
  Outcome o;
  {
    PipeFeeder feeder([&] { return stdin_pipe.take_write_end(); }, bytes_, false, [&] { stdin_pipe.restore(); });
    o = read_all("-", &expected_);
  }
  ASSERT_TRUE(o.error.empty()) << o.error;
  EXPECT_EQ(o.events.size(), expected_.size());
  EXPECT_TRUE(o.warnings.empty());
}

TEST_F(TraceReaderPrefetch, StdinCutShortIsNamedInTheWarning) {
  StdinFromPipe stdin_pipe;
  Outcome o;
  {
    PipeFeeder feeder([&] { return stdin_pipe.take_write_end(); }, bytes_.substr(0, frames_[10].offset + 3), false,
                      [&] { stdin_pipe.restore(); });
    o = read_all("-", &expected_);
  }
  ASSERT_TRUE(o.error.empty()) << o.error;
  EXPECT_EQ(o.events.size(), events_before(frames_, 10));
  EXPECT_EQ(o.warnings, std::vector<std::string>{"<stdin>: file is truncated (incomplete frame header at byte " +
                                                 std::to_string(frames_[10].offset) + "); showing the 10 complete frames"});
}

TEST_F(TraceReaderPrefetch, DestroyingAReaderBlockedOnStdinThatNeverEnds) {
  StdinFromPipe stdin_pipe;
  const size_t stop_frame = events_frame(frames_, 5);
  PipeFeeder feeder([&] { return stdin_pipe.take_write_end(); }, bytes_.substr(0, frames_[stop_frame].offset), true,
                    [&] { stdin_pipe.restore(); });
  auto reader = TraceReader::open("-");
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  // Every frame there is, so that the producer waits in read(), not for a buffer.
  for (int i = 0; i < 5; ++i) {
    auto batch = reader->next_batch();
    ASSERT_TRUE(batch.ok());
    ASSERT_NE(*batch, nullptr);
  }
  std::this_thread::sleep_for(50ms);
  within(10s, [&] { auto gone = std::move(reader).value(); });
}

}  // namespace
}  // namespace traceloop::format
