// Column encoding details: varints, zigzag, argument deltas, comm interning.

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "format/event_batch.h"
#include "format/varint.h"
#include "format/zstd_codec.h"

namespace traceloop::format {
namespace {

TEST(Varint, RoundTripsExtremes) {
  std::string buf;
  const uint64_t values[] = {0, 1, 127, 128, 16383, 16384, UINT32_MAX, UINT64_MAX - 1, UINT64_MAX};
  for (uint64_t v : values) detail::put_varint(buf, v);
  detail::VarintReader r(buf);
  for (uint64_t v : values) EXPECT_EQ(r.next(), v);
  EXPECT_TRUE(r.at_end());
  EXPECT_FALSE(r.failed());
}

TEST(Varint, OverrunAndOverlongFail) {
  detail::VarintReader cut(std::string_view("\x80\x80", 2));
  EXPECT_EQ(cut.next(), 0u);
  EXPECT_TRUE(cut.failed());
  const std::string overlong(11, '\x80');
  detail::VarintReader r(overlong);
  r.next();
  EXPECT_TRUE(r.failed());
}

// The tenth byte holds bit 63 alone: anything above 1 there is not a 64-bit
// value, and used to lose its bits silently.
TEST(Varint, TenthByteAboveOneFails) {
  std::string max;
  detail::put_varint(max, UINT64_MAX);
  ASSERT_EQ(max.size(), 10u);
  ASSERT_EQ(static_cast<uint8_t>(max.back()), 1u);
  for (int last = 2; last < 0x80; ++last) {
    std::string bad = max;
    bad.back() = static_cast<char>(last);
    detail::VarintReader r(bad);
    r.next();
    EXPECT_TRUE(r.failed()) << last;
  }
  detail::VarintReader ok(max);
  EXPECT_EQ(ok.next(), UINT64_MAX);
  EXPECT_FALSE(ok.failed());
}

// The reader decodes up to 8 bytes at once where the column holds 8 more:
// every value, position and failure must be those of decoding byte by byte
// (this loop), whatever the bytes and wherever the column ends.
struct BytewiseVarints {
  const uint8_t* p;
  const uint8_t* end;
  bool failed = false;
  uint64_t next() {
    uint64_t result = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (p == end) {
        failed = true;
        return 0;
      }
      const uint8_t byte = *p++;
      if (shift == 63 && byte > 1) break;
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
    }
    failed = true;
    return 0;
  }
};

void expect_like_bytewise(const std::string& column) {
  detail::VarintReader reader(column);
  BytewiseVarints reference{reinterpret_cast<const uint8_t*>(column.data()),
                            reinterpret_cast<const uint8_t*>(column.data()) + column.size()};
  // Past the end too: a corrupt column is read on until the decoder checks it.
  for (size_t i = 0; i <= column.size() + 1; ++i) {
    ASSERT_EQ(reader.next(), reference.next()) << "varint " << i << " of a " << column.size() << "-byte column";
    ASSERT_EQ(reader.failed(), reference.failed) << "varint " << i;
    ASSERT_EQ(reader.at_end(), reference.p == reference.end) << "varint " << i;
  }
}

TEST(Varint, ReaderMatchesBytewiseDecoding) {
  // Every length from 1 to 10 bytes at its boundaries, canonical and
  // overlong (continuation bytes of zero bits), with 0 to 9 bytes after it.
  std::vector<std::string> encodings;
  for (unsigned bits = 0; bits <= 64; ++bits) {
    const uint64_t top = bits == 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1;
    for (const uint64_t v : {top, top + 1, top / 2 + 1, top ^ uint64_t{0x5555555555555555}}) {
      std::string canonical;
      detail::put_varint(canonical, v);
      encodings.push_back(canonical);
      if (canonical.size() < 10) {
        std::string overlong = canonical;
        overlong.back() = static_cast<char>(overlong.back() | 0x80);
        overlong.push_back('\0');
        encodings.push_back(overlong);
      }
    }
  }
  encodings.push_back(std::string(9, '\xff') + '\x01');  // UINT64_MAX
  encodings.push_back(std::string(9, '\xff') + '\x02');  // a 65th bit
  encodings.push_back(std::string(9, '\x80') + '\x81');  // an eleventh byte would follow
  encodings.push_back(std::string(11, '\x80'));
  for (const std::string& e : encodings) {
    for (size_t after = 0; after < 10; ++after) {
      expect_like_bytewise(e + std::string(after, '\x05'));
      expect_like_bytewise(e + std::string(after, '\x85'));
      expect_like_bytewise(std::string(after, '\x07') + e);
    }
    expect_like_bytewise(e.substr(0, e.size() - 1));  // cut short
  }
  // Random columns, mostly continuation bytes, of every length to 40.
  uint64_t state = 0x9e3779b97f4a7c15ull;
  for (int round = 0; round < 2000; ++round) {
    std::string column;
    const size_t length = static_cast<size_t>(round % 41);
    for (size_t i = 0; i < length; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      const auto byte = static_cast<uint8_t>(state >> 56);
      column.push_back(static_cast<char>((state >> 40) % 4 == 0 ? byte & 0x7f : byte | 0x80));
    }
    expect_like_bytewise(column);
  }
}

// next_n() takes eight one-byte values from one load: whatever the column
// and however the reads are cut into calls, it gives what next() gives, one
// at a time, failures and position included.
void expect_next_n_like_next(const std::string& column) {
  for (const size_t chunk : {1, 2, 3, 7, 8, 9, 16, 61}) {
    detail::VarintReader one_by_one(column), in_runs(column);
    std::vector<uint64_t> got(chunk + detail::VarintReader::kSlack);
    // Past the end too, as the decoder reads a corrupt column on.
    for (size_t read = 0; read <= column.size() + 1; read += chunk) {
      in_runs.next_n(got.data(), chunk);
      for (size_t k = 0; k < chunk; ++k)
        ASSERT_EQ(got[k], one_by_one.next()) << "varint " << read + k << " in runs of " << chunk;
      ASSERT_EQ(in_runs.failed(), one_by_one.failed()) << "after varint " << read + chunk;
      ASSERT_EQ(in_runs.at_end(), one_by_one.at_end()) << "after varint " << read + chunk;
    }
  }
}

// The count of varints, as decoding them byte by byte finds it.
int64_t count_bytewise(std::string_view column) {
  BytewiseVarints reader{reinterpret_cast<const uint8_t*>(column.data()),
                         reinterpret_cast<const uint8_t*>(column.data()) + column.size()};
  int64_t count = 0;
  while (reader.p != reader.end) {
    reader.next();
    if (reader.failed) return -1;
    ++count;
  }
  return count;
}

TEST(Varint, NextNMatchesNext) {
  std::vector<std::string> columns = {"", std::string(1, '\x05'), std::string(8, '\x05'), std::string(9, '\x7f'),
                                      std::string(7, '\x01') + "\x80\x01" + std::string(9, '\x02'),
                                      std::string(9, '\xff') + '\x01', std::string(9, '\xff') + '\x02',
                                      std::string(11, '\x80'), std::string(8, '\x01') + "\x80"};
  uint64_t state = 0x2545f4914f6cdd1dull;
  for (int round = 0; round < 3000; ++round) {
    std::string column;
    const size_t length = static_cast<size_t>(round % 70);
    // From mostly one-byte values to mostly continuation bytes.
    const uint64_t continued_in_16 = static_cast<uint64_t>(round % 5) * 3;
    for (size_t i = 0; i < length; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      const auto byte = static_cast<uint8_t>(state >> 56);
      column.push_back(static_cast<char>((state >> 40) % 16 < continued_in_16 ? byte | 0x80 : byte & 0x7f));
    }
    columns.push_back(column);
  }
  for (const std::string& column : columns) ASSERT_NO_FATAL_FAILURE(expect_next_n_like_next(column));
}

TEST(Varint, CountMatchesBytewiseDecoding) {
  // Runs of continuation bytes of every length, at every offset in a word.
  for (size_t before = 0; before < 17; ++before) {
    for (size_t run = 0; run < 20; ++run) {
      for (const char last : {'\x00', '\x01', '\x05'}) {
        const std::string column = std::string(before, '\x03') + std::string(run, '\x81') + last;
        EXPECT_EQ(detail::count_varints(column), count_bytewise(column)) << before << " " << run;
        const std::string cut = std::string(before, '\x03') + std::string(run, '\x81');
        EXPECT_EQ(detail::count_varints(cut), count_bytewise(cut)) << before << " " << run << " cut";
      }
    }
  }
  uint64_t state = 0x9e3779b97f4a7c15ull;
  for (int round = 0; round < 5000; ++round) {
    std::string column;
    const size_t length = static_cast<size_t>(round % 90);
    const uint64_t continued_in_16 = 8 + static_cast<uint64_t>(round % 8);
    for (size_t i = 0; i < length; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      const auto byte = static_cast<uint8_t>(state >> 56);
      column.push_back(static_cast<char>((state >> 40) % 16 < continued_in_16 ? byte | 0x80 : byte & 0x7f));
    }
    ASSERT_EQ(detail::count_varints(column), count_bytewise(column)) << "round " << round;
  }
}

// A column that counts right decodes without failing: arguments are decoded
// later, unchecked, on the strength of the count. A tenth byte above 1 (a
// value beyond 64 bits) is refused by the count, at every offset in a word;
// it was counted, then decoded as a silent 0.
TEST(Varint, CountRefusesValuesBeyond64Bits) {
  for (size_t before = 0; before < 17; ++before) {
    const std::string prefix(before, '\x03');
    EXPECT_EQ(detail::count_varints(prefix + std::string(9, '\xff') + '\x01'), static_cast<int64_t>(before) + 1)
        << before;
    for (const char last : {'\x02', '\x7f'}) {
      const std::string column = prefix + std::string(9, '\xff') + last;
      EXPECT_EQ(detail::count_varints(column), -1) << before;
      EXPECT_EQ(detail::count_varints(column + "\x05\x05\x05\x05\x05\x05\x05\x05"), -1) << before << " then more";
    }
  }
}

TEST(Varint, Zigzag) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{-4095}, std::numeric_limits<int64_t>::min(),
                    std::numeric_limits<int64_t>::max()})
    EXPECT_EQ(detail::unzigzag(detail::zigzag(v)), v);
  EXPECT_EQ(detail::zigzag(-1), 1u);
  EXPECT_EQ(detail::zigzag(1), 2u);
}

std::string decompress(const EncodedFrame& f) {
  std::string raw(f.raw_size, '\0');
  ZstdDecompressor d;
  EXPECT_TRUE(d.decompress(std::string_view(f.bytes).substr(kFrameHeaderBytes), raw.data(), raw.size()).ok());
  return raw;
}

TEST(EventBatch, RepeatedArgumentsCostLittle) {
  ZstdCompressor compressor(3);
  EventBatchBuilder same, varied;
  Event e;
  e.comm = "loop";
  e.nr = 0;
  e.arg_count = 3;
  for (int i = 0; i < 1000; ++i) {
    e.enter_ns = 1'000'000 + static_cast<uint64_t>(i) * 1000;
    e.exit_ns = e.enter_ns + 500;
    e.args = {3, 0x7ffc00001000, 4096, 0, 0, 0};
    same.add(e);
    e.args = {static_cast<uint64_t>(i) * 7919 % 1000, 0x7ffc00001000 + static_cast<uint64_t>(i) * 4096 * 7919, 4096};
    varied.add(e);
  }
  const size_t same_raw = same.raw_bytes();
  EXPECT_LT(same_raw, varied.raw_bytes());
  // One byte a column (two for the time columns) before zstd, and next to nothing after.
  EXPECT_LE(same_raw, 17u * 1000 + 64);
  const EncodedFrame frame = same.finish(compressor);
  EXPECT_LT(frame.bytes.size(), 600u);
  DecodedBatch out;
  const std::string message = decompress(frame);  // the batch points into it
  ASSERT_TRUE(decode_event_batch(message, out, ReaderLimits{}).ok());
  ASSERT_EQ(out.size(), 1000u);
  EXPECT_EQ(out.event(999).args[1], 0x7ffc00001000u);
  EXPECT_EQ(out.event(999).comm, "loop");
}

TEST(EventBatch, ArgumentsBeyondArgCountReadAsZero) {
  ZstdCompressor compressor(1);
  EventBatchBuilder b;
  Event e;
  e.comm = "c";
  e.arg_count = 2;
  e.args = {1, 2, 3, 4, 5, 6};
  b.add(e);
  DecodedBatch out;
  const std::string message = decompress(b.finish(compressor));  // the batch points into it
  ASSERT_TRUE(decode_event_batch(message, out, ReaderLimits{}).ok());
  EXPECT_EQ(out.event(0).args, (std::array<uint64_t, 6>{1, 2, 0, 0, 0, 0}));
  EXPECT_EQ(out.event(0).arg_count, 2);
}

TEST(EventBatch, ShouldFlushAtTheEventLimit) {
  EventBatchBuilder b(3);
  Event e;
  e.comm = "c";
  b.add(e);
  b.add(e);
  EXPECT_FALSE(b.should_flush());
  b.add(e);
  EXPECT_TRUE(b.should_flush());
}

TEST(EventBatch, CommsAreInternedPerBatch) {
  ZstdCompressor compressor(1);
  EventBatchBuilder b;
  Event e;
  for (const char* comm : {"sh", "bc", "sh", "cat", "bc", "sh"}) {
    e.comm = comm;
    b.add(e);
  }
  DecodedBatch out;
  const std::string message = decompress(b.finish(compressor));  // the batch points into it
  ASSERT_TRUE(decode_event_batch(message, out, ReaderLimits{}).ok());
  std::vector<std::string> comms;
  for (size_t i = 0; i < out.size(); ++i) comms.emplace_back(out.event(i).comm);
  EXPECT_EQ(comms, (std::vector<std::string>{"sh", "bc", "sh", "cat", "bc", "sh"}));
}

// A whole C string's size is where its NUL is, which the decoder finds a
// word at a time over the first words, then with memchr: every length, the
// NUL in every place of a word and beyond the words looked at.
TEST(EventBatch, StringCapturesOfEveryLengthReadBack) {
  ZstdCompressor compressor(1);
  EventBatchBuilder b;
  std::vector<std::string> paths;
  for (size_t length = 0; length < 80; ++length) paths.push_back(std::string(length, 'p') + '\0');
  std::vector<CaptureView> views(1);
  for (const auto& path : paths) {
    Event e;
    e.comm = "ls";
    e.nr = 4;
    views[0] = {0, static_cast<uint32_t>(path.size()), path};
    e.captures = views;
    b.add(e);
  }
  DecodedBatch out;
  const std::string message = decompress(b.finish(compressor));  // the batch points into it
  const auto r = decode_event_batch(message, out, ReaderLimits{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(out.size(), paths.size());
  for (size_t i = 0; i < paths.size(); ++i) {
    const Event e = out.event(i);
    ASSERT_EQ(e.captures.size(), 1u) << i;
    EXPECT_EQ(e.captures[0].bytes, paths[i]) << i;
    EXPECT_EQ(e.captures[0].size, paths[i].size()) << i;
  }
}

TEST(EventBatch, AStringCaptureWithoutItsNulIsRefusedWhateverItsLength) {
  for (const size_t length : {1, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 100}) {
    ZstdCompressor compressor(1);
    EventBatchBuilder b;
    const std::string path = std::string(length, 'q') + '\0';
    std::vector<CaptureView> views{{0, static_cast<uint32_t>(path.size()), path}};
    Event e;
    e.comm = "ls";
    e.captures = views;
    b.add(e);
    std::string message = decompress(b.finish(compressor));
    // The string is the last of its group: without its NUL, none follows.
    const size_t at = message.find(path);
    ASSERT_NE(at, std::string::npos);
    message[at + length] = 'x';
    DecodedBatch out;
    const auto r = decode_event_batch(message, out, ReaderLimits{});
    ASSERT_FALSE(r.ok()) << length;
    EXPECT_EQ(r.error().message, "corrupt frame (string capture without its NUL)") << length;
  }
}

}  // namespace
}  // namespace traceloop::format

namespace traceloop::format {
namespace {

TEST(EventBatch, ManyCapturesOfOneArgumentReadBackExactly) {
  ZstdCompressor compressor(3);
  EventBatchBuilder b;
  std::vector<std::string> structs;
  for (int i = 0; i < 200; ++i) {
    std::string st(144, '\0');
    st[0] = static_cast<char>(i);         // st_dev-like constant bytes around a changing inode
    st[8] = static_cast<char>(i * 7);
    st[48] = static_cast<char>(0x42 + i % 3);
    for (int k = 100; k < 144; ++k) st[static_cast<size_t>(k)] = static_cast<char>(0x55);
    structs.push_back(st);
  }
  std::vector<CaptureView> views(1);
  for (const auto& st : structs) {
    Event e;
    e.comm = "ls";
    e.nr = 5;
    views[0] = {1, 144, st};
    e.captures = views;
    b.add(e);
  }
  const EncodedFrame frame = b.finish(compressor);
  DecodedBatch out;
  const std::string message = decompress(frame);  // the batch points into it
  ASSERT_TRUE(decode_event_batch(message, out, ReaderLimits{}).ok());
  ASSERT_EQ(out.size(), structs.size());
  for (size_t i = 0; i < structs.size(); ++i) {
    ASSERT_EQ(out.event(i).captures.size(), 1u);
    EXPECT_EQ(out.event(i).captures[0].bytes, structs[i]) << i;
    EXPECT_EQ(out.event(i).captures[0].arg, 1);
  }
}

}  // namespace
}  // namespace traceloop::format

namespace traceloop::format {
namespace {

// Events with paths (strings, some repeated) and stat structures, two
// syscalls so that groups start in different parts.
std::vector<OwnedEvent> parted_sample() {
  std::vector<OwnedEvent> events;
  for (int i = 0; i < 300; ++i) {
    OwnedEvent e;
    e.comm = "ls";
    e.fields.tid = 7;
    e.fields.pid = 7;
    e.fields.enter_ns = 1000 + static_cast<uint64_t>(i) * 10;
    e.fields.exit_ns = e.fields.enter_ns + 3;
    e.fields.nr = i < 100 ? 257 : 6;  // openat, then lstat
    e.fields.arg_count = 2;
    e.fields.args = {uint64_t(-100), 0x7ffc0000 + static_cast<uint64_t>(i % 5)};
    const std::string path = "/usr/bin/tool-" + std::to_string(i % 40) + std::string(1, '\0');
    e.captures.push_back({1, static_cast<uint32_t>(path.size()), path});
    if (e.fields.nr == 6) {
      std::string st(144, static_cast<char>(i));
      e.captures.push_back({1, 144, st});
      e.captures[0].arg = 0;
    }
    events.push_back(std::move(e));
  }
  return events;
}

// A batch whose captured bytes come in parts (a compacted trace's captures
// frames) decodes as the whole batch; without its last parts (a cut file),
// every event still decodes, the data of the lost parts' events alone gone.
TEST(EventBatch, PartedCapturesDecodeWholeOrWithoutTheirLastParts) {
  const auto events = parted_sample();
  EventBatchBuilder b;
  for (size_t i = 0; i < events.size(); ++i) {
    b.add(events[i].view());
    if (i == 49 || i == 149 || i == 249) b.end_capture_part();
  }
  const EventBatchBuilder::PartedMessages parted = b.finish_parted();
  ASSERT_EQ(parted.parts.size(), 4u);
  EXPECT_EQ(parted.event_count, events.size());
  EXPECT_TRUE(b.empty());
  std::vector<std::string_view> parts(parted.parts.begin(), parted.parts.end());
  for (size_t available = 0; available <= parts.size(); ++available) {
    SCOPED_TRACE(std::to_string(available) + " parts");
    DecodedBatch out;
    const CaptureFrames frames{std::span(parts).first(available), available < parts.size()};
    auto r = decode_event_batch(parted.batch, out, ReaderLimits{}, frames);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(out.size(), events.size());
    const size_t with_data = std::array<size_t, 5>{0, 50, 150, 250, 300}[available];
    EXPECT_EQ(out.captures_cut_from(), with_data);
    for (size_t i = 0; i < events.size(); ++i) {
      const Event e = out.event(i), s = events[i].view();
      ASSERT_EQ(e.args, s.args);
      ASSERT_EQ(e.enter_ns, s.enter_ns);
      ASSERT_EQ(e.captures.size(), i < with_data ? s.captures.size() : 0u) << i;
      for (size_t k = 0; k < e.captures.size(); ++k) {
        EXPECT_EQ(e.captures[k].bytes, s.captures[k].bytes) << i;
        EXPECT_EQ(e.captures[k].size, s.captures[k].size) << i;
      }
    }
  }
  // Parts missing while the file goes on are damage, as are parts too many,
  // out of order, or captures for a batch that holds its own.
  DecodedBatch out;
  auto r = decode_event_batch(parted.batch, out, ReaderLimits{}, {std::span(parts).first(2), false});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "corrupt frame (2 captures frames after an events frame of 4)");
  std::vector<std::string_view> swapped = {parts[1], parts[0]};
  r = decode_event_batch(parted.batch, out, ReaderLimits{}, {swapped, true});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "corrupt frame (captures frame of part 1 where part 0 belongs)");
  std::vector<std::string_view> five = parts;
  five.push_back(parts[3]);
  r = decode_event_batch(parted.batch, out, ReaderLimits{}, {five, true});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "corrupt frame (5 captures frames after an events frame of 4)");
  ZstdCompressor compressor(3);
  for (const auto& e : events) b.add(e.view());
  const std::string whole = decompress(b.finish(compressor));
  r = decode_event_batch(whole, out, ReaderLimits{}, {std::span(parts).first(1), false});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "corrupt frame (captures frames after an events frame that holds its captured bytes)");
}

}  // namespace
}  // namespace traceloop::format
