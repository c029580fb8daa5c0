#include "tools/lib/show.h"

#include <fmt/format.h>

#include "format/trace_reader.h"
#include "tools/lib/decode.h"
#include "tools/lib/output.h"

namespace traceloop::tools {

size_t default_string_limit(OutputFormat format) {
  switch (format) {
    case OutputFormat::strace: return 32;
    case OutputFormat::table: return 64;
    case OutputFormat::json: return 0;
  }
  return 32;
}

namespace {

int fail(std::ostream& err, const std::string& message) {
  err << "tl-show: " << message << '\n';
  return 2;
}

}  // namespace

int run_show(const ShowOptions& options, std::ostream& out, std::ostream& err) {
  try {
    auto opened = format::TraceReader::open(options.path);
    if (!opened) return fail(err, opened.error().message);
    auto& reader = opened.value();
    const auto& metadata = reader.metadata();

    DecodeOptions decode_options;
    decode_options.string_limit = options.string_limit.value_or(default_string_limit(options.render.format));
    const Decoder decoder(metadata, decode_options);
    auto filter_result = EventFilter::create(options.filter, metadata);
    if (!filter_result) return fail(err, filter_result.error().message);
    EventFilter& filter = filter_result.value();
    auto renderer = make_renderer(options.render, decoder, metadata);

    OutputSink sink(out);
    std::string& buf = sink.buffer();
    renderer->header(buf);
    bool stopped = false;
    while (!stopped) {
      auto next = reader.next_batch();
      if (!next) {
        sink.flush();
        return fail(err, next.error().message);
      }
      const format::DecodedBatch* batch = next.value();
      if (batch == nullptr) break;
      const auto losses = batch->losses();
      size_t loss_index = 0;
      const size_t n = batch->size();
      for (size_t i = 0; i < n; ++i) {
        while (loss_index < losses.size() && losses[loss_index].before_event <= i) {
          if (filter.matches_loss(losses[loss_index].loss)) renderer->loss(buf, losses[loss_index].loss);
          ++loss_index;
        }
        const format::Event event = batch->event(i);
        if (filter.matches(event)) renderer->event(buf, event);
        if (!sink.maybe_flush()) {
          stopped = true;
          break;
        }
      }
      if (stopped) break;
      for (; loss_index < losses.size(); ++loss_index)
        if (filter.matches_loss(losses[loss_index].loss)) renderer->loss(buf, losses[loss_index].loss);
      if (n > 0 && filter.past_end(batch->event(n - 1).enter_ns)) break;
    }
    if (!sink.closed()) {
      renderer->footer(buf);
      sink.flush();
    }
    if (sink.failed()) return fail(err, "error writing the output");
    for (const auto& warning : reader.warnings()) err << "tl-show: warning: " << warning << '\n';
    return 0;
  } catch (const FatalError& e) {
    return fail(err, e.what());
  }
}

}  // namespace traceloop::tools
