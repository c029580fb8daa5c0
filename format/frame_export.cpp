#include "format/frame_export.h"

#include <fstream>
#include <string>

#include "format/frame_codec.h"

namespace traceloop::format {

Result<ExportedFrames> export_zstd_frames(const std::filesystem::path& trace, const std::filesystem::path& zst) {
  std::ifstream in(trace, std::ios::binary);
  if (!in) return Error{trace.string() + ": cannot open"};
  std::ofstream out(zst, std::ios::binary | std::ios::trunc);
  if (!out) return Error{zst.string() + ": cannot create"};
  in.seekg(static_cast<std::streamoff>(kPreambleBytes));
  ExportedFrames totals;
  std::string buffer;
  char header[kFrameHeaderBytes];
  while (in.read(header, sizeof(header))) {
    const detail::FrameHeader h = detail::parse_frame_header(header);
    if (h.compressed_size > kMaxFrameCompressedBytes) return Error{trace.string() + ": corrupt frame"};
    // A compacted trace's frames are LZMA2: `zstd -dc` would not read them.
    if (h.codec != static_cast<uint8_t>(FrameCodec::zstd))
      return Error{trace.string() + ": has frames that are not zstd (a compacted trace)"};
    buffer.resize(h.compressed_size);
    if (!in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()))) break;
    out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    totals.compressed_bytes += h.compressed_size;
    totals.raw_bytes += h.raw_size;
  }
  if (!out) return Error{zst.string() + ": write failed"};
  return totals;
}

}  // namespace traceloop::format
