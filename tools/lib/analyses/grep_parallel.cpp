#include "tools/lib/analyses/grep_parallel.h"

#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "format/trace_reader.h"
#include "tools/lib/decoder/decode.h"
#include "tools/lib/analyses/grep_line.h"
#include "tools/lib/decoder/show.h"

namespace traceloop::tools {

namespace {

// The output of one frame.
struct Chunk {
  std::string text;
  uint64_t selected = 0;
};

// A bounded queue from one worker to the writer; memory stays a few frames' worth of text.
class ChunkQueue {
 public:
  // False when the writer stopped listening.
  bool push(Chunk chunk) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return chunks_.size() < kCapacity || stopped_; });
    if (stopped_) return false;
    chunks_.push_back(std::move(chunk));
    changed_.notify_all();
    return true;
  }
  // nullopt when the worker is done (or failed: see rethrow()).
  std::optional<Chunk> pop() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !chunks_.empty() || finished_; });
    if (chunks_.empty()) return std::nullopt;
    Chunk chunk = std::move(chunks_.front());
    chunks_.pop_front();
    changed_.notify_all();
    return chunk;
  }
  void finish(std::exception_ptr error, std::vector<std::string> warnings) {
    std::lock_guard lock(mutex_);
    finished_ = true;
    error_ = std::move(error);
    warnings_ = std::move(warnings);
    changed_.notify_all();
  }
  void stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    changed_.notify_all();
  }
  std::exception_ptr error() {
    std::lock_guard lock(mutex_);
    return error_;
  }
  std::vector<std::string> warnings() {
    std::lock_guard lock(mutex_);
    return warnings_;
  }

 private:
  static constexpr size_t kCapacity = 4;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Chunk> chunks_;
  bool finished_ = false;
  bool stopped_ = false;
  std::exception_ptr error_;
  std::vector<std::string> warnings_;
};

void work(const GrepOptions& options, const std::string& path, bool show_name, unsigned index, unsigned workers,
          ChunkQueue& queue) {
  std::vector<std::string> warnings;
  try {
    auto reader = value_or_throw(format::TraceReader::open(path));
    const format::TraceMetadata& metadata = reader.metadata();
    DecodeOptions decode;
    decode.string_limit = options.string_limit.value_or(default_string_limit(options.render.format));
    decode.strings_in_hex = options.strings_in_hex;
    decode.verbose = options.no_abbrev;
    Decoder decoder(metadata, decode);
    RenderOptions render = options.render;
    render.color = false;
    auto renderer = make_renderer(render, decoder, metadata);
    auto filter = value_or_throw(EventFilter::create(options.filter, metadata));
    GrepMatcher matcher = value_or_throw(GrepMatcher::create(options.match));
    matcher.begin_file(decoder, options.render.format != OutputFormat::json);
    const LinePrefix prefix{show_name, path, options.event_numbers, options.render.color};
    const bool highlight = options.render.color && !options.invert && !matcher.matches_field();
    std::string line;
    // This worker's events frames only: the others are read past, not
    // decompressed or decoded.
    reader.share_events_frames(workers, index);
    for (;;) {
      const format::DecodedBatch* batch = value_or_throw(reader.next_batch());
      if (batch == nullptr) break;
      progress::add_progress(options.progress, batch->size());
      uint64_t number = reader.events_before_batch();
      Chunk chunk;
      for (size_t i = 0; i < batch->size(); ++i) {
        ++number;
        const format::Event event = batch->event(i);
        if (!filter.accepts_all() && !filter.matches(event)) continue;
        line.clear();
        bool rendered = false;
        bool matched;
        if (matcher.matches_field()) {
          matched = matcher.field_matches(event);
        } else if (!matcher.line_may_match(event)) {
          matched = false;
        } else {
          renderer->event(line, event);
          rendered = true;
          matched = matcher.text_matches(without_newline(line));
        }
        if (matched == options.invert) continue;
        chunk.selected++;
        if (options.count) continue;
        if (!rendered) renderer->event(line, event);
        append_grep_line(chunk.text, prefix, number, ':', line, highlight ? &matcher : nullptr);
      }
      if (!queue.push(std::move(chunk))) break;
    }
    warnings = reader.warnings();
    queue.finish(nullptr, std::move(warnings));
  } catch (...) {
    queue.finish(std::current_exception(), {});
  }
}

}  // namespace

bool parallel_grep_possible(const GrepOptions& options, const std::string& path) {
  return path != "-" && options.output_path.empty() && !options.files_with_matches && options.before == 0 &&
         options.after == 0 && options.filter.since.empty() && options.filter.until.empty() &&
         options.render.timestamps != TimestampMode::relative;
}

uint64_t parallel_grep_file(const GrepOptions& options, const std::string& path, OutputSink& sink, bool show_name,
                            GrepHeader& header, std::ostream& err, unsigned workers) {
  // The writer's own reader: metadata for the header and footer, and an early clear error.
  auto reader = value_or_throw(format::TraceReader::open(path));
  Decoder decoder(reader.metadata());
  RenderOptions render = options.render;
  render.color = false;
  auto renderer = make_renderer(render, decoder, reader.metadata());

  std::vector<ChunkQueue> queues(workers);
  std::vector<std::thread> threads;
  for (unsigned k = 0; k < workers; ++k)
    threads.emplace_back(work, std::cref(options), std::cref(path), show_name, k, workers, std::ref(queues[k]));

  uint64_t selected = 0;
  bool header_printed = false;
  std::exception_ptr error;
  for (size_t frame = 0;; ++frame) {
    ChunkQueue& queue = queues[frame % workers];
    std::optional<Chunk> chunk = queue.pop();
    if (!chunk) {
      error = queue.error();
      break;
    }
    selected += chunk->selected;
    if (chunk->text.empty()) continue;
    header_printed = true;
    if (!header.done) {
      header.done = true;
      if (header.wanted) renderer->header(sink.buffer());
    }
    sink.buffer() += chunk->text;
    if (!sink.maybe_flush()) break;
  }
  for (auto& queue : queues) queue.stop();
  for (auto& thread : threads) thread.join();
  for (auto& queue : queues)
    if (!error) error = queue.error();
  if (error) std::rethrow_exception(error);
  if (header_printed) renderer->footer(sink.buffer());
  if (options.count) {
    if (show_name) sink.buffer() += path + ":";
    fmt::format_to(std::back_inserter(sink.buffer()), "{}\n", selected);
  }
  for (const auto& warning : queues[0].warnings()) err << "tl-grep: " << warning << '\n';
  return selected;
}

}  // namespace traceloop::tools
