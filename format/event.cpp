#include "format/event.h"

namespace traceloop::format {

OwnedEvent OwnedEvent::from(const Event& e) {
  OwnedEvent owned;
  owned.fields = e;
  owned.comm.assign(e.comm);
  owned.captures.reserve(e.captures.size());
  for (const auto& c : e.captures) owned.captures.push_back({c.arg, c.size, std::string(c.bytes)});
  owned.fields.comm = {};
  owned.fields.captures = {};
  return owned;
}

Event OwnedEvent::view() const {
  Event e = fields;
  e.comm = comm;
  capture_views_.clear();
  for (const auto& c : captures) capture_views_.push_back({c.arg, c.size, c.bytes});
  e.captures = capture_views_;
  return e;
}

OwnedTaskNotice OwnedTaskNotice::from(const TaskNotice& n) {
  OwnedTaskNotice owned;
  owned.fields = n;
  owned.comm.assign(n.comm);
  owned.siginfo.assign(n.siginfo);
  owned.fields.comm = {};
  owned.fields.siginfo = {};
  return owned;
}

TaskNotice OwnedTaskNotice::view() const {
  TaskNotice n = fields;
  n.comm = comm;
  n.siginfo = siginfo;
  return n;
}

}  // namespace traceloop::format
