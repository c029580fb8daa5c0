#pragma once
// Which codecs a trace file's frames use, by frame type: for tests of when
// frames are written in LZMA2 (compaction) or zstd (streaming).

#include <cstdint>
#include <map>
#include <set>
#include <string_view>

#include "format/frame.h"
#include "format/frame_codec.h"

namespace traceloop::testing {

inline std::map<format::FrameType, std::set<format::FrameCodec>> frame_codecs(std::string_view file) {
  std::map<format::FrameType, std::set<format::FrameCodec>> by_type;
  for (size_t at = format::kPreambleBytes; at + format::kFrameHeaderBytes <= file.size();) {
    const auto h = format::detail::parse_frame_header(file.data() + at);
    by_type[static_cast<format::FrameType>(h.type)].insert(static_cast<format::FrameCodec>(h.codec));
    at += format::kFrameHeaderBytes + h.compressed_size;
  }
  return by_type;
}

}  // namespace traceloop::testing
