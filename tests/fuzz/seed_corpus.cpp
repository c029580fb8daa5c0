// seed_corpus CORPUS_DIR TRACE...: seeds of the format fuzzers from real
// traces, written below CORPUS_DIR (tests/fuzz/corpus):
//   trace_fuzzer/NAME.tl        the file as it is (form byte 0)
//   trace_fuzzer/NAME.unpacked  its frames decompressed (form byte 1, fuzz_input.h)
//   frame_fuzzer/NAME.N.frame   the first events frames as they are on disk
//   frame_fuzzer/NAME.N.batch   the same, decompressed
//   catalogue_fuzzer/NAME.header  the decompressed header message

#include <cstdio>
#include <fstream>
#include <iterator>

#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace traceloop;
namespace fs = std::filesystem;

void put(const fs::path& path, std::string_view bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: seed_corpus CORPUS_DIR TRACE...\n");
    return 2;
  }
  const fs::path corpus = argv[1];
  for (int a = 2; a < argc; ++a) {
    const fs::path trace = argv[a];
    std::ifstream in(trace, std::ios::binary);
    const std::string file((std::istreambuf_iterator<char>(in)), {});
    if (file.size() < format::kPreambleBytes) {
      std::fprintf(stderr, "seed_corpus: %s: not a trace\n", argv[a]);
      return 1;
    }
    const std::string name = trace.stem().string();
    put(corpus / "trace_fuzzer" / (name + ".tl"), std::string(1, '\0') + file);
    put(corpus / "trace_fuzzer" / (name + ".unpacked"), std::string(1, '\1') + fuzz::unpack_trace(file));

    format::detail::FrameDecompressor decompressor;
    format::detail::MessageBuffer words;
    int events_frames = 0;
    for (size_t at = format::kPreambleBytes; at + format::kFrameHeaderBytes <= file.size();) {
      const auto h = format::detail::parse_frame_header(file.data() + at);
      const size_t size = format::kFrameHeaderBytes + h.compressed_size;
      if (size > file.size() - at) break;
      const std::string_view frame = std::string_view(file).substr(at, size);
      at += size;
      auto message = format::detail::decompress_frame(frame, decompressor, words);
      if (!message) continue;
      if (h.type == static_cast<uint8_t>(format::FrameType::header)) {
        put(corpus / "catalogue_fuzzer" / (name + ".header"), *message);
      } else if (h.type == static_cast<uint8_t>(format::FrameType::events) && events_frames < 2) {
        const std::string stem = name + "." + std::to_string(events_frames++);
        put(corpus / "frame_fuzzer" / (stem + ".frame"), frame);
        put(corpus / "frame_fuzzer" / (stem + ".batch"), *message);
      }
    }
  }
  return 0;
}
