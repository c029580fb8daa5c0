// libFuzzer target: the frame reader. The input is taken twice: as a whole
// frame (header + compressed payload: header checks, decompression bombs,
// checksums) and as the decompressed EventBatch message itself, decoded and
// read event by event the way every tool reads it (also as a batch whose
// captures frames a cut file lost).

#include <capnp/common.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "format/event_batch.h"
#include "format/frame_codec.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace traceloop;

// Reads every field of every event so ASan checks each byte the views cover.
uint64_t read_all(const format::DecodedBatch& batch) {
  uint64_t sum = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const format::Event e = batch.event(i);
    sum += e.enter_ns + e.exit_ns + e.pid + e.tid + e.cpu + e.nr + e.container + e.arg_count +
           static_cast<uint64_t>(e.ret) + static_cast<uint8_t>(e.state);
    for (uint64_t a : e.args) sum += a;
    for (char c : e.comm) sum += static_cast<uint8_t>(c);
    for (const auto& capture : e.captures) {
      sum += capture.arg + capture.size;
      for (char c : capture.bytes) sum += static_cast<uint8_t>(c);
    }
    sum += batch.summary(i).nr + batch.container(i);
  }
  for (const auto& loss : batch.losses()) sum += loss.before_event + loss.loss.lost + loss.loss.overwritten;
  return sum;
}

void decode(std::string_view message) {
  format::DecodedBatch batch;
  if (format::decode_event_batch(message, batch, format::ReaderLimits{}).ok()) {
    volatile uint64_t sink = read_all(batch);
    (void)sink;
  }
  // As the events frame of a compacted trace cut right after it, whose
  // captures frames are all missing (columnEncoding 4).
  if (format::decode_event_batch(message, batch, format::ReaderLimits{}, {{}, true}).ok()) {
    volatile uint64_t sink = read_all(batch);
    (void)sink;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = fuzz::as_text(data, size);

  format::detail::FrameDecompressor decompressor;
  format::detail::MessageBuffer frame_words;
  if (auto message = format::detail::decompress_frame(input, decompressor, frame_words); message.ok())
    decode(*message);

  // Cap'n Proto reads words: the message gets an aligned copy, as the reader's
  // decompression buffer is.
  format::detail::MessageBuffer words;
  words.resize_for_overwrite((size + sizeof(capnp::word) - 1) / sizeof(capnp::word));
  if (size > 0) std::memcpy(words.data(), data, size);
  decode(std::string_view(reinterpret_cast<const char*>(words.data()), size));
  return 0;
}
