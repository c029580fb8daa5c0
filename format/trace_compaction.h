#pragma once
// Makes a finished trace smaller, for a recorder whose command has ended: the
// events were compressed at a fast level while they streamed in; now every
// frame is worth a stronger codec (LZMA2), and the header's catalogue need only
// list the syscalls the events use (the whole catalogue is ~14 KB, more than
// a short command's events). Internal to format/ (TraceWriter::finish).

#include <cstdint>
#include <string>

#include "format/frame.h"
#include "format/metadata.h"
#include "format/result.h"

namespace traceloop::format::detail {

// The header frame of `metadata`: at zstd's strongest level (written once per
// file); at a fast level, for a file whose header compaction will replace
// (its whole catalogue takes ~20 ms at the strongest level); or as compaction
// writes frames (encode_compact_frame).
enum class HeaderCodec { zstd, zstd_fast, compact };
Result<EncodedFrame> encode_header_frame(const TraceMetadata& metadata, HeaderCodec codec = HeaderCodec::zstd);

// The whole compacted file (preamble, header, frames): the frames of `fd`
// from byte `frames_begin` to `frames_end` recompressed (~0.13 s per MiB of
// messages), the header made from `metadata` with the catalogue cut to the
// events' syscalls. An events frame's captured bytes move to captures frames
// after it, parts of one LZMA2 stream with it (see trace_compaction.cpp), so
// that a copy of the file cut short still shows its events; other messages
// are kept as they are (encode_compact_frame).
Result<std::string> compact_trace(int fd, uint64_t frames_begin, uint64_t frames_end, TraceMetadata metadata);

}  // namespace traceloop::format::detail
