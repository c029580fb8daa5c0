#include "tools/lib/analyses/grep.h"

#include <fmt/format.h>

#include <deque>
#include <thread>
#include <unordered_map>

#include "format/trace_reader.h"
#include "tools/lib/decoder/decode.h"
#include "tools/lib/decoder/fd_tracker.h"
#include "tools/lib/analyses/grep_line.h"
#include "tools/lib/analyses/grep_parallel.h"
#include "tools/lib/decoder/output.h"
#include "tools/lib/decoder/show.h"
#include "tools/lib/analyses/slice_writer.h"

namespace traceloop::tools {

namespace {

// Per thread, for -A/-B: the last events (for -B), the after-context still
// owed, and what was printed last (for the "--" group separator).
struct HeldEvent {
  uint64_t number = 0;
  format::OwnedEvent event;
  std::string text;  // with -y: its line, rendered when the fds it names were known
};
struct ThreadContext {
  std::deque<HeldEvent> before;
  size_t after_left = 0;
  uint64_t ordinal = 0;        // events of this thread seen
  uint64_t last_printed = 0;   // ordinal of the last one printed (0: none)
};

class FileGrep {
 public:
  FileGrep(const GrepOptions& options, GrepMatcher& matcher, OutputSink& sink, bool show_name, GrepHeader& header)
      : options_(options), matcher_(matcher), sink_(sink), show_name_(show_name), header_(header) {}

  // Returns the number of selected events.
  uint64_t run(const std::string& path, std::ostream& err) {
    auto reader = value_or_throw(format::TraceReader::open(path));
    const format::TraceMetadata& metadata = reader.metadata();
    DecodeOptions decode;
    decode.string_limit = options_.string_limit.value_or(default_string_limit(options_.render.format));
    decode.strings_in_hex = options_.strings_in_hex;
    // The fd tracker serves -y (the text) and -P (which calls on an fd of
    // the path match).
    std::unique_ptr<FdTracker> fds;
    if (options_.fd_paths != FdPaths::off || !options_.filter.paths.empty())
      fds = std::make_unique<FdTracker>(metadata);
    if (options_.fd_paths != FdPaths::off) {
      decode.fd_paths = fds.get();
      decode.fd_paths_detailed = options_.fd_paths == FdPaths::detailed;
    }
    decode.verbose = options_.no_abbrev;
    Decoder decoder(metadata, decode);
    RenderOptions render = options_.render;
    render.color = false;  // matching sees plain text; highlights are added after
    auto renderer = make_renderer(render, decoder, metadata);
    auto filter = value_or_throw(EventFilter::create(options_.filter, metadata, fds.get()));
    // The prefilter looks for the patterns in an event's own bytes, which
    // hold no fd path.
    matcher_.begin_file(decoder, options_.render.format != OutputFormat::json && decode.fd_paths == nullptr);
    std::optional<SliceWriter> slice;
    if (!options_.output_path.empty())
      slice.emplace(value_or_throw(SliceWriter::create(options_.output_path, metadata, {options_.strip_data})));
    renderer_ = renderer.get();
    name_ = path == "-" ? "(standard input)" : path;
    const bool printing = !options_.count && !options_.files_with_matches && !slice;
    const bool context = printing && (options_.before > 0 || options_.after > 0);

    uint64_t number = 0;
    uint64_t selected = 0;
    bool done = false;
    while (!done) {
      const format::DecodedBatch* batch = value_or_throw(reader.next_batch());
      if (batch == nullptr) break;
      progress::add_progress(options_.progress, batch->size());
      const auto losses = batch->losses();
      size_t loss_index = 0;
      const auto notices = batch->notices();
      size_t notice_index = 0;
      for (size_t i = 0; i < batch->size() && !done; ++i) {
        ++number;
        const format::Event event = batch->event(i);
        if (slice) {
          for (; notice_index < notices.size() && notices[notice_index].before_event <= i; ++notice_index)
            value_or_throw(slice->add_notice(notices[notice_index].notice));
        }
        if (fds) {
          for (; loss_index < losses.size() && losses[loss_index].before_event <= i; ++loss_index) fds->loss();
          fds->look_at(event);
        }
        if (!filter.accepts_all() && !filter.matches(event)) continue;
        line_.clear();
        bool rendered = false;
        bool matched;
        if (matcher_.matches_field()) {
          matched = matcher_.field_matches(event);
        } else if (!matcher_.line_may_match(event)) {
          matched = false;
        } else {
          renderer->event(line_, event);
          rendered = true;
          matched = matcher_.text_matches(without_newline(line_));
        }
        const bool select = matched != options_.invert;
        ThreadContext* thread = context ? &threads_[event.tid] : nullptr;
        if (thread != nullptr) thread->ordinal++;
        if (select) {
          ++selected;
          if (slice) value_or_throw(slice->add(event));
          if (options_.files_with_matches) done = true;
          if (printing) {
            if (thread != nullptr) {
              print_before(*thread);
              separator(*thread, thread->ordinal);
              thread->last_printed = thread->ordinal;
              thread->after_left = options_.after;
            }
            if (!rendered) renderer->event(line_, event);
            print(number, ':', line_, !options_.invert && !matcher_.matches_field());
          }
        } else if (thread != nullptr && thread->after_left > 0) {
          thread->after_left--;
          separator(*thread, thread->ordinal);
          thread->last_printed = thread->ordinal;
          if (!rendered) renderer->event(line_, event);
          print(number, '-', line_, false);
        } else if (thread != nullptr && options_.before > 0) {
          HeldEvent held{number, format::OwnedEvent::from(event), {}};
          if (decode.fd_paths) renderer->event(held.text, event);
          thread->before.push_back(std::move(held));
          if (thread->before.size() > options_.before) thread->before.pop_front();
        }
        if (printing && !sink_.maybe_flush()) done = true;
      }
      if (slice && !done) {
        for (; notice_index < notices.size(); ++notice_index)
          value_or_throw(slice->add_notice(notices[notice_index].notice));
      }
    }
    if (printing && header_printed_) renderer->footer(sink_.buffer());
    if (options_.count) {
      if (show_name_) sink_.buffer() += name_ + ":";
      fmt::format_to(std::back_inserter(sink_.buffer()), "{}\n", selected);
    }
    if (options_.files_with_matches && selected > 0) sink_.buffer() += name_ + "\n";
    if (slice) {
      if (done) {
        // Stopped early (-l): the process table comes with the trailer, so read on to the end.
        while (value_or_throw(reader.next_batch()) != nullptr) {
        }
      }
      value_or_throw(slice->finish(reader.processes()));
    }
    for (const auto& warning : reader.warnings()) err << "tl-grep: " << warning << '\n';
    return selected;
  }

 private:
  void separator(ThreadContext& thread, uint64_t ordinal) {
    if (any_printed_ && thread.last_printed + 1 != ordinal && thread.last_printed != ordinal)
      sink_.buffer() += options_.render.color ? "\x1b[36m--\x1b[0m\n" : "--\n";
  }

  void print_before(ThreadContext& thread) {
    const uint64_t first_ordinal = thread.ordinal - thread.before.size();
    uint64_t ordinal = first_ordinal;
    for (auto& held : thread.before) {
      if (ordinal > thread.last_printed) {
        separator(thread, ordinal);
        thread.last_printed = ordinal;
        context_line_.clear();
        if (held.text.empty())
          renderer_->event(context_line_, held.event.view());
        else
          context_line_ = held.text;
        print(held.number, '-', context_line_, false);
      }
      ++ordinal;
    }
    thread.before.clear();
  }

  void print(uint64_t number, char mark, std::string_view line, bool highlight) {
    std::string& out = sink_.buffer();
    header_printed_ = true;
    if (!header_.done) {
      header_.done = true;
      if (header_.wanted) renderer_->header(out);
    }
    const LinePrefix prefix{show_name_, name_, options_.event_numbers, options_.render.color};
    append_grep_line(out, prefix, number, mark, line, highlight ? &matcher_ : nullptr);
    any_printed_ = true;
  }

  const GrepOptions& options_;
  GrepMatcher& matcher_;
  OutputSink& sink_;
  bool show_name_;
  GrepHeader& header_;
  Renderer* renderer_ = nullptr;
  std::string name_;
  std::string line_;
  std::string context_line_;
  std::unordered_map<uint32_t, ThreadContext> threads_;
  bool header_printed_ = false;
  bool any_printed_ = false;
};

}  // namespace

int run_grep(const GrepOptions& options, std::ostream& out, std::ostream& err) {
  try {
    if (!options.output_path.empty() && options.paths.size() != 1)
      throw FatalError("-o writes the slice of one trace: give exactly one FILE");
    if (options.strip_data && options.output_path.empty()) throw FatalError("--no-data goes with -o OUT.tl");
    GrepMatcher matcher = value_or_throw(GrepMatcher::create(options.match));
    OutputSink sink(out);
    const bool show_name = options.with_file_name.value_or(options.paths.size() > 1);
    // The table header once, before the first line, and only over unprefixed lines it describes.
    GrepHeader header{options.render.header && !show_name && !options.event_numbers};
    uint64_t selected = 0;
    const unsigned threads = options.threads != 0 ? options.threads : std::thread::hardware_concurrency() >= 2 ? 2 : 1;
    for (const auto& path : options.paths) {
      if (threads > 1 && matcher.renders_every_event() && options.fd_paths == FdPaths::off &&
          options.filter.paths.empty() &&
          parallel_grep_possible(options, path)) {
        selected += parallel_grep_file(options, path, sink, show_name, header, err, threads);
      } else {
        FileGrep grep(options, matcher, sink, show_name, header);
        selected += grep.run(path, err);
      }
      if (!sink.flush() && sink.closed()) break;
    }
    progress::finish_progress(options.progress);
    if (sink.failed()) throw FatalError("cannot write the output");
    return selected > 0 ? 0 : 1;
  } catch (const FatalError& e) {
    progress::finish_progress(options.progress);
    err << "tl-grep: " << e.what() << '\n';
    return 2;
  }
}

}  // namespace traceloop::tools
