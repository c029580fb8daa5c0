#include "tools/lib/analyses/stats.h"

#include <memory>

#include "format/trace_reader.h"
#include "tools/lib/decoder/fd_tracker.h"
#include "tools/lib/decoder/notice_filter.h"

namespace traceloop::tools {

namespace {

void accumulate_file(StatsAccumulator& stats, const std::string& path, const FilterOptions& filter_options,
                     std::ostream& err, progress::ProgressSink* progress) {
  auto reader = value_or_throw(format::TraceReader::open(path));
  stats.begin_file(reader.metadata());
  // -P also matches calls on an fd of the path: the fd tracker knows them.
  std::unique_ptr<FdTracker> fds;
  if (!filter_options.paths.empty()) fds = std::make_unique<FdTracker>(reader.metadata());
  auto filter = value_or_throw(EventFilter::create(filter_options, reader.metadata(), fds.get()));
  auto notice_filter = value_or_throw(NoticeFilter::create(filter_options, reader.metadata()));
  while (const format::DecodedBatch* batch = value_or_throw(reader.next_batch())) {
    stats.add_batch(*batch, &filter, fds.get());
    stats.add_notices(*batch, &notice_filter);
    progress::add_progress(progress, batch->size());
  }
  stats.end_file(reader.counters());
  for (const auto& warning : reader.warnings()) err << "tl-stats: " << warning << '\n';
}

}  // namespace

int run_stats(const StatsOptions& options, std::ostream& out, std::ostream& err) {
  try {
    StatsAccumulator stats(options.histograms);
    for (const auto& path : options.paths) accumulate_file(stats, path, options.filter, err, options.progress);
    progress::finish_progress(options.progress);  // gone before the report
    if (options.format == StatsFormat::json) {
      write_stats_json(out, stats, options);
    } else {
      write_stats_text(out, stats, options);
    }
    out.flush();
    return 0;
  } catch (const FatalError& e) {
    progress::finish_progress(options.progress);
    err << "tl-stats: " << e.what() << '\n';
    return 2;
  }
}

}  // namespace traceloop::tools
