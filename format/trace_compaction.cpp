#include "format/trace_compaction.h"

#include <unistd.h>

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cerrno>
#include <cstring>
#include <unordered_set>
#include <vector>

#include "format/event_batch.h"
#include "format/frame_codec.h"
#include "format/schema_convert.h"
#include "format/zstd_codec.h"

namespace traceloop::format::detail {
namespace {

constexpr int kHeaderCompressionLevel = 19;
constexpr int kFastHeaderCompressionLevel = 3;

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
    }
    encode_compact_frame(static_cast<FrameType>(h.type), *message, h.event_count, recompressed);
    frames += recompressed.bytes;
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
