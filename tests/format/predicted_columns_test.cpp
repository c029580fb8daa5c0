// The predicted column encodings (formats 2 to 4): every prediction made by
// the encoder is undone exactly by the decoder, whether it was right or
// wrong, and a batch that lies about a prediction is refused. Strings passed
// again are stored once; times count in the batch's unit; captured bytes are
// grouped. Format 1 and 3 files (real traces in testdata/) still read, and
// rewrite unchanged.

#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <random>

#include "format/event_batch.h"
#include "format/frame_merge.h"
#include "format/trace_reader.h"
#include "format/trace_writer.h"
#include "format/varint.h"
#include "format/zstd_codec.h"
#include "tests/support/same_event.h"
#include "tests/support/temp_dir.h"
#include "trace.capnp.h"

namespace traceloop::format {
namespace {

std::string decompress(const EncodedFrame& f) {
  std::string raw(f.raw_size, '\0');
  ZstdDecompressor d;
  EXPECT_TRUE(d.decompress(std::string_view(f.bytes).substr(kFrameHeaderBytes), raw.data(), raw.size()).ok());
  return raw;
}

// Events built to hit each predictor both ways: threads that stay on a CPU
// and threads that move, syscalls whose argument count, capture arguments,
// return values (addresses, errors, extremes) and capture sizes (return
// value, whole C string, truncated string, binary) follow the previous event
// of the same number or break the pattern.
std::vector<OwnedEvent> stress_events(size_t n, uint64_t seed) {
  std::mt19937_64 rnd(seed);
  auto pick = [&](auto... v) {
    const uint64_t values[] = {static_cast<uint64_t>(v)...};
    return values[rnd() % sizeof...(v)];
  };
  std::vector<OwnedEvent> out;
  uint64_t now = 5'000'000'000;
  std::array<uint32_t, 4> cpu_of{};
  for (size_t i = 0; i < n; ++i) {
    OwnedEvent o;
    Event& e = o.fields;
    const size_t thread = rnd() % 4;
    e.tid = static_cast<uint32_t>(pick(100, 101, 102, 70000)) + static_cast<uint32_t>(thread);
    e.pid = rnd() % 3 == 0 ? e.tid : e.tid - static_cast<uint32_t>(thread);
    if (rnd() % 4 == 0) cpu_of[thread] = static_cast<uint32_t>(pick(0, 1, 3, 255));
    e.cpu = cpu_of[thread];
    now += rnd() % 5000;
    e.enter_ns = rnd() % 50 == 0 ? now - 100'000 : now;  // sometimes out of order
    e.nr = static_cast<uint32_t>(pick(0, 1, 9, 59, 600, 5000, UINT32_MAX));
    e.arg_count = rnd() % 5 == 0 ? static_cast<uint8_t>(rnd() % 7) : 6;
    for (auto& a : e.args) a = pick(0, 3, 0x7ffc00001000, UINT64_MAX, rnd());
    for (unsigned a = e.arg_count; a < 6; ++a) e.args[a] = 0;
    e.state = static_cast<CallState>(rnd() % 10 == 0 ? 1 + rnd() % 2 : 0);
    e.ret = static_cast<int64_t>(pick(0, 3, -2, -4095, 0x7f0000001000 + (rnd() & 0xfff000), 4096,
                                      std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()));
    if (e.state != CallState::returned) e.ret = 0;
    e.exit_ns = e.state == CallState::returned ? e.enter_ns + rnd() % 100'000 : 0;
    o.comm = rnd() % 2 ? "sh" : "worker";
    const size_t captures = rnd() % 4 == 0 ? rnd() % 4 : 1;
    for (size_t k = 0; k < captures; ++k) {
      OwnedCapture c;
      c.arg = static_cast<uint8_t>(rnd() % 3 == 0 ? rnd() % 6 : k + 1);
      switch (rnd() % 6) {
        case 0:  // a whole path: often one of a few (repeats, near and evicted)
          c.bytes = "/usr/lib/x" + std::to_string(rnd() % 2 ? rnd() % 12 : rnd() % 1000) + std::string(1, '\0');
          c.size = static_cast<uint32_t>(c.bytes.size());
          break;
        case 1:  // a path cut by the data limit
          c.bytes = std::string(16, 'p');
          c.size = 17;
          break;
        case 2:  // read-like: as long as the return value, maybe truncated
          c.size = e.ret >= 0 && e.ret < 100000 ? static_cast<uint32_t>(e.ret) : 7;
          c.bytes = std::string(std::min<uint32_t>(c.size, 256), 'r');
          break;
        case 3:  // binary with NULs inside
          c.bytes = std::string("a\0b\0c", 5);
          c.size = 5;
          break;
        case 4:  // empty string and empty buffer
          c.bytes = rnd() % 2 ? std::string(1, '\0') : std::string();
          c.size = static_cast<uint32_t>(c.bytes.size());
          break;
        default:  // recorded longer than the original size says
          c.bytes = "xyz";
          c.size = 1;
          break;
      }
      o.captures.push_back(c);
    }
    out.push_back(std::move(o));
  }
  return out;
}

TEST(PredictedColumns, EveryPredictionRightOrWrongRoundTrips) {
  for (uint64_t seed : {1, 2, 3}) {
    const auto events = stress_events(20000, seed);
    ZstdCompressor compressor(1);
    EventBatchBuilder b;
    for (const auto& o : events) b.add(o.view());
    DecodedBatch out;
    const std::string message = decompress(b.finish(compressor));  // the batch points into it
    auto r = decode_event_batch(message, out, ReaderLimits{});
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(out.size(), events.size());
    for (size_t i = 0; i < events.size(); ++i) ASSERT_NO_FATAL_FAILURE(testing::expect_same_event(out.event(i), events[i].view(), i));
  }
}

TEST(PredictedColumns, RightPredictionsCostAlmostNothing) {
  // The same call over and over (a read loop): after the first event every
  // predicted column holds zeros.
  ZstdCompressor compressor(3);
  EventBatchBuilder b;
  std::vector<CaptureView> views(1);
  const std::string data(64, 'd');
  for (int i = 0; i < 10000; ++i) {
    Event e;
    e.comm = "cat";
    e.tid = e.pid = 42;
    e.cpu = 1;
    e.nr = 0;
    e.arg_count = 3;
    e.args = {3, 0x7ffc0000, 4096};
    e.enter_ns = 1'000'000 + static_cast<uint64_t>(i) * 1000;
    e.exit_ns = e.enter_ns + 400;
    e.ret = 64;
    views[0] = {1, 64, data};
    e.captures = views;
    b.add(e);
  }
  const EncodedFrame frame = b.finish(compressor);
  EXPECT_LT(frame.bytes.size(), 10000u / 10) << "under a tenth of a byte per call";
}

// Encodes events of threads 7, 8 and 9 on CPU 0x55, with whole C string
// captures "abc", "xyz" and "abc" again, lets `corrupt` change the message,
// and decodes it.
Result<void> decode_corrupted(const std::function<void(std::string&)>& corrupt) {
  ZstdCompressor compressor(1);
  EventBatchBuilder b;
  for (uint32_t tid : {7, 8, 9}) {
    Event e;
    e.comm = "c";
    e.tid = e.pid = tid;
    e.cpu = 0x55;
    std::vector<CaptureView> views{{0, 4, std::string_view(tid == 8 ? "xyz\0" : "abc\0", 4)}};
    e.captures = views;
    b.add(e);
  }
  std::string raw = decompress(b.finish(compressor));
  corrupt(raw);
  DecodedBatch out;
  return decode_event_batch(raw, out, ReaderLimits{});
}

void replace_once(std::string& raw, std::string_view what, std::string_view with) {
  const size_t at = raw.find(what);
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(raw.find(what, at + 1), std::string::npos) << "ambiguous";
  raw.replace(at, what.size(), with);
}

// `raw`, an EventBatch message, with fields changed by `change`.
void rebuild(std::string& raw, const std::function<void(schema::EventBatch::Builder)>& change) {
  capnp::FlatArrayMessageReader reader(
      kj::ArrayPtr<const capnp::word>(reinterpret_cast<const capnp::word*>(raw.data()), raw.size() / 8));
  capnp::MallocMessageBuilder copy;
  copy.setRoot(reader.getRoot<schema::EventBatch>());
  change(copy.getRoot<schema::EventBatch>());
  const auto words = capnp::messageToFlatArray(copy);
  raw.assign(words.asChars().begin(), words.asChars().size());
}

// Where a Data field of the message's EventBatch lies in `raw`.
template <typename Get>
size_t column_offset(const std::string& raw, Get get) {
  capnp::FlatArrayMessageReader reader(
      kj::ArrayPtr<const capnp::word>(reinterpret_cast<const capnp::word*>(raw.data()), raw.size() / 8));
  const capnp::Data::Reader column = get(reader.getRoot<schema::EventBatch>());
  return static_cast<size_t>(reinterpret_cast<const char*>(column.begin()) - raw.data());
}

TEST(PredictedColumns, LyingPredictionsAreRefused) {
  ASSERT_TRUE(decode_corrupted([](std::string&) {}).ok());
  // cpuChange "same as before" for a thread not seen before.
  auto r = decode_corrupted([](std::string& raw) {
    const size_t at = column_offset(raw, [](auto batch) { return batch.getCpuChange(); });
    ASSERT_EQ(raw.substr(at, 3), "\x56\x56\x56");
    raw[at] = 0;
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "corrupt frame (cpu of an unseen thread)");
  // The second capture's size is "up to its NUL", and the NUL is gone.
  r = decode_corrupted([](std::string& raw) { replace_once(raw, std::string_view("abc\0xyz\0", 8), std::string_view("abc\0xyzw", 8)); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "corrupt frame (string capture without its NUL)");
  // The third string repeats the second most recent one; the column says the
  // third most recent, of two.
  r = decode_corrupted([](std::string& raw) {
    const size_t at = column_offset(raw, [](auto batch) { return batch.getCaptureRepeat(); });
    ASSERT_EQ(raw.substr(at, 3), std::string_view("\0\0\2", 3));
    raw[at + 2] = 3;
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "corrupt frame (bad string repeat)");
  // A time unit over a second.
  r = decode_corrupted([](std::string& raw) {
    rebuild(raw, [](schema::EventBatch::Builder batch) { batch.setTimeUnitNs(2'000'000'000); });
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "corrupt frame (time unit of 2000000000 ns)");
  // An argument code past the recent addresses.
  r = decode_corrupted([](std::string& raw) {
    const size_t at = column_offset(raw, [](auto batch) { return batch.getArgCode(); });
    ASSERT_EQ(raw[at], 0) << "the first argument is the initial 0";
    raw[at] = 21;
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "corrupt frame (argument code 21)");
  // columnEncoding is the only UInt8 of the struct: the byte after the
  // 4-byte count in the data section, which follows the segment table and
  // the root pointer.
  r = decode_corrupted([](std::string& raw) { raw[16 + 4] = 7; });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "corrupt frame (unknown column encoding 7)");
}

// The argument codes are checked eight at a time where the column holds
// eight more: a bad one is found wherever it is, and the largest is named.
TEST(PredictedColumns, ABadArgumentCodeIsRefusedAnywhereInItsColumn) {
  for (size_t position = 0; position < 18; ++position) {
    for (const int code : {21, 0x7f, 0x80, 0xff}) {
      const auto r = decode_corrupted([&](std::string& raw) {
        const size_t at = column_offset(raw, [](auto batch) { return batch.getArgCode(); });
        ASSERT_EQ(raw.substr(at, 18), std::string(18, '\0')) << "three events of six arguments, all 0";
        raw[at + position] = static_cast<char>(code);
      });
      ASSERT_FALSE(r.ok()) << position << " " << code;
      EXPECT_EQ(r.error().message, "corrupt frame (argument code " + std::to_string(code) + ")") << position;
    }
  }
}

TEST(PredictedColumns, RepeatedStringsAreStoredOnce) {
  // ls -l: statx, lgetxattr and getxattr of each file name in turn.
  auto encode = [](int calls_per_path) {
    ZstdCompressor compressor(3);
    EventBatchBuilder b;
    std::vector<OwnedEvent> events;
    for (int file = 0; file < 1000; ++file) {
      for (int call = 0; call < calls_per_path; ++call) {
        OwnedEvent o;
        o.fields.tid = o.fields.pid = 42;
        o.fields.nr = static_cast<uint32_t>(332 + call);
        o.comm = "ls";
        const std::string path = "/usr/bin/tool-" + std::to_string(file * 7919 % 100003) + std::string(1, '\0');
        o.captures.push_back(OwnedCapture{1, static_cast<uint32_t>(path.size()), path});
        events.push_back(std::move(o));
        b.add(events.back().view());
      }
    }
    EncodedFrame frame = b.finish(compressor);
    DecodedBatch out;
    const std::string message = decompress(frame);
    EXPECT_TRUE(decode_event_batch(message, out, ReaderLimits{}).ok());
    EXPECT_EQ(out.size(), events.size());
    for (size_t i = 0; i < events.size() && i < out.size(); ++i)
      EXPECT_NO_FATAL_FAILURE(testing::expect_same_event(out.event(i), events[i].view(), i));
    return frame.bytes.size();
  };
  const size_t once = encode(1), thrice = encode(3);
  EXPECT_LT(thrice, once + once / 5) << "two repeats of each path cost under a fifth of the paths";
}

// The message of a batch of `events`, after checking that it decodes to them.
std::string round_trip(const std::vector<OwnedEvent>& events) {
  ZstdCompressor compressor(1);
  EventBatchBuilder b;
  for (const auto& o : events) b.add(o.view());
  std::string message = decompress(b.finish(compressor));
  DecodedBatch out;
  const auto r = decode_event_batch(message, out, ReaderLimits{});
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  EXPECT_EQ(out.size(), events.size());
  for (size_t i = 0; i < events.size() && i < out.size(); ++i)
    EXPECT_NO_FATAL_FAILURE(testing::expect_same_event(out.event(i), events[i].view(), i));
  return message;
}

// A Data column of an EventBatch message, as bytes.
template <typename Get>
std::string column(const std::string& message, Get get) {
  capnp::FlatArrayMessageReader reader(
      kj::ArrayPtr<const capnp::word>(reinterpret_cast<const capnp::word*>(message.data()), message.size() / 8));
  const capnp::Data::Reader d = get(reader.getRoot<schema::EventBatch>());
  return {reinterpret_cast<const char*>(d.begin()), d.size()};
}

// What decoding `message` changed by `change` gives: "accepted" or the error.
std::string decode_changed(std::string message, const std::function<void(schema::EventBatch::Builder)>& change) {
  rebuild(message, change);
  DecodedBatch out;
  const auto r = decode_event_batch(message, out, ReaderLimits{});
  return r.ok() ? std::string("accepted") : r.error().message;
}

// The sizes of the raw args and argCode columns of a batch of `events`.
std::pair<size_t, size_t> argument_columns(const std::vector<OwnedEvent>& events) {
  const std::string message = round_trip(events);
  return {column(message, [](auto batch) { return batch.getArgs(); }).size(),
          column(message, [](auto batch) { return batch.getArgCode(); }).size()};
}

OwnedEvent call(uint32_t nr, std::array<uint64_t, 6> args) {
  OwnedEvent o;
  o.fields.tid = o.fields.pid = 9;
  o.fields.nr = nr;
  o.fields.args = args;
  o.comm = "python3";
  return o;
}

std::string varints(std::initializer_list<uint64_t> values) {
  std::string out;
  for (uint64_t v : values) detail::put_varint(out, v);
  return out;
}

capnp::Data::Reader data(const std::string& s) { return {reinterpret_cast<const kj::byte*>(s.data()), s.size()}; }

TEST(PredictedColumns, CapturedBytesAreGroupedByArgumentOfTheirSyscall) {
  // ls -l of symlinks: statx(path, struct), then readlink(the same path,
  // target). Grouped, the paths, the structures and the targets each lie
  // together (the repeated path is a reference: its group is empty).
  std::vector<OwnedEvent> events;
  std::string paths, structs, targets;
  for (int file = 0; file < 3; ++file) {
    const std::string path = "/usr/bin/cc" + std::to_string(file) + std::string(1, '\0');
    const std::string st(40, static_cast<char>('a' + file));
    const std::string target = "../lib/cc-" + std::to_string(file);
    OwnedEvent statx = call(332, {static_cast<uint64_t>(-100), 0x5000, 0x900, 0xfff, 0x7ffd0000, 0});
    statx.captures = {OwnedCapture{1, static_cast<uint32_t>(path.size()), path},
                      OwnedCapture{4, static_cast<uint32_t>(st.size()), st}};
    OwnedEvent readlink = call(89, {0x5000, 0x6000, 64, 0, 0, 0});
    readlink.fields.ret = static_cast<int64_t>(target.size());
    readlink.captures = {OwnedCapture{0, static_cast<uint32_t>(path.size()), path},
                         OwnedCapture{1, static_cast<uint32_t>(target.size()), target}};
    events.push_back(std::move(statx));
    events.push_back(std::move(readlink));
    paths += path;
    structs += st;
    targets += target;
  }
  const std::string good = round_trip(events);
  EXPECT_EQ(column(good, [](auto batch) { return batch.getCaptureBytes(); }), paths + structs + targets);
  EXPECT_EQ(column(good, [](auto batch) { return batch.getCaptureGroupSizes(); }),
            varints({paths.size(), structs.size(), 0, targets.size()}));

  // Group sizes that lie are refused, and no capture reads across a group's end.
  const auto refused = [&](const std::string& sizes, const std::string& bytes) {
    return decode_changed(good, [&](schema::EventBatch::Builder batch) {
      batch.setCaptureGroupSizes(data(sizes));
      batch.setCaptureBytes(data(bytes));
    });
  };
  const std::string all = paths + structs + targets;
  EXPECT_EQ(refused(varints({paths.size(), structs.size(), 0, targets.size() + 1}), all),
            "corrupt frame (capture group sizes)")
      << "more than the column";
  EXPECT_EQ(refused(varints({paths.size(), structs.size(), 0, targets.size() - 1}), all),
            "corrupt frame (capture group sizes)")
      << "less than the column";
  EXPECT_EQ(refused(varints({paths.size(), structs.size(), targets.size()}), all),
            "corrupt frame (capture group sizes)")
      << "a group missing";
  EXPECT_EQ(refused(varints({paths.size(), structs.size(), 0, targets.size(), 0}), all),
            "corrupt frame (capture group sizes)")
      << "a group never used";
  EXPECT_EQ(refused(varints({paths.size() - 1, structs.size() + 1, 0, targets.size()}), all),
            "corrupt frame (string capture without its NUL)")
      << "the last path's NUL is in the next group";
  EXPECT_EQ(refused(varints({paths.size(), structs.size() - 1, 1, targets.size()}), all),
            "corrupt frame (capture out of bounds)")
      << "the last structure runs past its group";
  EXPECT_EQ(refused(varints({paths.size(), structs.size(), 1, targets.size()}), paths + structs + "x" + targets),
            "corrupt frame (column length mismatch)")
      << "a byte of a group left over";
  EXPECT_EQ(refused(std::string("\x80", 1), all), "corrupt frame (capture group sizes)") << "a cut varint";
}

TEST(PredictedColumns, TimesAndResultsAreKeptInAPartPerSyscall) {
  // read, write, read, write...: the durations of the reads lie together,
  // then those of the writes; so do the enter gaps and the results.
  std::vector<OwnedEvent> events;
  std::string read_durations, write_durations;
  uint64_t now = 1'000'000;  // in ns, the builder's default unit; values below 64 take a byte
  for (uint64_t i = 0; i < 6; ++i) {
    const bool is_read = i % 2 == 0;
    OwnedEvent o = call(is_read ? 0 : 1, {3, 0x7ffd0000, 64, 0, 0, 0});
    o.fields.enter_ns = now;
    o.fields.exit_ns = now + (is_read ? 10 + i : 40 + i);
    o.fields.ret = is_read ? 6 : 5;
    now = o.fields.exit_ns + 3;
    detail::put_varint(is_read ? read_durations : write_durations, o.fields.exit_ns - o.fields.enter_ns);
    events.push_back(std::move(o));
  }
  const std::string good = round_trip(events);
  EXPECT_EQ(column(good, [](auto batch) { return batch.getDuration(); }), read_durations + write_durations);
  // Three one-byte values per syscall in each column.
  EXPECT_EQ(column(good, [](auto batch) { return batch.getPerSyscallSizes(); }), varints({3, 3, 3, 3, 3, 3}));

  const auto refused = [&](const std::string& sizes) {
    return decode_changed(good, [&](schema::EventBatch::Builder batch) { batch.setPerSyscallSizes(data(sizes)); });
  };
  EXPECT_EQ(refused(varints({3, 3, 3, 3, 3, 4})), "corrupt frame (per-syscall sizes)") << "more than a column";
  EXPECT_EQ(refused(varints({3, 3, 3, 3, 3, 2})), "corrupt frame (per-syscall sizes)") << "less than a column";
  EXPECT_EQ(refused(varints({6, 6, 6})), "corrupt frame (per-syscall sizes)") << "a syscall without a part";
  EXPECT_EQ(refused(varints({3, 3, 3, 3, 3, 3, 0, 0, 0})), "corrupt frame (per-syscall sizes)") << "a part unused";
  EXPECT_EQ(refused(varints({3, 3, 3, 3, 3})), "corrupt frame (per-syscall sizes)") << "sizes cut short";
  EXPECT_EQ(refused(std::string("\x03\x03\x83", 3)), "corrupt frame (per-syscall sizes)") << "a cut varint";
  EXPECT_EQ(refused(varints({2, 4, 3, 4, 2, 3})), "corrupt frame (column length mismatch)")
      << "the reads' gaps end early, the writes' have one too many";
}

// Arguments are decoded when first used, unchecked: the count of the values
// column is their check. A value with a tenth byte above 1 (beyond 64 bits)
// is refused there; it was accepted, then read as a silent 0.
TEST(PredictedColumns, AnArgumentBeyond64BitsIsRefused) {
  const std::string good = round_trip({call(0, {3, 0x7ffd0000, 64, 0, 0, 0})});
  const std::string values = column(good, [](auto batch) { return batch.getArgs(); });
  ASSERT_FALSE(values.empty());
  size_t first = 0;  // the last byte of the first value
  while (first < values.size() && static_cast<uint8_t>(values[first]) >= 0x80) ++first;
  ASSERT_LT(first, values.size());
  const std::string rest = values.substr(first + 1);  // the values after the first
  const auto with_first = [&](const std::string& value) {
    return decode_changed(good, [&](schema::EventBatch::Builder batch) { batch.setArgs(data(value + rest)); });
  };
  EXPECT_EQ(with_first(std::string(9, '\xff') + '\x01'), "accepted") << "bit 63: the largest value";
  EXPECT_EQ(with_first(std::string(9, '\xff') + '\x02'), "corrupt frame (column length mismatch)");
  EXPECT_EQ(with_first(std::string(9, '\x80') + '\x7f'), "corrupt frame (column length mismatch)");
}

TEST(PredictedColumns, ArgumentsSeenBeforeCostOnlyTheirCode) {
  // Each argument cycles through 4 values (sigprocmask's set/old pointers,
  // NULL, SIG_BLOCK/SIG_SETMASK): once seen, a value is its index.
  std::mt19937_64 rnd(5);
  std::array<std::array<uint64_t, 6>, 4> values;
  for (auto& v : values)
    for (auto& a : v) a = rnd();
  std::vector<OwnedEvent> first, all;
  for (int i = 0; i < 1000; ++i) (i < 4 ? first : all).push_back(call(14, values[static_cast<size_t>(i * 3 % 4)]));
  all.insert(all.begin(), first.begin(), first.end());
  const auto [first_args, first_codes] = argument_columns(first);
  const auto [all_args, all_codes] = argument_columns(all);
  EXPECT_EQ(all_args, first_args);
  EXPECT_EQ(all_codes, 6u * 1000);

  // openat of the path newfstatat just looked at: the pointer is a recent
  // address, the difference 0 (one byte); AT_FDCWD and the flags are hits.
  std::vector<OwnedEvent> stats, pairs;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t path = 0x55d0c0000000 + (rnd() & 0xffff0);
    stats.push_back(call(262, {static_cast<uint64_t>(-100), path, 0x7ffd3000, 0, 0, 0}));
    pairs.push_back(stats.back());
    pairs.push_back(call(257, {static_cast<uint64_t>(-100), path, 0x80000, 0, 0, 0}));
  }
  // (A path new to both memories costs ~3 bytes: 20 random bits.)
  EXPECT_LE(argument_columns(pairs).first, argument_columns(stats).first + 1200) << "about a byte per openat";
}

TEST(PredictedColumns, RepeatedStructuresAreStoredOnceAndCheckedOnRead) {
  ZstdCompressor compressor(1);
  EventBatchBuilder b;
  const std::string sigaction("\x10\x20\x30\x40\0\0\0\x04\x00\x01\x02\x03", 12);
  for (int i = 0; i < 3; ++i) {
    Event e;
    e.comm = "python3";
    e.nr = 13;
    std::vector<CaptureView> views{{2, 12, sigaction}};
    e.captures = views;
    b.add(e);
  }
  std::string raw = decompress(b.finish(compressor));
  DecodedBatch out;
  ASSERT_TRUE(decode_event_batch(raw, out, ReaderLimits{}).ok());
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(out.event(i).captures[0].bytes, sigaction);
  capnp::FlatArrayMessageReader reader(
      kj::ArrayPtr<const capnp::word>(reinterpret_cast<const capnp::word*>(raw.data()), raw.size() / 8));
  EXPECT_EQ(reader.getRoot<schema::EventBatch>().getCaptureBytes().size(), sigaction.size()) << "stored once";
  const size_t at = column_offset(raw, [](auto batch) { return batch.getCaptureRepeat(); });
  ASSERT_EQ(raw.substr(at, 3), std::string_view("\0\1\1", 3));
  raw[at + 2] = 2;  // the second most recent of one
  auto r = decode_event_batch(raw, out, ReaderLimits{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "corrupt frame (bad capture repeat)");
}

TEST(PredictedColumns, ArgumentColumnsAreCheckedBeforeTheyAreDecoded) {
  // Arguments are decoded on first use; a lie in their columns must fail the
  // batch's decoding, not surface later.
  ZstdCompressor compressor(1);
  EventBatchBuilder b;
  const OwnedEvent e = call(1, {3, 0x7ffd0000, 42, 0, 0, 0});
  b.add(e.view());
  const std::string good = decompress(b.finish(compressor));
  DecodedBatch out;
  ASSERT_TRUE(decode_event_batch(good, out, ReaderLimits{}).ok());
  EXPECT_EQ(out.event(0).args, e.fields.args);
  EXPECT_EQ(out.summary(0).args, (std::array<uint64_t, 6>{})) << "summary() leaves them out";

  std::string raw = good;
  const size_t at = column_offset(raw, [](auto batch) { return batch.getArgs(); });
  raw[at] = static_cast<char>(0x86);  // the first difference now runs into the next
  auto r = decode_event_batch(raw, out, ReaderLimits{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "corrupt frame (column length mismatch)");
}

TEST(PredictedColumns, TimesAreFlooredToTheBatchUnit) {
  ZstdCompressor compressor(3);
  EventBatchBuilder b(65536, 8u << 20, 1000);
  auto events = stress_events(5000, 4);
  for (const auto& o : events) b.add(o.view());
  const EncodedFrame frame = b.finish(compressor);
  DecodedBatch out;
  const std::string message = decompress(frame);
  ASSERT_TRUE(decode_event_batch(message, out, ReaderLimits{}).ok());
  EXPECT_EQ(out.time_unit_ns(), 1000u);
  ASSERT_EQ(out.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    Event expected = events[i].view();
    expected.enter_ns -= expected.enter_ns % 1000;
    if (expected.state == CallState::returned) expected.exit_ns -= expected.exit_ns % 1000;
    ASSERT_NO_FATAL_FAILURE(testing::expect_same_event(out.event(i), expected, i));
  }
  EXPECT_EQ(frame.first_ns % 1000, 0u);

  // Merging keeps the unit; frames of different units do not merge.
  EventFrameMerger merger;
  EventBatchBuilder again(65536, 8u << 20, 1000);
  for (const auto& o : events) again.add(o.view());
  const std::vector<EncodedFrame> same{frame, again.finish(compressor)};
  auto merged = merger.merge(same, compressor);
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  const std::string merged_message = decompress(*merged);
  ASSERT_TRUE(decode_event_batch(merged_message, out, ReaderLimits{}).ok());
  EXPECT_EQ(out.time_unit_ns(), 1000u);
  EXPECT_EQ(out.enter_times()[events.size()], events[0].fields.enter_ns / 1000 * 1000);
  EventBatchBuilder in_ns;
  for (const auto& o : events) in_ns.add(o.view());
  const std::vector<EncodedFrame> mixed{frame, in_ns.finish(compressor)};
  EXPECT_FALSE(merger.merge(mixed, compressor).ok());
  auto after_failure = merger.merge(same, compressor);
  ASSERT_TRUE(after_failure.ok());
  EXPECT_EQ(after_failure->event_count, 2 * events.size()) << "a failed merge leaves nothing behind";
}

TEST(PredictedColumns, MergedFramesHoldTheSameEventsAndLosses) {
  const auto events = stress_events(9000, 9);
  ZstdCompressor compressor(3);
  std::vector<EncodedFrame> frames;
  EventBatchBuilder b;
  for (size_t i = 0; i < events.size(); ++i) {
    if (i % 1000 == 500) b.add_loss(LossMarker{.lost = i, .overwritten = 0, .cpu = 1, .container = 0, .at_ns = i});
    b.add(events[i].view());
    if (i % 3000 == 2999) frames.push_back(b.finish(compressor));
  }
  b.add_loss(LossMarker{.lost = 5, .overwritten = 0, .cpu = -1, .container = 0, .at_ns = 1});
  frames.push_back(b.finish(compressor));  // a frame of one trailing loss marker, no events

  EventFrameMerger merger;
  auto merged = merger.merge(frames, compressor);
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  EXPECT_EQ(merged->event_count, events.size());
  size_t separate = 0;
  for (const auto& f : frames) separate += f.bytes.size();
  EXPECT_LT(merged->bytes.size(), separate);

  DecodedBatch out;
  const std::string message = decompress(*merged);  // the batch points into it
  ASSERT_TRUE(decode_event_batch(message, out, ReaderLimits{}).ok());
  ASSERT_EQ(out.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) ASSERT_NO_FATAL_FAILURE(testing::expect_same_event(out.event(i), events[i].view(), i));
  ASSERT_EQ(out.losses().size(), 10u);
  for (size_t k = 0; k < 9; ++k) {
    EXPECT_EQ(out.losses()[k].before_event, k * 1000 + 500);
    EXPECT_EQ(out.losses()[k].loss.lost, k * 1000 + 500);
  }
  EXPECT_EQ(out.losses()[9].before_event, events.size());
  EXPECT_EQ(out.losses()[9].loss.lost, 5u);

  EncodedFrame header_like = frames[0];
  header_like.type = FrameType::processes;
  EXPECT_FALSE(merger.merge(std::span(&header_like, 1), compressor).ok());
}

TEST(PredictedColumns, OlderFormatsReadAndRewriteUnchanged) {
  const char* dir = std::getenv("TRACELOOP_SOURCE_DIR");
  const std::filesystem::path source = dir != nullptr ? dir : TRACELOOP_TEST_SOURCE_DIR;
  // Real traces recorded by earlier versions (testdata/README.md).
  for (const auto& [name, major] :
       {std::pair{"multiplication.tl", 1}, std::pair{"listing.tl", 1}, std::pair{"format3-ls.tl", 3}}) {
    auto old = load_trace(source / "testdata" / "real" / name);
    ASSERT_TRUE(old.ok()) << old.error().message;
    ASSERT_EQ(old->metadata.format_major, major) << name << " is meant to keep format " << major << " covered";
    ASSERT_GT(old->events.size(), 50u);

    testing::TempDir tmp;
    auto writer = TraceWriter::create(tmp / name, old->metadata);
    ASSERT_TRUE(writer.ok());
    size_t next_loss = 0;
    for (size_t i = 0; i < old->events.size(); ++i) {
      for (; next_loss < old->losses.size() && old->losses[next_loss].first <= i; ++next_loss)
        ASSERT_TRUE(writer->append_loss(old->losses[next_loss].second).ok());
      ASSERT_TRUE(writer->append(old->events[i].view()).ok());
    }
    ASSERT_TRUE(writer->finish().ok());
    auto now = load_trace(tmp / name);
    ASSERT_TRUE(now.ok()) << now.error().message;
    EXPECT_EQ(now->metadata.format_major, kFormatMajor);
    ASSERT_EQ(now->events.size(), old->events.size());
    for (size_t i = 0; i < old->events.size(); ++i)
      ASSERT_NO_FATAL_FAILURE(testing::expect_same_event(now->events[i].view(), old->events[i].view(), i)) << name;
  }
}

}  // namespace
}  // namespace traceloop::format
