// libFuzzer target: a whole trace, opened, read to the end and rendered in
// every output format, as tl-show does. The first byte chooses the form of
// the rest: 0, a .tl file as it is on disk (framing, cut files, codecs,
// checksums); otherwise an unpacked trace (fuzz_input.h) that is compressed
// here, so mutations of the header, catalogue, process table, events and
// trailer reach their decoders and the renderers.

#include <cstdint>
#include <sstream>

#include "tests/fuzz/fuzz_input.h"
#include "tools/lib/decoder/show.h"

namespace {

using namespace traceloop;

void show(const std::filesystem::path& path, tools::OutputFormat format, bool setup) {
  tools::ShowOptions options;
  options.path = path.string();
  options.render.format = format;
  options.render.durations = true;
  options.render.timestamps = tools::TimestampMode::wall_micros;
  options.show_setup = setup;
  std::ostringstream out, err;
  tools::run_show(options, out, err);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest = fuzz::as_text(data + 1, size - 1);
  static const fuzz::InputFile input("input.tl");
  const auto& path = input.write(data[0] == 0 ? std::string(rest) : fuzz::pack_trace(rest));
  show(path, tools::OutputFormat::table, false);
  show(path, tools::OutputFormat::strace, true);
  show(path, tools::OutputFormat::json, false);
  return 0;
}
