#pragma once
// The event model shared by the recorder, the trace file and the tools.
// One Event is one syscall with enter and exit merged.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace traceloop::format {

enum class CallState : uint8_t {
  returned = 0,        // exit seen: ret and exit_ns are valid
  never_returned = 1,  // exit, exit_group, rt_sigreturn, successful execve of the old image: shown as X
  unfinished = 2,      // still in flight when the trace or snapshot was taken
};

// Data read from user memory for one argument.
// `size` is the size of the data in user memory when known (the count of a
// write, the return value of a read, strlen+1 of a path). Truncation: bytes is
// shorter than size. A string cut by the limit before its NUL was seen has
// size = bytes.size() + 1 (its real length is unknown, only that it is longer).
// Arrays of strings (argv) keep NUL-separated elements; when elements were
// dropped, size > bytes.size() as well.
struct CaptureView {
  uint8_t arg = 0;  // argument index 0..5
  uint32_t size = 0;
  std::string_view bytes;
  bool truncated() const { return bytes.size() < size; }
};

// Non-owning view of one syscall; what readers yield and writers take.
struct Event {
  uint64_t enter_ns = 0;  // CLOCK_BOOTTIME nanoseconds
  uint64_t exit_ns = 0;   // 0 unless state == returned
  uint32_t pid = 0;       // thread group id
  uint32_t tid = 0;
  uint32_t cpu = 0;
  uint32_t nr = 0;        // syscall number of the file's architecture
  uint32_t container = 0;  // index into the file's containers
  uint8_t arg_count = 6;  // args beyond this are stored as 0
  CallState state = CallState::returned;
  int64_t ret = 0;
  std::array<uint64_t, 6> args{};
  std::string_view comm;
  std::span<const CaptureView> captures;

  uint64_t duration_ns() const { return state == CallState::returned ? exit_ns - enter_ns : 0; }
  bool failed() const { return state == CallState::returned && ret < 0 && ret >= -4095; }
  const CaptureView* capture_for(unsigned arg_index) const {
    for (const auto& c : captures)
      if (c.arg == arg_index) return &c;
    return nullptr;
  }
};

// Owning storage for an Event: tests, the recorder's staging and slices.
struct OwnedCapture {
  uint8_t arg = 0;
  uint32_t size = 0;
  std::string bytes;
};

struct OwnedEvent {
  Event fields;  // comm and captures are re-pointed by view()
  std::string comm;
  std::vector<OwnedCapture> captures;

  static OwnedEvent from(const Event& e);
  // The view points into this object: valid until it is modified or moved.
  Event view() const;

 private:
  mutable std::vector<CaptureView> capture_views_;
};

// Events lost (ring full) or overwritten (history budget) before the next event.
struct LossMarker {
  uint64_t lost = 0;
  uint64_t overwritten = 0;
  int32_t cpu = -1;  // -1: not tied to one CPU
  uint32_t container = 0;
  uint64_t at_ns = 0;
};

// What happened to a thread between its calls: a signal delivered to it (its
// handler or default action follows), or its end. Non-owning, like Event.
struct TaskNotice {
  enum class Kind : uint8_t { signal, exit };
  Kind kind = Kind::signal;
  uint64_t at_ns = 0;  // CLOCK_BOOTTIME nanoseconds
  uint32_t pid = 0;    // thread group id
  uint32_t tid = 0;
  uint32_t cpu = 0;
  uint32_t container = 0;
  std::string_view comm;
  // signal:
  int32_t signo = 0;
  std::string_view siginfo;  // siginfo_t as its handler gets it, at most kSiginfoBytes; zeros beyond
  // exit:
  int32_t exit_status = 0;   // wait(2) status: WIFEXITED/WEXITSTATUS, WTERMSIG, WCOREDUMP
  bool group_dead = false;   // the last thread of its group
  static constexpr size_t kSiginfoBytes = 128;  // sizeof(siginfo_t) on every Linux ABI
};

struct OwnedTaskNotice {
  TaskNotice fields;  // comm and siginfo are re-pointed by view()
  std::string comm;
  std::string siginfo;

  static OwnedTaskNotice from(const TaskNotice& n);
  // Points into this object: valid until it is modified or moved.
  TaskNotice view() const;
};

struct ProcessInfo {
  uint32_t pid = 0;
  uint32_t ppid = 0;
  std::string comm;
  std::vector<std::string> argv;
  uint32_t container = 0;
  uint64_t start_ns = 0;
  uint64_t exit_ns = 0;  // 0 while alive
  int32_t exit_status = 0;  // wait(2) status
};

}  // namespace traceloop::format
