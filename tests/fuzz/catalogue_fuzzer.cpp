// libFuzzer target: the catalogue loader. A trace's header message carries
// the syscall catalogue the file decodes with (names, parameter kinds,
// length arguments, structure sizes); the input is that message,
// uncompressed. What loads must then be usable: every syscall looked up by
// number and by name, and events of every syscall decoded with it.

#include <capnp/serialize.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "format/frame.h"
#include "format/frame_codec.h"
#include "format/schema_convert.h"
#include "tests/fuzz/fuzz_input.h"
#include "tools/lib/decoder/decode.h"
#include "trace.capnp.h"

namespace {

using namespace traceloop;

void use(const format::TraceMetadata& metadata) {
  const format::Catalogue& catalogue = metadata.catalogue;
  tools::Decoder decoder(metadata);
  // Arguments that point nowhere and captures with bytes of every kind.
  static const char kBytes[64] = "/etc/passwd\0\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b";
  std::vector<format::CaptureView> captures;
  for (uint8_t arg = 0; arg < 6; ++arg) captures.push_back({arg, 48, std::string_view(kBytes, 40)});
  std::string out;
  for (const format::SyscallSpec& spec : catalogue.syscalls()) {
    if (catalogue.find(spec.nr) == nullptr || catalogue.find(spec.name) == nullptr) __builtin_trap();
    format::Event e;
    e.nr = spec.nr;
    e.ret = 40;
    e.args = {3, 0x1000, 40, 2, 1, 0};
    e.captures = captures;
    out.clear();
    decoder.append_args(out, e, tools::ArgStyle::strace);
    decoder.append_args(out, e, tools::ArgStyle::table);
    decoder.append_return(out, e);
    e.ret = -2;
    decoder.append_return(out, e);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  format::detail::MessageBuffer words;
  words.resize_for_overwrite(size / sizeof(capnp::word));
  if (words.size() > 0) std::memcpy(words.data(), data, words.size() * sizeof(capnp::word));
  const format::ReaderLimits limits;
  capnp::ReaderOptions options;
  options.traversalLimitInWords = limits.traversal_limit_words;
  options.nestingLimit = limits.nesting_limit;
  try {
    capnp::FlatArrayMessageReader reader(kj::ArrayPtr<const capnp::word>(words.data(), words.size()), options);
    auto loaded = format::detail::from_schema(reader.getRoot<schema::Header>());
    if (loaded.ok()) use(*loaded);
  } catch (const kj::Exception&) {
    // Cap'n Proto refusing hostile bytes is the reader's normal way out
    // (TraceReader turns it into "corrupt header").
  }
  return 0;
}
