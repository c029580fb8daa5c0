#include "recorder/event_converter.h"

#include <algorithm>
#include <cstring>

namespace traceloop::recorder {

namespace {

template <typename T>
bool read_struct(std::span<const uint8_t> bytes, T& out) {
  if (bytes.size() < sizeof(T)) return false;
  std::memcpy(&out, bytes.data(), sizeof(T));
  return true;
}

size_t comm_length(const char (&comm)[TL_COMM_LEN]) {
  size_t n = 0;
  while (n < TL_COMM_LEN && comm[n] != '\0') ++n;
  return n;
}

// A signal or exit record's thread, time and container: the fields both
// kinds share.
template <typename Record>
format::TaskNotice notice_of(format::TaskNotice::Kind kind, const Record& rec, uint32_t container) {
  format::TaskNotice n;
  n.kind = kind;
  n.at_ns = rec.ts;
  n.pid = rec.pid;
  n.tid = rec.tid;
  n.cpu = rec.cpu;
  n.container = container;
  n.comm = std::string_view(rec.comm, comm_length(rec.comm));
  return n;
}

}  // namespace

EventConverter::EventConverter(const format::Catalogue& catalogue, EventSink& sink,
                               std::function<uint32_t(uint64_t)> container_of)
    : catalogue_(catalogue), sink_(sink), container_of_(std::move(container_of)) {
  if (const auto* s = catalogue_.find("execve")) execve_nr_ = s->nr;
  if (const auto* s = catalogue_.find("execveat")) execveat_nr_ = s->nr;
}

bool EventConverter::is_exec(uint32_t nr) const {
  return static_cast<int64_t>(nr) == execve_nr_ || static_cast<int64_t>(nr) == execveat_nr_;
}

void EventConverter::consume(std::span<const uint8_t> sample) {
  ++stats_.samples;
  tl_record_head head{};
  if (!read_struct(sample, head) || head.size > sample.size()) {
    ++stats_.malformed;
    return;
  }
  sample = sample.first(head.size);
  if (head.type == TL_RECORD_ENTER) {
    tl_enter_record rec{};
    if (!read_struct(sample, rec)) {
      ++stats_.malformed;
      return;
    }
    on_enter(rec, sample.subspan(sizeof(rec)));
  } else if (head.type == TL_RECORD_EXIT) {
    tl_exit_record rec{};
    if (!read_struct(sample, rec)) {
      ++stats_.malformed;
      return;
    }
    on_exit(rec, sample.subspan(sizeof(rec)));
  } else if (head.type == TL_RECORD_CALL) {
    tl_call_record rec{};
    if (!read_struct(sample, rec)) {
      ++stats_.malformed;
      return;
    }
    on_call(rec, sample.subspan(sizeof(rec)));
  } else if (head.type == TL_RECORD_SIGNAL) {
    tl_signal_record rec{};
    if (!read_struct(sample, rec)) {
      ++stats_.malformed;
      return;
    }
    on_signal(rec);
  } else if (head.type == TL_RECORD_TASK_EXIT) {
    tl_task_exit_record rec{};
    if (!read_struct(sample, rec)) {
      ++stats_.malformed;
      return;
    }
    on_task_exit(rec);
  } else {
    ++stats_.malformed;
  }
}

bool EventConverter::parse_captures(std::span<const uint8_t> bytes, unsigned count, Pending& p) {
  const size_t before = p.capture_count;
  for (unsigned i = 0; i < count; ++i) {
    tl_capture cap{};
    if (!read_struct(bytes, cap) || cap.arg >= TL_ARGS || cap.len > bytes.size() - sizeof(cap)) {
      p.capture_count = before;
      return false;
    }
    if (p.capture_count == p.captures.size()) p.captures.emplace_back();
    format::OwnedCapture& c = p.captures[p.capture_count++];
    c.arg = cap.arg;
    c.size = std::max<uint32_t>(cap.size, cap.len);
    c.bytes.assign(reinterpret_cast<const char*>(bytes.data() + sizeof(cap)), cap.len);  // keeps its capacity
    size_t step = std::min<size_t>(TL_ALIGN8(sizeof(cap) + cap.len), bytes.size());
    bytes = bytes.subspan(step);
  }
  return true;
}

EventConverter::Pending* EventConverter::find_pending(uint32_t tid) {
  if (last_ != nullptr && last_tid_ == tid) return last_->active ? last_ : nullptr;
  auto it = pending_.find(tid);
  if (it == pending_.end()) return nullptr;
  last_tid_ = tid;
  last_ = &it->second;
  return last_->active ? last_ : nullptr;
}

EventConverter::Pending& EventConverter::slot_for(uint32_t tid) {
  if (last_ == nullptr || last_tid_ != tid) {
    if (pending_.size() >= 2 * active_ + 256) sweep_idle();
    last_ = &pending_[tid];
    last_tid_ = tid;
  }
  if (!last_->active) ++active_;
  last_->active = true;
  last_->capture_count = 0;
  return *last_;
}

void EventConverter::sweep_idle() {
  std::erase_if(pending_, [](const auto& entry) { return !entry.second.active; });
  last_ = nullptr;
}

void EventConverter::complete(Pending& p) {
  emit(p);
  p.active = false;
  --active_;
}

// A cgroup's losses happen on any CPU: the marker is tied to none.
void EventConverter::report_loss(uint64_t lost, uint64_t cgroup_id, uint64_t ts) {
  reported_lost_ += lost;
  format::LossMarker marker;
  marker.lost = lost;
  marker.cpu = -1;
  marker.container = container_of_(cgroup_id);
  marker.at_ns = ts;
  sink_.loss(marker);
}

void EventConverter::report_unannounced(uint64_t cgroup_id, uint64_t lost, uint64_t at_ns) {
  if (lost > 0) report_loss(lost, cgroup_id, at_ns);
}

namespace {

// Hands `f` each record of a sequence (each padded to 8 bytes); a record
// whose size does not fit ends the sequence, handed out as it is (the
// consumer counts it malformed).
template <typename F>
void for_each_record(std::span<const uint8_t> records, F&& f) {
  while (records.size() >= sizeof(tl_record_head)) {
    tl_record_head head{};
    std::memcpy(&head, records.data(), sizeof(head));
    const uint64_t step = (uint64_t{head.size} + 7) & ~uint64_t{7};  // TL_ALIGN8 would wrap in 32 bits
    if (head.size < sizeof(head) || step > records.size()) {
      f(records);  // counted as malformed by the consumer
      return;
    }
    f(records.first(head.size));
    records = records.subspan(step);
  }
}

}  // namespace

void EventConverter::consume_records(std::span<const uint8_t> records) {
  for_each_record(records, [this](std::span<const uint8_t> r) { consume(r); });
}

void EventConverter::emit_in_flight(std::span<const uint8_t> records, EventSink& sink) {
  std::vector<Pending> from_bpf;
  for_each_record(records, [&](std::span<const uint8_t> r) {
    tl_enter_record rec{};
    if (!read_struct(r, rec) || rec.head.type != TL_RECORD_ENTER || rec.head.size > r.size()) return;
    Pending p;
    if (fill_enter(rec, r.subspan(sizeof(rec), rec.head.size - sizeof(rec)), p)) from_bpf.push_back(std::move(p));
  });
  std::vector<Pending*> all;
  for (auto& p : from_bpf) all.push_back(&p);
  for (auto& [tid, p] : pending_)
    if (p.active) all.push_back(&p);
  std::stable_sort(all.begin(), all.end(),
                   [](const Pending* a, const Pending* b) { return a->fields.enter_ns < b->fields.enter_ns; });
  for (Pending* p : all) {
    const format::CallState state = p->fields.state;
    p->fields.state = format::CallState::unfinished;
    emit_to(*p, sink);
    p->fields.state = state;
  }
}

bool EventConverter::fill_enter(const tl_enter_record& rec, std::span<const uint8_t> captures, Pending& p) {
  const bool ok = parse_captures(captures, rec.head.ncaptures, p);
  auto& f = p.fields;
  f.enter_ns = rec.ts;
  f.pid = rec.pid;
  f.tid = rec.tid;
  f.cpu = rec.cpu;
  f.nr = rec.nr;
  f.container = container_of_(rec.cgroup_id);
  const format::SyscallSpec* spec = catalogue_.find(rec.nr);
  f.arg_count = spec ? static_cast<uint8_t>(std::min<size_t>(spec->params.size(), TL_ARGS)) : TL_ARGS;
  for (unsigned i = 0; i < TL_ARGS; ++i) f.args[i] = i < f.arg_count ? rec.args[i] : 0;
  p.comm.assign(rec.comm, comm_length(rec.comm));
  f.state = spec && spec->never_returns ? format::CallState::never_returned : format::CallState::unfinished;
  return ok;
}

void EventConverter::on_call(const tl_call_record& rec, std::span<const uint8_t> captures) {
  const tl_enter_record& enter = rec.enter;
  if (enter.lost_before) report_loss(enter.lost_before, enter.cgroup_id, rec.exit_ts);
  if (Pending* previous = find_pending(enter.tid)) {
    // The thread's pending call never returned (its exit record was lost).
    previous->fields.state = format::CallState::unfinished;
    complete(*previous);
  }
  Pending& p = slot_for(enter.tid);
  if (!fill_enter(enter, captures, p)) ++stats_.malformed;
  p.fields.exit_ns = rec.exit_ts;
  p.fields.ret = rec.ret;
  p.fields.state = format::CallState::returned;
  complete(p);
}

void EventConverter::on_enter(const tl_enter_record& rec, std::span<const uint8_t> captures) {
  if (rec.lost_before) report_loss(rec.lost_before, rec.cgroup_id, rec.ts);
  if (Pending* previous = find_pending(rec.tid)) {
    // A new call on the same thread: the previous one's exit record was lost.
    previous->fields.state = format::CallState::unfinished;
    complete(*previous);
  }
  Pending& p = slot_for(rec.tid);
  if (!fill_enter(rec, captures, p)) ++stats_.malformed;
  if (p.fields.state == format::CallState::never_returned) complete(p);
}

void EventConverter::on_exit(const tl_exit_record& rec, std::span<const uint8_t> captures) {
  if (rec.lost_before) report_loss(rec.lost_before, rec.cgroup_id, rec.ts);
  Pending* found = find_pending(rec.tid);
  if (found != nullptr && found->fields.nr != rec.nr) {
    // The thread's pending call never returned (its exit was lost, or exec
    // killed it while this thread's execve succeeded).
    found->fields.state = format::CallState::unfinished;
    complete(*found);
    found = nullptr;
  }
  if (found == nullptr && is_exec(rec.nr)) {
    // A non-leader thread's successful execve returns under the leader's tid.
    auto it = std::find_if(pending_.begin(), pending_.end(), [&](const auto& kv) {
      return kv.second.active && kv.second.fields.pid == rec.pid && kv.second.fields.nr == rec.nr;
    });
    if (it != pending_.end()) found = &it->second;
  }
  if (found == nullptr) {
    ++stats_.orphan_exits;
    return;
  }
  Pending& p = *found;
  p.fields.exit_ns = rec.ts;
  p.fields.ret = rec.ret;
  p.fields.state = format::CallState::returned;
  if (!parse_captures(captures, rec.head.ncaptures, p)) ++stats_.malformed;
  complete(p);
}

void EventConverter::on_signal(const tl_signal_record& rec) {
  if (rec.lost_before) report_loss(rec.lost_before, rec.cgroup_id, rec.ts);
  format::TaskNotice n = notice_of(format::TaskNotice::Kind::signal, rec, container_of_(rec.cgroup_id));
  n.signo = static_cast<int32_t>(rec.signo);
  n.siginfo = std::string_view(reinterpret_cast<const char*>(rec.siginfo), sizeof(rec.siginfo));
  ++stats_.notices;
  sink_.notice(n);
}

void EventConverter::on_task_exit(const tl_task_exit_record& rec) {
  if (rec.lost_before) report_loss(rec.lost_before, rec.cgroup_id, rec.ts);
  if (Pending* previous = find_pending(rec.tid)) {
    // A call the thread never returned from (its exit record was lost):
    // shown before the thread's end, not at the end of the trace.
    previous->fields.state = format::CallState::unfinished;
    complete(*previous);
  }
  format::TaskNotice n = notice_of(format::TaskNotice::Kind::exit, rec, container_of_(rec.cgroup_id));
  n.exit_status = static_cast<int32_t>(rec.exit_code);
  n.group_dead = rec.group_dead != 0;
  ++stats_.notices;
  sink_.notice(n);
}

void EventConverter::emit(Pending& p) {
  ++stats_.events;
  if (p.fields.state == format::CallState::unfinished) ++stats_.unfinished;
  emit_to(p, sink_);
}

void EventConverter::emit_to(Pending& p, EventSink& sink) {
  const auto first = p.captures.begin();
  const auto last = first + static_cast<std::ptrdiff_t>(p.capture_count);
  if (p.capture_count > 1)
    std::sort(first, last, [](const format::OwnedCapture& a, const format::OwnedCapture& b) { return a.arg < b.arg; });
  views_.clear();
  for (auto it = first; it != last; ++it) views_.push_back(format::CaptureView{it->arg, it->size, it->bytes});
  format::Event e = p.fields;
  if (e.state != format::CallState::returned) {
    e.exit_ns = 0;
    e.ret = 0;
  }
  e.comm = p.comm;
  e.captures = views_;
  sink.event(e);
}

void EventConverter::finish() {
  std::vector<Pending*> rest;
  rest.reserve(active_);
  for (auto& [tid, p] : pending_)
    if (p.active) rest.push_back(&p);
  std::sort(rest.begin(), rest.end(),
            [](const Pending* a, const Pending* b) { return a->fields.enter_ns < b->fields.enter_ns; });
  for (Pending* p : rest) {
    p->fields.state = format::CallState::unfinished;
    complete(*p);
  }
  pending_.clear();
  last_ = nullptr;
}

}  // namespace traceloop::recorder
