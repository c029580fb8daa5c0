#pragma once
// Where converted events go: a trace file (run) or an in-memory history (daemon).

#include "format/event.h"

namespace traceloop::recorder {

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void event(const format::Event& event) = 0;
  virtual void loss(const format::LossMarker& loss) = 0;
  // A signal delivered to a thread or a thread's end, in order with the
  // events (comm and siginfo are valid during the call only).
  virtual void notice(const format::TaskNotice& notice) = 0;
};

}  // namespace traceloop::recorder
