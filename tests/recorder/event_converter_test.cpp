#include "recorder/event_converter.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

namespace traceloop::recorder {
namespace {

const format::Catalogue& cat() { return format::builtin_catalogue(format::host_arch()); }
uint32_t nr(const char* name) { return cat().find(name)->nr; }

struct CollectingSink : EventSink {
  std::vector<format::OwnedEvent> events;
  std::vector<format::LossMarker> losses;
  std::vector<size_t> loss_positions;  // events emitted before each loss
  void event(const format::Event& e) override { events.push_back(format::OwnedEvent::from(e)); }
  void loss(const format::LossMarker& l) override {
    losses.push_back(l);
    loss_positions.push_back(events.size());
  }
  std::vector<format::OwnedTaskNotice> notices;
  std::vector<size_t> notice_positions;  // events emitted before each notice
  void notice(const format::TaskNotice& n) override {
    notices.push_back(format::OwnedTaskNotice::from(n));
    notice_positions.push_back(events.size());
  }
};

struct Cap {
  uint8_t arg;
  std::string bytes;
  uint32_t size;
};

void append_captures(std::vector<uint8_t>& out, const std::vector<Cap>& caps) {
  for (const auto& c : caps) {
    tl_capture h{};
    h.arg = c.arg;
    h.len = static_cast<uint16_t>(c.bytes.size());
    h.size = c.size;
    size_t at = out.size();
    out.resize(at + TL_ALIGN8(sizeof(h) + c.bytes.size()), 0);
    std::memcpy(out.data() + at, &h, sizeof(h));
    std::memcpy(out.data() + at + sizeof(h), c.bytes.data(), c.bytes.size());
  }
}

std::vector<uint8_t> enter(uint32_t tid, uint32_t pid, uint32_t nr_, uint64_t ts, std::vector<Cap> caps = {},
                           uint64_t lost_before = 0, uint32_t cpu = 0) {
  tl_enter_record r{};
  r.head.type = TL_RECORD_ENTER;
  r.head.ncaptures = static_cast<uint8_t>(caps.size());
  r.nr = nr_;
  r.pid = pid;
  r.tid = tid;
  r.ts = ts;
  r.cpu = cpu;
  r.lost_before = lost_before;
  for (unsigned i = 0; i < TL_ARGS; ++i) r.args[i] = 100 + i;
  std::strcpy(r.comm, "prog");
  std::vector<uint8_t> out(sizeof(r));
  append_captures(out, caps);
  r.head.size = static_cast<uint32_t>(out.size());
  std::memcpy(out.data(), &r, sizeof(r));
  return out;
}

std::vector<uint8_t> exit_(uint32_t tid, uint32_t pid, uint32_t nr_, uint64_t ts, int64_t ret,
                           std::vector<Cap> caps = {}, uint64_t lost_before = 0, uint32_t cpu = 0) {
  tl_exit_record r{};
  r.head.type = TL_RECORD_EXIT;
  r.head.ncaptures = static_cast<uint8_t>(caps.size());
  r.nr = nr_;
  r.pid = pid;
  r.tid = tid;
  r.ts = ts;
  r.ret = ret;
  r.cpu = cpu;
  r.lost_before = lost_before;
  std::vector<uint8_t> out(sizeof(r));
  append_captures(out, caps);
  r.head.size = static_cast<uint32_t>(out.size());
  std::memcpy(out.data(), &r, sizeof(r));
  return out;
}

// A whole call in one record: entry captures first, then the exit's.
std::vector<uint8_t> call(uint32_t tid, uint32_t pid, uint32_t nr_, uint64_t enter_ts, uint64_t exit_ts, int64_t ret,
                          std::vector<Cap> caps = {}, uint64_t lost_before = 0, uint32_t exit_cpu = 0) {
  tl_call_record r{};
  r.enter.head.type = TL_RECORD_CALL;
  r.enter.head.ncaptures = static_cast<uint8_t>(caps.size());
  r.enter.nr = nr_;
  r.enter.pid = pid;
  r.enter.tid = tid;
  r.enter.ts = enter_ts;
  r.enter.cpu = 9;
  r.enter.lost_before = lost_before;
  for (unsigned i = 0; i < TL_ARGS; ++i) r.enter.args[i] = 100 + i;
  std::strcpy(r.enter.comm, "prog");
  r.exit_ts = exit_ts;
  r.ret = ret;
  r.exit_cpu = exit_cpu;
  std::vector<uint8_t> out(sizeof(r));
  append_captures(out, caps);
  r.enter.head.size = static_cast<uint32_t>(out.size());
  std::memcpy(out.data(), &r, sizeof(r));
  return out;
}

// Records back to back, as BpfRecorder::in_flight_records() returns them.
std::vector<uint8_t> concat(const std::vector<std::vector<uint8_t>>& records) {
  std::vector<uint8_t> out;
  for (const auto& r : records) out.insert(out.end(), r.begin(), r.end());
  return out;
}

// The record's cgroup (same offset in every record type: the call record
// starts with its enter record).
std::vector<uint8_t> of_cgroup(std::vector<uint8_t> record, uint64_t cgroup_id) {
  static_assert(offsetof(tl_enter_record, cgroup_id) == offsetof(tl_exit_record, cgroup_id));
  std::memcpy(record.data() + offsetof(tl_enter_record, cgroup_id), &cgroup_id, sizeof(cgroup_id));
  return record;
}

// Cgroup 1000 is container 1, cgroup 2000 container 2, any other 0.
uint32_t container_of(uint64_t cgroup_id) { return cgroup_id == 1000 ? 1 : cgroup_id == 2000 ? 2 : 0; }

struct Fixture {
  CollectingSink sink;
  EventConverter conv{cat(), sink, container_of};
  void feed(const std::vector<uint8_t>& s) { conv.consume(s); }
};

TEST(EventConverter, PairsInterleavedThreadsByTid) {
  Fixture f;
  f.feed(enter(11, 10, nr("read"), 100));
  f.feed(enter(12, 10, nr("write"), 110, {{1, "hi", 2}}));
  f.feed(exit_(12, 10, nr("write"), 120, 2));
  f.feed(exit_(11, 10, nr("read"), 130, 5, {{1, "hello", 5}}));
  ASSERT_EQ(f.sink.events.size(), 2u);
  auto w = f.sink.events[0].view();
  EXPECT_EQ(w.tid, 12u);
  EXPECT_EQ(w.ret, 2);
  EXPECT_EQ(w.enter_ns, 110u);
  EXPECT_EQ(w.exit_ns, 120u);
  ASSERT_NE(w.capture_for(1), nullptr);
  EXPECT_EQ(w.capture_for(1)->bytes, "hi");
  auto r = f.sink.events[1].view();
  EXPECT_EQ(r.tid, 11u);
  EXPECT_EQ(r.state, format::CallState::returned);
  EXPECT_EQ(r.comm, "prog");
  ASSERT_NE(r.capture_for(1), nullptr);
  EXPECT_EQ(r.capture_for(1)->bytes, "hello");
  EXPECT_EQ(r.arg_count, 3);
  EXPECT_EQ(r.args[0], 100u);
  EXPECT_EQ(r.args[3], 0u);  // beyond read's three parameters
}

TEST(EventConverter, NeverReturningCallsAreEmittedAtEntry) {
  Fixture f;
  f.feed(enter(11, 11, nr("exit_group"), 100));
  ASSERT_EQ(f.sink.events.size(), 1u);
  EXPECT_EQ(f.sink.events[0].view().state, format::CallState::never_returned);
  // the exit record of a call that never returns, if any, is not an error and creates nothing
  f.feed(enter(12, 12, nr("exit"), 200));
  f.feed(exit_(12, 12, nr("exit"), 210, 0));
  EXPECT_EQ(f.sink.events.size(), 2u);
  EXPECT_EQ(f.conv.stats().orphan_exits, 1u);
}

TEST(EventConverter, CallRecordIsOneReturnedEvent) {
  Fixture f;
  f.feed(call(11, 10, nr("openat"), 100, 150, 3, {{1, std::string("/etc/x\0", 7), 7}}));
  f.feed(call(11, 10, nr("read"), 200, 260, 5, {{1, "hello", 5}}));
  ASSERT_EQ(f.sink.events.size(), 2u);
  auto o = f.sink.events[0].view();
  EXPECT_EQ(o.state, format::CallState::returned);
  EXPECT_EQ(o.enter_ns, 100u);
  EXPECT_EQ(o.exit_ns, 150u);
  EXPECT_EQ(o.ret, 3);
  EXPECT_EQ(o.tid, 11u);
  EXPECT_EQ(o.pid, 10u);
  EXPECT_EQ(o.cpu, 9u);  // the CPU at entry
  EXPECT_EQ(o.comm, "prog");
  EXPECT_EQ(o.args[0], 100u);
  ASSERT_NE(o.capture_for(1), nullptr);
  EXPECT_EQ(o.capture_for(1)->bytes, std::string("/etc/x\0", 7));
  auto r = f.sink.events[1].view();
  EXPECT_EQ(r.capture_for(1)->bytes, "hello");
  EXPECT_EQ(f.conv.stats().unfinished, 0u);
}

// A record's losses are calls of its own cgroup (on any CPU): the marker
// goes to that cgroup's container, just before the record's event, whatever
// the CPU and whatever other containers' records came between.
TEST(EventConverter, LossMarkerGoesToTheContainerOfTheRecordThatAnnouncedIt) {
  Fixture f;
  f.feed(of_cgroup(call(11, 11, nr("getpid"), 100, 110, 11, {}, 0, /*exit_cpu=*/1), 1000));
  f.feed(of_cgroup(call(21, 21, nr("getpid"), 120, 130, 21, {}, /*lost_before=*/4, /*exit_cpu=*/1), 2000));
  f.feed(of_cgroup(enter(12, 11, nr("write"), 140, {{1, "x", 1}}, /*lost_before=*/2, /*cpu=*/1), 1000));
  f.feed(of_cgroup(exit_(12, 11, nr("write"), 150, 1, {}, /*lost_before=*/3, /*cpu=*/0), 1000));
  ASSERT_EQ(f.sink.losses.size(), 3u);
  EXPECT_EQ(f.sink.losses[0].lost, 4u);
  EXPECT_EQ(f.sink.losses[0].container, 2u);
  EXPECT_EQ(f.sink.losses[0].cpu, -1);  // a cgroup's losses are on any CPU
  EXPECT_EQ(f.sink.losses[0].at_ns, 130u);  // the call record's exit: when it was sent
  EXPECT_EQ(f.sink.loss_positions[0], 1u);
  EXPECT_EQ(f.sink.losses[1].lost, 2u);
  EXPECT_EQ(f.sink.losses[1].container, 1u);
  EXPECT_EQ(f.sink.losses[1].at_ns, 140u);
  EXPECT_EQ(f.sink.losses[2].lost, 3u);
  EXPECT_EQ(f.sink.losses[2].container, 1u);
  EXPECT_EQ(f.sink.losses[2].at_ns, 150u);
  EXPECT_EQ(f.conv.reported_lost(), 9u);
}

// A thread whose enter record went to the ring and then made a whole call:
// the first call's exit was lost, it is shown unfinished.
TEST(EventConverter, CallRecordAfterAPendingEnterClosesIt) {
  Fixture f;
  f.feed(enter(11, 11, nr("write"), 100, {{1, "x", 1}}));
  f.feed(call(11, 11, nr("close"), 200, 210, 0));
  ASSERT_EQ(f.sink.events.size(), 2u);
  EXPECT_EQ(f.sink.events[0].view().state, format::CallState::unfinished);
  EXPECT_EQ(f.sink.events[1].view().state, format::CallState::returned);
}

// At the end of a recording the calls in flight come from the BPF stores as
// enter records: finish() shows them unfinished, with the ring's pending ones.
TEST(EventConverter, InFlightRecordsAtTheEndAreUnfinished) {
  Fixture f;
  f.feed(enter(12, 12, nr("write"), 150, {{1, "big", 3}}));  // its enter went to the ring
  f.conv.consume_records(concat({enter(11, 11, nr("read"), 100), enter(13, 13, nr("wait4"), 300)}));
  f.conv.finish();
  ASSERT_EQ(f.sink.events.size(), 3u);
  EXPECT_EQ(f.sink.events[0].view().tid, 11u);
  EXPECT_EQ(f.sink.events[1].view().tid, 12u);
  EXPECT_EQ(f.sink.events[2].view().tid, 13u);
  for (const auto& e : f.sink.events) EXPECT_EQ(e.view().state, format::CallState::unfinished);
  EXPECT_EQ(f.conv.stats().malformed, 0u);
}

// A snapshot: every call in flight goes to the snapshot's sink, unfinished,
// and the converter goes on as if nothing happened.
TEST(EventConverter, SnapshotOfCallsInFlightLeavesThemPending) {
  Fixture f;
  f.feed(enter(12, 12, nr("write"), 150, {{1, "big", 3}}));
  CollectingSink snap;
  f.conv.emit_in_flight(concat({enter(11, 11, nr("read"), 100, {}, 0, 1)}), snap);
  ASSERT_EQ(snap.events.size(), 2u);
  EXPECT_EQ(snap.events[0].view().tid, 11u);
  EXPECT_EQ(snap.events[0].view().nr, nr("read"));
  EXPECT_EQ(snap.events[1].view().tid, 12u);
  ASSERT_NE(snap.events[1].view().capture_for(1), nullptr);
  EXPECT_EQ(snap.events[1].view().capture_for(1)->bytes, "big");
  for (const auto& e : snap.events) EXPECT_EQ(e.view().state, format::CallState::unfinished);
  EXPECT_TRUE(f.sink.events.empty());
  // both complete later, normally
  f.feed(exit_(12, 12, nr("write"), 160, 3));
  f.feed(call(11, 11, nr("read"), 100, 170, 0));
  ASSERT_EQ(f.sink.events.size(), 2u);
  for (const auto& e : f.sink.events) EXPECT_EQ(e.view().state, format::CallState::returned);
  EXPECT_EQ(f.sink.events[0].view().capture_for(1)->bytes, "big");
  EXPECT_EQ(f.conv.stats().unfinished, 0u);
}

TEST(EventConverter, MalformedRecordSequenceIsCounted) {
  Fixture f;
  auto records = concat({enter(11, 11, nr("read"), 100)});
  records.resize(records.size() + 12, 0xff);  // a head claiming far more than what follows
  f.conv.consume_records(records);
  f.conv.finish();
  EXPECT_EQ(f.sink.events.size(), 1u);
  EXPECT_EQ(f.conv.stats().malformed, 1u);
}

TEST(EventConverter, InFlightCallsBecomeUnfinishedAtTheEnd) {
  Fixture f;
  f.feed(enter(11, 11, nr("wait4"), 300));
  f.feed(enter(12, 12, nr("read"), 200));
  f.conv.finish();
  ASSERT_EQ(f.sink.events.size(), 2u);
  EXPECT_EQ(f.sink.events[0].view().enter_ns, 200u);  // in entry order
  for (const auto& e : f.sink.events) {
    EXPECT_EQ(e.view().state, format::CallState::unfinished);
    EXPECT_EQ(e.view().exit_ns, 0u);
  }
}

// Losses no record announced (the cgroup made no call after them) are
// taken from the BPF side at the end of a history: each goes to its own
// container, after everything recorded, in-flight calls included.
TEST(EventConverter, UnannouncedLossesGoToTheirOwnContainerAfterEverything) {
  Fixture f;
  f.feed(of_cgroup(call(11, 11, nr("getpid"), 100, 110, 11, {}, /*lost_before=*/3), 1000));
  f.feed(of_cgroup(enter(21, 21, nr("wait4"), 200), 2000));
  f.conv.finish();
  f.conv.report_unannounced(2000, 5, 500);
  f.conv.report_unannounced(1000, 0, 500);  // nothing left: no marker
  ASSERT_EQ(f.sink.events.size(), 2u);
  ASSERT_EQ(f.sink.losses.size(), 2u);
  EXPECT_EQ(f.sink.losses[0].lost, 3u);
  EXPECT_EQ(f.sink.losses[0].container, 1u);
  EXPECT_EQ(f.sink.loss_positions[0], 0u);
  EXPECT_EQ(f.sink.losses[1].lost, 5u);
  EXPECT_EQ(f.sink.losses[1].container, 2u);
  EXPECT_EQ(f.sink.losses[1].at_ns, 500u);
  EXPECT_EQ(f.sink.loss_positions[1], 2u);
  EXPECT_EQ(f.conv.reported_lost(), 8u);
}

TEST(EventConverter, LostExitMakesThePreviousCallUnfinished) {
  Fixture f;
  f.feed(enter(11, 11, nr("read"), 100));
  f.feed(enter(11, 11, nr("close"), 200, {}, 1));
  f.feed(exit_(11, 11, nr("close"), 210, 0));
  ASSERT_EQ(f.sink.events.size(), 2u);
  EXPECT_EQ(f.sink.events[0].view().state, format::CallState::unfinished);
  EXPECT_EQ(f.sink.events[1].view().ret, 0);
}

TEST(EventConverter, OrphanExitIsDropped) {
  Fixture f;
  f.feed(exit_(11, 11, nr("clone"), 100, 0));
  EXPECT_TRUE(f.sink.events.empty());
  EXPECT_EQ(f.conv.stats().orphan_exits, 1u);
}

TEST(EventConverter, ExecveOfNonLeaderThreadReturnsUnderLeaderTid) {
  Fixture f;
  f.feed(enter(10, 10, nr("futex"), 50));  // the leader waits; exec kills that call
  f.feed(enter(12, 10, nr("execve"), 100, {{0, std::string("/bin/x\0", 7), 7}}));
  f.feed(exit_(10, 10, nr("execve"), 150, 0));
  ASSERT_EQ(f.sink.events.size(), 2u);
  EXPECT_EQ(f.sink.events[0].view().nr, nr("futex"));
  EXPECT_EQ(f.sink.events[0].view().state, format::CallState::unfinished);
  auto e = f.sink.events[1].view();
  EXPECT_EQ(e.nr, nr("execve"));
  EXPECT_EQ(e.state, format::CallState::returned);
  EXPECT_EQ(e.tid, 12u);
  EXPECT_EQ(e.ret, 0);
}

TEST(EventConverter, MalformedSamplesAreRejected) {
  Fixture f;
  auto s = enter(11, 11, nr("openat"), 100, {{1, "/etc/passwd", 12}});
  auto cut = s;
  cut.resize(10);  // shorter than a record
  f.feed(cut);
  auto lying = s;
  tl_record_head h{};
  std::memcpy(&h, lying.data(), sizeof(h));
  h.size = static_cast<uint32_t>(lying.size() + 100);  // claims more than the sample
  std::memcpy(lying.data(), &h, sizeof(h));
  f.feed(lying);
  auto bad_capture = s;
  bad_capture.resize(bad_capture.size() - 8);  // capture bytes cut off
  std::memcpy(&h, bad_capture.data(), sizeof(h));
  h.size = static_cast<uint32_t>(bad_capture.size());
  std::memcpy(bad_capture.data(), &h, sizeof(h));
  f.feed(bad_capture);
  std::vector<uint8_t> unknown(sizeof(tl_exit_record), 0);
  unknown[0] = 9;
  unknown[4] = static_cast<uint8_t>(unknown.size());
  f.feed(unknown);
  EXPECT_EQ(f.conv.stats().malformed, 4u);
  f.conv.finish();
  // the enter whose capture was cut is kept without its capture
  ASSERT_EQ(f.sink.events.size(), 1u);
  EXPECT_TRUE(f.sink.events[0].captures.empty());
}

}  // namespace
}  // namespace traceloop::recorder
