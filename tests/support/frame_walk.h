#pragma once
// A trace file's frames found by walking their headers: an oracle that shares
// no code with the reader's loop, for tests that cut, corrupt or inspect
// frames (which codecs compaction wrote, where the 90th events frame is).

#include <cstdint>
#include <map>
#include <set>
#include <string_view>
#include <vector>

#include "format/frame.h"
#include "format/frame_codec.h"

namespace traceloop::testing {

struct FrameAt {
  size_t offset;
  format::detail::FrameHeader header;
};

inline std::vector<FrameAt> frames_of(std::string_view file) {
  std::vector<FrameAt> frames;
  for (size_t at = format::kPreambleBytes; at + format::kFrameHeaderBytes <= file.size();) {
    const auto h = format::detail::parse_frame_header(file.data() + at);
    frames.push_back({at, h});
    at += format::kFrameHeaderBytes + h.compressed_size;
  }
  return frames;
}

// Which codecs the frames use, by frame type.
inline std::map<format::FrameType, std::set<format::FrameCodec>> frame_codecs(std::string_view file) {
  std::map<format::FrameType, std::set<format::FrameCodec>> by_type;
  for (const FrameAt& f : frames_of(file))
    by_type[static_cast<format::FrameType>(f.header.type)].insert(static_cast<format::FrameCodec>(f.header.codec));
  return by_type;
}

}  // namespace traceloop::testing
