#include "tools/lib/decoder/notice_filter.h"

namespace traceloop::tools {

Result<NoticeFilter> NoticeFilter::create(const FilterOptions& options, const format::TraceMetadata& metadata) {
  // Only the criteria of a thread and a time: any criterion of a call
  // (syscall, outcome) stays at its default, which lets everything through.
  FilterOptions threads;
  threads.pids = options.pids;
  threads.tids = options.tids;
  threads.comms = options.comms;
  threads.since = options.since;
  threads.until = options.until;
  threads.containers = options.containers;
  // -e signal= picks which deliveries are shown; it leaves calls alone.
  bool signals_chosen = false;
  for (const auto& q : options.qualifiers)
    if (q.starts_with("signal=")) {
      threads.qualifiers.push_back(q);
      signals_chosen = true;
    }
  auto filter = EventFilter::create(threads, metadata);
  if (!filter) return filter.error();
  return NoticeFilter(std::move(filter).value(), signals_chosen);
}

void NoticeFilter::set_origin_once(uint64_t first_event_ns) {
  if (origin_set_) return;
  origin_set_ = true;
  threads_.set_origin(first_event_ns);
}

bool NoticeFilter::matches(const format::TaskNotice& n) {
  if (signals_chosen_ && n.kind == format::TaskNotice::Kind::signal && !threads_.matches_signal(n.signo)) return false;
  if (threads_.accepts_all()) return true;
  // The event filter judges a call by its thread, name, container and entry
  // time: a notice stands in as a call of its thread at its time.
  format::Event as_call;
  as_call.enter_ns = n.at_ns;
  as_call.pid = n.pid;
  as_call.tid = n.tid;
  as_call.cpu = n.cpu;
  as_call.container = n.container;
  as_call.comm = n.comm;
  as_call.state = format::CallState::returned;
  return threads_.matches(as_call);
}

}  // namespace traceloop::tools
