// Compaction of a finished `run` trace (trace_compaction.h): an events frame
// keeps its columns, and the captured bytes follow in captures frames, so
// that a copy cut short still shows its events and most of their data.

#include "format/trace_compaction.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "format/frame_codec.h"
#include "format/trace_reader.h"
#include "format/trace_writer.h"
#include "tests/support/file_bytes.h"
#include "tests/support/frame_walk.h"
#include "tests/support/random_captures.h"
#include "tests/support/same_event.h"
#include "tests/support/temp_dir.h"

namespace traceloop::format {
namespace {

using testing::TempDir;

const std::filesystem::path kLsTrace =
    std::filesystem::path(TRACELOOP_TEST_SOURCE_DIR) / "testdata/compaction/ls-usr-bin.tl";

void expect_same_call(const Event& a, const Event& b) {
  EXPECT_EQ(a.enter_ns, b.enter_ns);
  EXPECT_EQ(a.exit_ns, b.exit_ns);
  EXPECT_EQ(a.pid, b.pid);
  EXPECT_EQ(a.tid, b.tid);
  EXPECT_EQ(a.nr, b.nr);
  EXPECT_EQ(a.ret, b.ret);
  EXPECT_EQ(a.comm, b.comm);
  EXPECT_EQ(a.args, b.args);
}

bool same_captures(const Event& a, const Event& b) {
  if (a.captures.size() != b.captures.size()) return false;
  for (size_t i = 0; i < a.captures.size(); ++i)
    if (a.captures[i].arg != b.captures[i].arg || a.captures[i].size != b.captures[i].size ||
        a.captures[i].bytes != b.captures[i].bytes)
      return false;
  return true;
}

// `source` written again as `run` writes it, compacted.
void rewrite_compacted(const LoadedTrace& source, const std::filesystem::path& path) {
  WriterOptions options;
  options.compact_max_raw_bytes = 4u << 20;  // what `run` compacts
  auto writer = TraceWriter::create(path, source.metadata, options);
  ASSERT_TRUE(writer.ok()) << writer.error().message;
  size_t loss = 0, notice = 0;
  for (size_t i = 0; i <= source.events.size(); ++i) {
    for (; loss < source.losses.size() && source.losses[loss].first == i; ++loss)
      ASSERT_TRUE(writer->append_loss(source.losses[loss].second).ok());
    for (; notice < source.notices.size() && source.notices[notice].first == i; ++notice)
      ASSERT_TRUE(writer->append_notice(source.notices[notice].second.view()).ok());
    if (i < source.events.size()) {
      ASSERT_TRUE(writer->append(source.events[i].view()).ok());
    }
  }
  ASSERT_TRUE(writer->append_processes(source.processes).ok());
  ASSERT_TRUE(writer->finish().ok());
}

struct CutOutcome {
  size_t events = 0;
  size_t with_data = 0;  // events before the first whose captures differ from the source's
  std::vector<std::string> warnings;
};

// Reads the first `bytes` of `file` and checks every event it shows against
// `source`: the same call, and either the same captured data or (from
// some event on, to the end) none at all.
CutOutcome read_cut(const TempDir& dir, const std::string& file, size_t bytes, const LoadedTrace& source) {
  CutOutcome out;
  testing::write_file(dir / "cut.tl", std::string_view(file).substr(0, bytes));
  auto cut = load_trace(dir / "cut.tl");
  EXPECT_TRUE(cut.ok()) << "cut at " << bytes << ": " << cut.error().message;
  if (!cut.ok()) return out;
  out.events = cut->events.size();
  out.warnings = cut->warnings;
  EXPECT_LE(out.events, source.events.size());
  bool data = true;
  for (size_t i = 0; i < out.events && i < source.events.size(); ++i) {
    const Event e = cut->events[i].view(), s = source.events[i].view();
    expect_same_call(e, s);
    if (data && !same_captures(e, s)) data = false;
    if (data) ++out.with_data;
    else EXPECT_TRUE(e.captures.empty()) << "event " << i << " of the cut at " << bytes << " has made-up data";
  }
  return out;
}

// A `run` trace is attached to bug reports, and copies get cut short (a
// partial upload, a full disk). A real `ls -l /usr/bin`, compacted as `run`
// does, then cut: once its events frame is whole (at 27% of the file), every
// event shows; its captured bytes, one captures frame on a trace this short,
// show whole or not at all, and a warning says which events lost theirs.
TEST(TraceCompaction, ARunTraceCutShortShowsAllItsEvents) {
  auto source = load_trace(kLsTrace);
  ASSERT_TRUE(source.ok()) << source.error().message;
  ASSERT_GT(source->events.size(), 4000u);
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(rewrite_compacted(*source, dir / "ls.tl"));
  const std::string file = testing::read_file(dir / "ls.tl");

  // Whole: nothing lost.
  const CutOutcome whole = read_cut(dir, file, file.size(), *source);
  EXPECT_EQ(whole.events, source->events.size());
  EXPECT_EQ(whole.with_data, source->events.size());
  EXPECT_TRUE(whole.warnings.empty());

  // The cut of 20,000 bytes that showed no event at all when compaction
  // wrote one frame, 63% of the file, and more.
  for (const size_t bytes : {size_t{20000}, file.size() * 35 / 100, file.size() * 63 / 100, file.size() * 95 / 100}) {
    SCOPED_TRACE("cut at " + std::to_string(bytes) + " of " + std::to_string(file.size()));
    const CutOutcome cut = read_cut(dir, file, bytes, *source);
    EXPECT_EQ(cut.events, source->events.size()) << "every event shows";
    EXPECT_LT(cut.with_data, source->events.size());
    ASSERT_EQ(cut.warnings.size(), 2u);
    EXPECT_NE(cut.warnings[0].find("file is truncated"), std::string::npos) << cut.warnings[0];
    EXPECT_NE(cut.warnings[1].find("file cut short: the last " + std::to_string(cut.events - cut.with_data) +
                                   " of the " + std::to_string(cut.events) + " events of frame"),
              std::string::npos)
        << cut.warnings[1];
    EXPECT_NE(cut.warnings[1].find("lost their captured data"), std::string::npos) << cut.warnings[1];
  }
}

// A trace with more captured data than that is cut into several captures
// frames: a copy cut short keeps the data of the events up to the cut.
TEST(TraceCompaction, ALargerTraceCutShortKeepsMostOfItsData) {
  TempDir dir;
  const auto events = testing::write_random_capture_trace(dir / "big.tl", 600, 1024);
  LoadedTrace source;
  for (const auto& e : events) source.events.push_back(e);
  const std::string file = testing::read_file(dir / "big.tl");
  const auto frames = testing::frames_of(file);
  EXPECT_GE(std::count_if(frames.begin(), frames.end(),
                          [](const auto& f) { return f.header.type == static_cast<uint8_t>(FrameType::captures); }),
            6);
  const CutOutcome cut = read_cut(dir, file, file.size() * 63 / 100, source);
  EXPECT_EQ(cut.events, events.size());
  EXPECT_GE(cut.with_data * 2, events.size()) << cut.with_data << " of " << events.size() << " with their data";
  ASSERT_EQ(cut.warnings.size(), 2u);
  EXPECT_NE(cut.warnings[1].find("lost their captured data"), std::string::npos) << cut.warnings[1];
  // More bytes never show less.
  size_t last_events = 0, last_data = 0;
  for (size_t bytes = file.size() / 20; bytes < file.size(); bytes += file.size() / 40) {
    const CutOutcome c = read_cut(dir, file, bytes, source);
    EXPECT_GE(c.events, last_events) << bytes;
    EXPECT_GE(c.with_data, last_data) << bytes;
    last_events = c.events;
    last_data = c.with_data;
  }
  EXPECT_EQ(last_events, events.size());
}

TEST(TraceCompaction, AnEventsFrameKeepsItsColumnsAndItsCapturedBytesFollow) {
  auto source = load_trace(kLsTrace);
  ASSERT_TRUE(source.ok()) << source.error().message;
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(rewrite_compacted(*source, dir / "ls.tl"));
  std::vector<uint8_t> types;
  for (const auto& f : testing::frames_of(testing::read_file(dir / "ls.tl"))) {
    types.push_back(f.header.type);
    if (f.header.type == static_cast<uint8_t>(FrameType::events) ||
        f.header.type == static_cast<uint8_t>(FrameType::captures)) {
      EXPECT_EQ(f.header.codec, static_cast<uint8_t>(FrameCodec::lzma2_stream));
    }
  }
  const std::vector<uint8_t> expected = {1, 3, 2, 5, 4};  // header, processes, events, captures, trailer
  EXPECT_EQ(types, expected);

  auto compacted = load_trace(dir / "ls.tl");
  ASSERT_TRUE(compacted.ok()) << compacted.error().message;
  ASSERT_EQ(compacted->events.size(), source->events.size());
  for (size_t i = 0; i < source->events.size(); ++i)
    ASSERT_NO_FATAL_FAILURE(testing::expect_same_event(compacted->events[i].view(), source->events[i].view(), i));
  EXPECT_EQ(compacted->notices.size(), source->notices.size());
  EXPECT_EQ(compacted->losses.size(), source->losses.size());
  EXPECT_TRUE(compacted->warnings.empty());
}

// Parallel tl-grep shares events frames out among readers, and a listing
// passes over all of them: an events frame's captures frames go with it.
TEST(TraceCompaction, PartedFramesReadWholeSharedOrPassedOver) {
  TempDir dir;
  const auto events = testing::write_random_capture_trace(dir / "c.tl", 900, 1024, 300);
  const auto frames = testing::frames_of(testing::read_file(dir / "c.tl"));
  ASSERT_GE(std::count_if(frames.begin(), frames.end(),
                          [](const auto& f) { return f.header.type == static_cast<uint8_t>(FrameType::captures); }),
            9);

  constexpr uint32_t kReaders = 2;
  std::vector<int> seen(events.size(), 0);
  for (uint32_t k = 0; k < kReaders; ++k) {
    auto reader = TraceReader::open(dir / "c.tl");
    ASSERT_TRUE(reader.ok()) << reader.error().message;
    reader->share_events_frames(kReaders, k);
    for (;;) {
      auto batch = reader->next_batch();
      ASSERT_TRUE(batch.ok()) << batch.error().message;
      if (*batch == nullptr) break;
      const uint64_t first = reader->events_before_batch();
      for (size_t i = 0; i < (*batch)->size(); ++i) {
        ASSERT_LT(first + i, events.size());
        ASSERT_NO_FATAL_FAILURE(testing::expect_same_event((*batch)->event(i), events[first + i].view(), first + i));
        ++seen[first + i];
      }
    }
    EXPECT_TRUE(reader->warnings().empty());
    EXPECT_TRUE(reader->counters().has_value());
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), static_cast<std::ptrdiff_t>(events.size()));

  auto listing = TraceReader::open(dir / "c.tl");
  ASSERT_TRUE(listing.ok());
  listing->pass_over_events();
  auto end = listing->next_batch();
  ASSERT_TRUE(end.ok()) << end.error().message;
  EXPECT_EQ(*end, nullptr);
  EXPECT_EQ(listing->events_so_far(), events.size());
  EXPECT_TRUE(listing->counters().has_value());
  EXPECT_TRUE(listing->warnings().empty());
}

// Without captured data (--no-data) there is nothing to part: the events
// frame stays one LZMA2 frame, as before.
TEST(TraceCompaction, ATraceWithFewCapturedBytesKeepsThemInItsEventsFrame) {
  auto source = load_trace(kLsTrace);
  ASSERT_TRUE(source.ok()) << source.error().message;
  for (auto& e : source->events) e.captures.clear();
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(rewrite_compacted(*source, dir / "ls.tl"));
  const auto codecs = testing::frame_codecs(testing::read_file(dir / "ls.tl"));
  EXPECT_EQ(codecs.count(FrameType::captures), 0u);
  EXPECT_EQ(codecs.at(FrameType::events), std::set<FrameCodec>{FrameCodec::lzma2});
  auto compacted = load_trace(dir / "ls.tl");
  ASSERT_TRUE(compacted.ok()) << compacted.error().message;
  EXPECT_EQ(compacted->events.size(), source->events.size());
}

}  // namespace
}  // namespace traceloop::format
