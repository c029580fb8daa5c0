#include "tools/lib/decoder/show.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "format/trace_reader.h"
#include "tools/lib/decoder/decode.h"
#include "tools/lib/decoder/fd_tracker.h"
#include "tools/lib/decoder/notice_filter.h"
#include "tools/lib/decoder/merge_traces.h"
#include "tools/lib/decoder/output.h"
#include "tools/lib/decoder/setup_hiding.h"
#include "tools/lib/decoder/trace_info.h"

namespace traceloop::tools {

size_t default_string_limit(OutputFormat format) {
  switch (format) {
    case OutputFormat::strace: return 32;
    case OutputFormat::table: return 64;
    case OutputFormat::json: return 0;
    case OutputFormat::perfetto:
    case OutputFormat::html: return 64;  // a timeline's details: as much as the table shows
  }
  return 32;
}

namespace {

int fail(std::ostream& err, std::string_view program, const std::string& message) {
  err << program << ": " << message << '\n';
  return 2;
}

// Renders one batch; false once the reader of the output went away. Without
// a setup to hide (kHiding false) this is the plain loop, with nothing added;
// without -y (fds null) neither is anything.
template <bool kHiding>
bool render_batch(const format::DecodedBatch& batch, EventFilter& filter, NoticeFilter& notice_filter,
                  Renderer& renderer, OutputSink& sink, SetupHider* hider, FdTracker* fds) {
  std::string& buf = sink.buffer();
  auto render_loss = [&](const format::LossMarker& loss) {
    // Every loss, shown or not: what the lost calls did to fds is unknown.
    if (fds != nullptr) fds->loss();
    if (!filter.matches_loss(loss)) return;
    if constexpr (kHiding)
      hider->loss(loss);
    else
      renderer.loss(buf, loss);
  };
  const auto notices = batch.notices();
  auto render_notice = [&](const format::TaskNotice& notice) {
    notice_filter.set_origin_once(batch.size() > 0 ? batch.enter_times()[0] : notice.at_ns);
    if (!notice_filter.matches(notice)) return;
    if constexpr (kHiding)
      hider->notice(notice);
    else
      renderer.notice(buf, notice);
  };
  const auto losses = batch.losses();
  size_t loss_index = 0, notice_index = 0;
  const size_t n = batch.size();
  for (size_t i = 0; i < n; ++i) {
    while (loss_index < losses.size() && losses[loss_index].before_event <= i) render_loss(losses[loss_index++].loss);
    while (notice_index < notices.size() && notices[notice_index].before_event <= i)
      render_notice(notices[notice_index++].notice);
    const format::Event event = batch.event(i);
    // Every event, before it is matched or rendered: the fds it names are
    // looked up as they were just before it.
    if (fds != nullptr) fds->look_at(event);
    if constexpr (kHiding) {
      hider->observe(event);
      if (filter.matches(event)) hider->event(event);
    } else {
      if (filter.matches(event)) renderer.event(buf, event);
    }
    if (!sink.maybe_flush()) return false;
  }
  for (; loss_index < losses.size(); ++loss_index) render_loss(losses[loss_index].loss);
  for (; notice_index < notices.size(); ++notice_index) render_notice(notices[notice_index].notice);
  return true;
}

// The merged trace of several files, removed when done with.
class MergedFile {
 public:
  explicit MergedFile(std::filesystem::path path) : path_(std::move(path)) {}
  MergedFile(const MergedFile&) = delete;
  MergedFile& operator=(const MergedFile&) = delete;
  ~MergedFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace

int run_show(const ShowOptions& options, std::ostream& out, std::ostream& err) {
  if (options.info && !options.more_paths.empty()) return fail(err, options.program, "--info takes one file");
  if (options.info) return run_info(options.path, options.render.format, options.program, out, err);
  std::optional<MergedFile> merged;
  if (!options.more_paths.empty()) {
    // Merged through a temporary file: the reader streams it like any
    // trace, with memory bounded by a frame per input while merging.
    std::vector<std::filesystem::path> inputs{options.path};
    inputs.insert(inputs.end(), options.more_paths.begin(), options.more_paths.end());
    std::string name = (std::filesystem::temp_directory_path() / "tl-show-merged-XXXXXX").string();
    const int fd = ::mkstemp(name.data());
    if (fd < 0) return fail(err, options.program, fmt::format("{}: {}", name, std::strerror(errno)));
    ::close(fd);
    merged.emplace(name);
    if (auto r = merge_traces(inputs, merged->path()); !r) return fail(err, options.program, r.error().message);
  }
  try {
    auto opened = format::TraceReader::open(merged ? merged->path().string() : options.path);
    if (!opened) return fail(err, options.program, opened.error().message);
    auto& reader = opened.value();
    const auto& metadata = reader.metadata();

    DecodeOptions decode_options;
    decode_options.string_limit = options.string_limit.value_or(default_string_limit(options.render.format));
    decode_options.strings_in_hex = options.strings_in_hex;
    // The fd tracker serves -y (the text) and -P (which calls on an fd of
    // the path match).
    std::unique_ptr<FdTracker> fds;
    if (options.fd_paths != FdPaths::off || !options.filter.paths.empty()) fds = std::make_unique<FdTracker>(metadata);
    if (options.fd_paths != FdPaths::off) {
      decode_options.fd_paths = fds.get();
      decode_options.fd_paths_detailed = options.fd_paths == FdPaths::detailed;
    }
    decode_options.verbose = options.no_abbrev;
    const Decoder decoder(metadata, decode_options);
    auto filter_result = EventFilter::create(options.filter, metadata, fds.get());
    if (!filter_result) return fail(err, options.program, filter_result.error().message);
    EventFilter& filter = filter_result.value();
    auto notice_filter_result = NoticeFilter::create(options.filter, metadata);
    if (!notice_filter_result) return fail(err, options.program, notice_filter_result.error().message);
    NoticeFilter& notice_filter = notice_filter_result.value();
    auto renderer = make_renderer(options.render, decoder, metadata);

    OutputSink sink(out);
    renderer->header(sink.buffer());
    const auto hider =
        options.show_setup ? nullptr : SetupHider::create(metadata, *renderer, sink.buffer(), options.setup_hold_bytes);
    while (true) {
      auto next = reader.next_batch();
      if (!next) {
        if (hider) hider->finish();  // what was read before the damage, setup included
        sink.flush();
        progress::finish_progress(options.progress);
        return fail(err, options.program, next.error().message);
      }
      const format::DecodedBatch* batch = next.value();
      if (batch == nullptr) break;
      progress::add_progress(options.progress, batch->size());
      const bool hiding = hider && hider->pending();
      if (!(hiding ? render_batch<true>(*batch, filter, notice_filter, *renderer, sink, hider.get(), fds.get())
                   : render_batch<false>(*batch, filter, notice_filter, *renderer, sink, nullptr, fds.get())))
        break;
      // Past --until nothing more is shown, but a setup still waiting needs
      // the rest: whether its handover comes decides if it is shown.
      const size_t n = batch->size();
      if (n > 0 && filter.past_end(batch->event(n - 1).enter_ns) && !(hider && hider->pending())) break;
    }
    progress::finish_progress(options.progress);
    if (!sink.closed()) {
      if (hider) hider->finish();
      renderer->processes(reader.processes());
      renderer->footer(sink.buffer());
      sink.flush();
    }
    if (sink.failed()) return fail(err, options.program, "error writing the output");
    for (const auto& warning : reader.warnings()) err << options.program << ": warning: " << warning << '\n';
    return 0;
  } catch (const FatalError& e) {
    progress::finish_progress(options.progress);
    return fail(err, options.program, e.what());
  }
}

}  // namespace traceloop::tools
