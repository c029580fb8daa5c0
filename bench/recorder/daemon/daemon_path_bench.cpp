// The daemon's user-space path per event, without BPF: ring samples as the
// BPF programs write them (getppid, or write of 64 bytes with its buffer
// captured) go through EventConverter into a FlightBuffer and a
// ProcessTracker, as Daemon's event sink does. Prints the time per event;
// run it under `valgrind --tool=callgrind` to see where it goes.
//   daemon_path_bench [EVENTS] [getppid|write] [BUDGET_BYTES]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bpf/traceloop_events.h"
#include "format/catalogue.h"
#include "recorder/daemon/flight_buffer.h"
#include "recorder/event_converter.h"
#include "recorder/event_sink.h"
#include "recorder/process_tracker.h"

namespace {

using namespace traceloop;

struct Sink : recorder::EventSink {
  Sink(const format::Catalogue& catalogue, uint64_t budget)
      : buffer([budget] {
          daemon::FlightBufferOptions o;
          o.budget_bytes = budget;
          o.time_unit_ns = 1000;
          return o;
        }()),
        processes(catalogue) {}
  void event(const format::Event& e) override {
    buffer.add(e, codec);
    processes.observe(e);
    if (buffer.overwritten() != forgotten) processes.forget_before(forgotten = buffer.overwritten());
  }
  void loss(const format::LossMarker& l) override { buffer.add_loss(l); }
  void notice(const format::TaskNotice& n) override { buffer.add_notice(n); }
  daemon::FlightCodec codec{3};
  daemon::FlightBuffer buffer;
  recorder::ProcessTracker processes;
  uint64_t forgotten = 0;
};

// One call's two ring samples.
struct Samples {
  std::vector<uint8_t> enter, exit;
};

Samples make_samples(uint32_t nr, bool write) {
  Samples s;
  tl_enter_record en{};
  en.head.type = TL_RECORD_ENTER;
  en.nr = nr;
  en.pid = en.tid = 4242;
  en.cgroup_id = 77;
  std::memcpy(en.comm, "tl_bench", 9);
  if (write) {
    en.args[0] = 3;
    en.args[1] = 0x7ffd12345000;
    en.args[2] = 64;
    en.head.ncaptures = 1;
  }
  size_t size = sizeof(en) + (write ? sizeof(tl_capture) + 64 : 0);
  en.head.size = static_cast<uint32_t>(size);
  s.enter.resize(size);
  std::memcpy(s.enter.data(), &en, sizeof(en));
  if (write) {
    tl_capture cap{};
    cap.arg = 1;
    cap.len = 64;
    cap.size = 64;
    std::memcpy(s.enter.data() + sizeof(en), &cap, sizeof(cap));
    std::memset(s.enter.data() + sizeof(en) + sizeof(cap), 'x', 64);
  }
  tl_exit_record ex{};
  ex.head.type = TL_RECORD_EXIT;
  ex.head.size = sizeof(ex);
  ex.nr = nr;
  ex.pid = ex.tid = 4242;
  ex.cgroup_id = 77;
  ex.ret = write ? 64 : 1;
  s.exit.resize(sizeof(ex));
  std::memcpy(s.exit.data(), &ex, sizeof(ex));
  return s;
}

void set_ts(std::vector<uint8_t>& sample, uint64_t ts) {
  std::memcpy(sample.data() + offsetof(tl_enter_record, ts), &ts, sizeof(ts));
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t events = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2'000'000;
  const bool write = argc > 2 && std::strcmp(argv[2], "write") == 0;
  const uint64_t budget = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 4u << 20;
  const auto& catalogue = format::builtin_catalogue(format::host_arch());
  const format::SyscallSpec* spec = catalogue.find(write ? "write" : "getppid");
  if (spec == nullptr) return 2;
  Samples s = make_samples(spec->nr, write);
  Sink sink(catalogue, budget);
  recorder::EventConverter converter(catalogue, sink, [](uint64_t) { return 0u; });
  uint64_t ts = 1'000'000'000;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < events; ++i) {
    // about 1 µs per call: 0.4 in the kernel, 0.6 in user space
    set_ts(s.enter, ts += 600 + (i % 7) * 13);
    converter.consume(s.enter);
    set_ts(s.exit, ts += 400 + (i % 5) * 11);
    converter.consume(s.exit);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s, budget %llu: %llu events in %.3f s: %.0f ns per event, %.2f M events/s of one core "
              "(%.1f%% of a core per 100k/s); held %llu in %llu bytes\n",
              write ? "write" : "getppid", static_cast<unsigned long long>(budget),
              static_cast<unsigned long long>(events), secs, secs * 1e9 / static_cast<double>(events),
              static_cast<double>(events) / secs / 1e6, 100.0 * 1e5 * secs / static_cast<double>(events),
              static_cast<unsigned long long>(sink.buffer.events_held()),
              static_cast<unsigned long long>(sink.buffer.bytes()));
  return 0;
}
