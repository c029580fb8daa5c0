#include "format/trace_compaction.h"

#include <unistd.h>

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_set>
#include <vector>

#include "format/event_batch.h"
#include "format/frame_codec.h"
#include "format/lzma_codec.h"
#include "format/schema_convert.h"
#include "format/zstd_codec.h"

namespace traceloop::format::detail {
namespace {

constexpr int kHeaderCompressionLevel = 19;
constexpr int kFastHeaderCompressionLevel = 3;

// A copy of a compacted trace cut short (a partial upload, a full disk) must
// still show most of it. An events frame therefore keeps every column but
// the captured bytes, which are most of a `run` trace (78% of an `ls -l
// /usr/bin` trace compressed, 44% of Python's start-up), and those follow
// in captures frames, each holding the bytes of a run of consecutive events:
// a cut file shows every event of a whole events frame, and the data of
// those whose captures frame survived. The frames are parts of one LZMA2
// stream, so that none restarts the dictionary or the model.
//
// Each captures frame costs far more than its frame header, checksum and
// LZMA2 chunk end, though: every capture group it holds a piece of is cut
// off from the group's other pieces, and the compressor loses its context
// there. Measured on `ls -l /usr/bin` (4229 events; 33,584 bytes as one
// frame, 33,506 for the `strace -f -s 256` text compressed by `zstd -19`),
// whole file -> first 63% of it:
//   one captures frame:                     33,157 bytes; all events, no data
//   2 frames (small groups whole):          33,670; all events, no data (51% at 80%)
//   3 frames, every group cut:              34,426; all events, 33% with data
//   8 frames cut by raw bytes, every group: 35,623; all events, 39% with data
// So a part holds at least kMinCapturePartWeight (what zstd's fastest level
// makes of its bytes), which keeps the parts of short commands' traces such
// as these to one and the cost of a part below 1% of what it holds; at most
// kMaxCaptureParts; and a group lighter than half a part is not cut (all of
// it goes with its first capture: 164 bytes less for ls in 2 frames). A batch
// with less than kMinCapturedBytes keeps them in its own frame as streamed
// (columnEncoding 3).
constexpr size_t kMaxCaptureParts = 16;
constexpr double kMinCapturePartWeight = 64u << 10;
constexpr size_t kMinCapturedBytes = 4u << 10;
// The literal contexts of LZMA2 for the captures frames: two bits of the
// position for matches (structures such as stat's are aligned) and three of
// the byte before for literals (paths and text), where event columns do
// best with one bit of the byte before alone (lzma_codec.cpp). Measured on
// the captured bytes of `ls -l /usr/bin`: 1.6% smaller; of Python's
// start-up: 0.3% larger.
constexpr uint32_t kCaptureLc = 3, kCaptureLp = 0, kCapturePb = 2;

Result<void> read_exactly(int fd, char* out, size_t n, uint64_t offset) {
  while (n > 0) {
    const ssize_t got = ::pread(fd, out, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Error{std::string("cannot read back the trace: ") + std::strerror(errno)};
    if (got == 0) return Error{"cannot read back the trace: it ends early"};
    out += got;
    n -= static_cast<size_t>(got);
    offset += static_cast<uint64_t>(got);
  }
  return {};
}

// Events, loss markers and notices of `batch`, in the order a reader gives
// them; `after_event` after each event.
template <typename AfterEvent>
void add_batch(const DecodedBatch& batch, EventBatchBuilder& builder, AfterEvent after_event) {
  const auto losses = batch.losses();
  const auto notices = batch.notices();
  size_t next_loss = 0, next_notice = 0;
  for (size_t i = 0; i <= batch.size(); ++i) {
    for (; next_loss < losses.size() && losses[next_loss].before_event <= i; ++next_loss)
      builder.add_loss(losses[next_loss].loss);
    for (; next_notice < notices.size() && notices[next_notice].before_event <= i; ++next_notice)
      builder.add_notice(notices[next_notice].notice);
    if (i == batch.size()) break;
    builder.add(batch.event(i));
    after_event();
  }
}

// The frames of one events frame as compaction writes them: the events frame
// and its captures frames, or (few captured bytes) the message as it is.
void append_compacted_events(std::string_view message, const DecodedBatch& batch, std::string& out) {
  EventBatchBuilder measure(UINT32_MAX, UINT32_MAX, batch.time_unit_ns());
  add_batch(batch, measure, [] {});
  if (batch.size() == 0 || measure.capture_bytes() < kMinCapturedBytes) {
    EncodedFrame frame;
    encode_compact_frame(FrameType::events, message, static_cast<uint32_t>(batch.size()), frame);
    out += frame.bytes;
    return;
  }
  // Parts are cut by what their bytes will take compressed, which differs
  // from group to group by two orders of magnitude (the stat structures of
  // `ls -l` shrink 25 times, its directory entries 3 times): each group's
  // bytes weigh what zstd's fastest level makes of them.
  std::vector<double> weight;
  double total = 0;
  {
    ZstdCompressor compressor(1);
    std::string compressed;
    for (const std::string_view group : measure.capture_groups()) {
      compressed.clear();
      compressor.compress(group, compressed);
      weight.push_back(group.empty() ? 0 : static_cast<double>(compressed.size()) / static_cast<double>(group.size()));
      total += static_cast<double>(compressed.size());
    }
  }
  const size_t parts =
      std::clamp<size_t>(static_cast<size_t>(total / kMinCapturePartWeight), 1, kMaxCaptureParts);
  const double part_weight = total / static_cast<double>(parts);
  EventBatchBuilder builder(UINT32_MAX, UINT32_MAX, batch.time_unit_ns());
  double next_end = part_weight;
  size_t ended = 0;
  add_batch(batch, builder, [&] {
    if (ended + 1 == parts) return;
    double done = 0;
    const auto groups = builder.capture_groups();
    for (size_t g = 0; g < groups.size(); ++g) done += weight[g] * static_cast<double>(groups[g].size());
    if (done < next_end) return;
    builder.end_capture_part();
    ++ended;
    next_end += part_weight;
  });
  std::vector<bool> whole;
  for (const std::string_view group : builder.capture_groups())
    whole.push_back(weight[whole.size()] * static_cast<double>(group.size()) < part_weight / 2);
  const EventBatchBuilder::PartedMessages messages = builder.finish_parted(whole);
  size_t raw = messages.batch.size();
  for (const auto& part : messages.parts) raw += part.size();
  LzmaStreamEncoder stream(raw);
  EncodedFrame frame;
  encode_stream_frame(FrameType::events, messages.batch, messages.event_count, stream, frame);
  out += frame.bytes;
  stream.set_literal_contexts(kCaptureLc, kCaptureLp, kCapturePb);
  for (const auto& part : messages.parts) {
    encode_stream_frame(FrameType::captures, part, 0, stream, frame);
    out += frame.bytes;
  }
}

}  // namespace

Result<EncodedFrame> encode_header_frame(const TraceMetadata& metadata, HeaderCodec codec) {
  capnp::MallocMessageBuilder message;
  to_schema(metadata, message.initRoot<schema::Header>());
  const kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  const auto bytes = words.asChars();
  if (bytes.size() > kMaxFrameRawBytes) return Error{"trace header too large"};
  const std::string_view serialized(bytes.begin(), bytes.size());
  EncodedFrame header;
  if (codec == HeaderCodec::compact) {
    encode_compact_frame(FrameType::header, serialized, 0, header);
  } else {
    ZstdCompressor compressor(codec == HeaderCodec::zstd ? kHeaderCompressionLevel : kFastHeaderCompressionLevel);
    encode_raw_frame(FrameType::header, serialized, 0, compressor, header);
  }
  return header;
}

Result<std::string> compact_trace(int fd, uint64_t frames_begin, uint64_t frames_end, TraceMetadata metadata) {
  FrameDecompressor decompressor;
  MessageBuffer words;
  DecodedBatch batch;
  // Syscall numbers seen: flat below 1024, a set for odd ones (syscall(-1)).
  std::vector<bool> used(1024, false);
  std::unordered_set<uint32_t> other_nrs;
  std::vector<uint32_t> used_nrs;
  std::string frame;
  std::string frames;
  EncodedFrame recompressed;
  for (uint64_t offset = frames_begin; offset < frames_end;) {
    frame.resize(kFrameHeaderBytes);
    if (auto r = read_exactly(fd, frame.data(), kFrameHeaderBytes, offset); !r) return r.error();
    const FrameHeader h = parse_frame_header(frame.data());
    if (!frame_header_problem(frame.data(), ReaderLimits{}).empty() ||
        offset + kFrameHeaderBytes + h.compressed_size > frames_end)
      return Error{"cannot read back the trace: bad frame size"};
    frame.resize(kFrameHeaderBytes + h.compressed_size);
    if (auto r = read_exactly(fd, frame.data() + kFrameHeaderBytes, h.compressed_size, offset + kFrameHeaderBytes); !r)
      return r.error();
    auto message = decompress_frame(frame, decompressor, words);
    if (!message) return message.error();
    if (h.type == static_cast<uint8_t>(FrameType::events)) {
      if (auto r = decode_event_batch(*message, batch, ReaderLimits{}); !r) return r.error();
      for (const uint32_t nr : batch.syscall_numbers()) {
        const bool seen = nr < used.size() ? used[nr] : !other_nrs.insert(nr).second;
        if (seen) continue;
        if (nr < used.size()) used[nr] = true;
        used_nrs.push_back(nr);
      }
      append_compacted_events(*message, batch, frames);
    } else {
      encode_compact_frame(static_cast<FrameType>(h.type), *message, h.event_count, recompressed);
      frames += recompressed.bytes;
    }
    offset += frame.size();
  }
  metadata.catalogue = metadata.catalogue.subset(used_nrs);
  auto header = encode_header_frame(metadata, HeaderCodec::compact);
  if (!header) return header.error();
  std::string file = make_preamble(kFormatMajor, kFormatMinor);
  file += header->bytes;
  file += frames;
  return file;
}

}  // namespace traceloop::format::detail
