#pragma once
// What the fuzz targets share: a fuzz input as a file (the readers under test
// open paths), and the unpacked form of a trace (frames with their Cap'n
// Proto messages uncompressed) that lets mutations reach the decoders instead
// of stopping at zstd's checksum.

#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "format/frame.h"
#include "format/frame_codec.h"
#include "format/zstd_codec.h"

namespace traceloop::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A directory of the process's own, removed at exit: for readers that look
// for files by name below a root.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "traceloop-fuzz-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The input as a file of that directory (readers open paths, some refusing
// symlinks such as /proc/self/fd/N), rewritten for each input.
class InputFile {
 public:
  explicit InputFile(const char* name) : path_(dir_.path() / name) {}
  const std::filesystem::path& write(std::string_view bytes) const;
  const std::filesystem::path& path() const { return path_; }

 private:
  ScratchDir dir_;
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline const std::filesystem::path& InputFile::write(std::string_view bytes) const {
  write_file(path_, bytes);
  return path_;
}

// Unpacked trace: the 16-byte preamble, then frames whose header is the
// file's (type, codec, sizes, event count) but whose payload is the
// uncompressed message, `compressed size` bytes of it. pack_trace()
// compresses each payload with zstd and fixes the sizes: a file the reader
// accepts as far as the messages are sound. unpack_trace() is its inverse for
// real files (seeds); frames that do not decompress are dropped.
inline std::string pack_trace(std::string_view unpacked) {
  if (unpacked.size() < format::kPreambleBytes) return std::string(unpacked);
  std::string file(unpacked.substr(0, format::kPreambleBytes));
  format::ZstdCompressor compressor(1);
  format::EncodedFrame frame;
  for (size_t at = format::kPreambleBytes; at + format::kFrameHeaderBytes <= unpacked.size();) {
    const auto h = format::detail::parse_frame_header(unpacked.data() + at);
    const size_t size = std::min<size_t>(h.compressed_size, unpacked.size() - at - format::kFrameHeaderBytes);
    const auto message = unpacked.substr(at + format::kFrameHeaderBytes, size);
    format::detail::encode_raw_frame(static_cast<format::FrameType>(h.type), message, h.event_count, compressor,
                                     frame);
    file += frame.bytes;
    at += format::kFrameHeaderBytes + size;
  }
  return file;
}

inline std::string unpack_trace(std::string_view file) {
  if (file.size() < format::kPreambleBytes) return std::string(file);
  std::string unpacked(file.substr(0, format::kPreambleBytes));
  format::detail::FrameDecompressor decompressor;
  format::detail::MessageBuffer words;
  for (size_t at = format::kPreambleBytes; at + format::kFrameHeaderBytes <= file.size();) {
    const auto h = format::detail::parse_frame_header(file.data() + at);
    const size_t size = format::kFrameHeaderBytes + h.compressed_size;
    if (size > file.size() - at) break;
    auto message = format::detail::decompress_frame(file.substr(at, size), decompressor, words);
    at += size;
    if (!message) continue;
    char header[format::kFrameHeaderBytes];
    format::detail::write_frame_header(header, static_cast<format::FrameType>(h.type), format::FrameCodec::zstd,
                                       static_cast<uint32_t>(message->size()), static_cast<uint32_t>(message->size()),
                                       h.event_count);
    unpacked.append(header, sizeof header);
    unpacked += *message;
  }
  return unpacked;
}

}  // namespace traceloop::fuzz
