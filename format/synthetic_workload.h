#pragma once
// A deterministic generator of realistic syscall streams (a shell running
// ls, cat, bc, a dynamic loader start-up …) for benchmarks and tests that
// need millions of events without a recorder: the mixture of syscalls, path
// strings, short buffers, fd reuse, pointer locality and error rates of a
// typical container workload.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "format/catalogue.h"
#include "format/event.h"

namespace traceloop::format {

class SyntheticWorkload {
 public:
  // Numbers come from `catalogue` by name, so the stream fits its architecture.
  SyntheticWorkload(const Catalogue& catalogue, uint64_t seed, uint32_t max_data_bytes = 256);

  // The next event; the view stays valid until the next call.
  const Event& next();

 private:
  struct Process {
    uint32_t pid;
    std::string comm;
    uint64_t stack_base;
    uint64_t heap;
    int next_fd;
  };
  uint32_t nr(const char* name) const;
  void begin(uint32_t nr, std::initializer_list<uint64_t> args, int64_t ret, uint32_t duration_ns);
  void capture(uint8_t arg, std::string_view bytes, uint32_t size);
  void capture_string(uint8_t arg, std::string_view text);
  void new_process();
  std::string random_path();
  void plan_next();

  const Catalogue& catalogue_;
  std::mt19937_64 random_;
  uint32_t max_data_;
  uint64_t now_ns_ = 1'000'000'000;
  uint32_t next_pid_ = 4242;
  Process process_{};
  int step_ = 0;
  int phase_ = 0;
  std::vector<std::string> names_;
  // Storage for the current event's views.
  Event event_;
  std::string comm_;
  std::vector<std::string> capture_storage_;
  std::vector<CaptureView> captures_;
};

}  // namespace traceloop::format
