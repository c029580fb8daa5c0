#pragma once
// The one place where BPF ring records become format::Event: validates each
// sample's size, turns call records into events, pairs enter and exit records
// by thread id, attaches the data captures, turns signal and thread-end
// records into task notices, and places loss markers where the
// BPF side reported them: a record's lost_before counts calls of its own
// cgroup, so its marker goes to that cgroup's container, just before it.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "bpf/traceloop_events.h"
#include "format/catalogue.h"
#include "format/event.h"
#include "recorder/event_sink.h"

namespace traceloop::recorder {

struct ConverterStats {
  uint64_t samples = 0;
  uint64_t malformed = 0;       // samples whose sizes did not add up (dropped)
  uint64_t orphan_exits = 0;    // exit records without an enter (a thread without a store, fork child's clone return)
  uint64_t events = 0;
  uint64_t unfinished = 0;
  uint64_t notices = 0;         // signals delivered and threads ended
};

class EventConverter {
 public:
  // container_of maps a v2 cgroup id to the container index of the file.
  EventConverter(const format::Catalogue& catalogue, EventSink& sink,
                 std::function<uint32_t(uint64_t cgroup_id)> container_of);
  EventConverter(const EventConverter&) = delete;  // last_ points into its own table
  EventConverter& operator=(const EventConverter&) = delete;

  // One ring sample, as the ring buffer hands it out.
  void consume(std::span<const uint8_t> sample);
  // Records one after the other, each head.size bytes rounded up to 8 (what
  // BpfRecorder::in_flight_records() returns), consumed in turn. A call in
  // flight is an enter record: it stays pending, finish() emits it
  // unfinished. For the end of a recording, once the programs are detached.
  void consume_records(std::span<const uint8_t> records);

  // For a snapshot while recording goes on: every call in flight now — the
  // enter records in `records` (from BpfRecorder::in_flight_records()) and
  // the calls this converter holds pending — goes to `sink` as an
  // unfinished event, oldest first. Nothing here changes: each of these
  // calls is still emitted normally when it completes.
  void emit_in_flight(std::span<const uint8_t> records, EventSink& sink);

  // End of the recording: the calls still in flight are emitted as
  // unfinished.
  void finish();

  // Calls of `cgroup_id` lost that no record announced, taken from the BPF
  // side (BpfRecorder::take_losses()) at `at_ns`: a marker in the cgroup's
  // container, after everything consumed so far (nothing when lost is 0).
  void report_unannounced(uint64_t cgroup_id, uint64_t lost, uint64_t at_ns);

  // Calls lost so far, as reported by records and report_unannounced().
  uint64_t reported_lost() const { return reported_lost_; }
  const ConverterStats& stats() const { return stats_; }

 private:
  // A thread's call between its enter and exit records. Slots stay with
  // their thread after the call (active = false): the next call reuses the
  // entry and the captures' memory, no allocation per event.
  struct Pending {
    bool active = false;
    format::Event fields;
    std::string comm;
    std::vector<format::OwnedCapture> captures;  // the first `capture_count` are this call's
    size_t capture_count = 0;
  };

  void on_enter(const tl_enter_record& rec, std::span<const uint8_t> captures);
  void on_exit(const tl_exit_record& rec, std::span<const uint8_t> captures);
  void on_call(const tl_call_record& rec, std::span<const uint8_t> captures);
  void on_signal(const tl_signal_record& rec);
  void on_task_exit(const tl_task_exit_record& rec);
  // p's fields from an enter record (captures appended); false: malformed captures.
  bool fill_enter(const tl_enter_record& rec, std::span<const uint8_t> captures, Pending& p);
  void report_loss(uint64_t lost, uint64_t cgroup_id, uint64_t ts);
  // Appends to p's captures; on a malformed list, leaves them as they were.
  bool parse_captures(std::span<const uint8_t> bytes, unsigned count, Pending& p);
  void emit(Pending& pending);
  void emit_to(Pending& pending, EventSink& sink);
  // Emits and frees the slot.
  void complete(Pending& pending);
  Pending* find_pending(uint32_t tid);
  Pending& slot_for(uint32_t tid);
  // Slots of threads without a call in flight, beyond a margin, are freed.
  void sweep_idle();
  bool is_exec(uint32_t nr) const;

  const format::Catalogue& catalogue_;
  EventSink& sink_;
  std::function<uint32_t(uint64_t)> container_of_;
  std::unordered_map<uint32_t, Pending> pending_;  // by tid; references stay valid until erased
  size_t active_ = 0;                              // slots with a call in flight
  uint32_t last_tid_ = 0;
  Pending* last_ = nullptr;                        // pending_[last_tid_], the likely next one
  uint64_t reported_lost_ = 0;
  std::vector<format::CaptureView> views_;
  ConverterStats stats_;
  int64_t execve_nr_ = -1;
  int64_t execveat_nr_ = -1;
};

}  // namespace traceloop::recorder
