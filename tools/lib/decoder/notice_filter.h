#pragma once
// Which task notices (signals delivered, threads ended) tl-show shows: those
// of the threads, processes, names, containers and time range the event
// filters select. The syscall selection and --failed leave them alone, as
// strace shows signals and ends whatever -e trace= says; strace's
// -e signal= chooses which deliveries are shown.

#include <cstdint>
#include <optional>

#include "format/event.h"
#include "format/metadata.h"
#include "format/result.h"
#include "tools/lib/decoder/filter.h"

namespace traceloop::tools {

class NoticeFilter {
 public:
  static Result<NoticeFilter> create(const FilterOptions& options, const format::TraceMetadata& metadata);

  // Relative --since/--until count from the trace's first event, like the
  // event filter's: `first_event_ns` is that event's entry (or, in a trace
  // that starts with notices, the first notice's time). Only the first call counts.
  void set_origin_once(uint64_t first_event_ns);
  bool matches(const format::TaskNotice& notice);
  bool accepts_all() const { return threads_.accepts_all() && !signals_chosen_; }

 private:
  NoticeFilter(EventFilter threads, bool signals_chosen)
      : threads_(std::move(threads)), signals_chosen_(signals_chosen) {}
  EventFilter threads_;  // the event filter of the thread and time criteria (and -e signal=) alone
  bool signals_chosen_ = false;
  bool origin_set_ = false;
};

}  // namespace traceloop::tools
