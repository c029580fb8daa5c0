#pragma once
// Who made the calls of a trace, for the timeline formats (perfetto, html):
// the threads seen, the processes they belong to and the containers those
// run in. Processes are named from the trace's process table, which is
// complete only once the whole file has been read: the renderers observe
// threads while streaming and ask for names and lane order at the end.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "format/event.h"
#include "format/metadata.h"

namespace traceloop::tools {

struct TimelineThread {
  uint32_t pid = 0;
  uint32_t tid = 0;
  uint32_t container = 0;  // index into the trace's containers
  std::string comm;        // the thread's name at its latest call
  uint64_t calls = 0;      // calls rendered (and not dropped since)
};

// "1234.567": nanoseconds as microseconds (the unit of both timeline
// formats), exactly: no precision lost to floating point.
void append_micros(std::string& out, uint64_t ns);

class TimelineTracks {
 public:
  // `metadata` must outlive the tracks.
  explicit TimelineTracks(const format::TraceMetadata& metadata) : metadata_(metadata) {}

  // The index of the event's thread among those seen (first seen first).
  uint32_t observe(const format::Event& event);
  void set_processes(const std::vector<format::ProcessInfo>& processes);
  // The calls of the container's threads rendered so far were dropped (its
  // runtime setup, hidden: see setup_hiding.h); threads left without calls
  // get no lane.
  void forget_calls_of(uint32_t container);

  const std::vector<TimelineThread>& threads() const { return threads_; }
  // The process's name: its comm in the process table, else the comm of its
  // main thread or of its first thread seen. Untrusted bytes, unescaped.
  std::string process_name(uint32_t pid) const;
  // Its command line from the process table (at most 200 bytes), empty when unknown.
  std::string process_command(uint32_t pid) const;
  // "name" of a container of the trace, empty for calls outside containers.
  std::string container_name(uint32_t container) const;
  // Indices of the threads with calls, in lane order: grouped by container (in the trace's
  // order, calls outside containers first), then by process (first seen
  // first), the main thread first, then the others as seen.
  std::vector<uint32_t> lane_order() const;
  // The rank of each thread's process in lane order (by thread index), for
  // viewers that sort processes themselves.
  std::vector<uint32_t> process_ranks() const;

 private:
  const format::TraceMetadata& metadata_;
  std::vector<TimelineThread> threads_;
  std::unordered_map<uint64_t, uint32_t> index_;  // pid << 32 | tid
  uint64_t last_key_ = ~uint64_t{0};
  uint32_t last_index_ = 0;
  std::unordered_map<uint32_t, const format::ProcessInfo*> processes_;
  std::vector<format::ProcessInfo> process_table_;
};

}  // namespace traceloop::tools
