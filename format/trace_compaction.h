#pragma once
// Makes a finished trace smaller, for a recorder whose command has ended: the
// events were compressed at a fast level while they streamed in; now every
// frame is worth the strongest level, and the header's catalogue need only
// list the syscalls the events use (the whole catalogue is ~14 KB, more than
// a short command's events). Internal to format/ (TraceWriter::finish).

#include <cstdint>
#include <string>

#include "format/frame.h"
#include "format/metadata.h"
#include "format/result.h"

namespace traceloop::format::detail {

// The header frame of `metadata` at the strongest level: written once per file.
Result<EncodedFrame> encode_header_frame(const TraceMetadata& metadata);

// The whole compacted file (preamble, header, frames): the frames of `fd`
// from byte `frames_begin` to `frames_end` recompressed at `level`, the
// header made from `metadata` with the catalogue cut to the events' syscalls.
// Frames other than events frames are recompressed unchanged.
Result<std::string> compact_trace(int fd, uint64_t frames_begin, uint64_t frames_end, TraceMetadata metadata,
                                  int level);

}  // namespace traceloop::format::detail
