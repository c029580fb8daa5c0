#include "recorder/daemon/total_budget.h"

namespace traceloop::daemon {

uint64_t enforce_total_budget(std::span<FlightBuffer* const> buffers, uint64_t total_bytes) {
  uint64_t held = 0;
  for (const FlightBuffer* b : buffers) held += b->bytes();
  uint64_t dropped = 0;
  while (held > total_bytes) {
    FlightBuffer* largest = nullptr;
    for (FlightBuffer* b : buffers)
      if (b->frame_count() > 0 && (largest == nullptr || b->bytes() > largest->bytes())) largest = b;
    if (largest == nullptr) break;  // only open batches left: nothing sealed to drop
    uint64_t before = largest->bytes();
    largest->drop_oldest();
    held -= before - largest->bytes();
    ++dropped;
  }
  return dropped;
}

}  // namespace traceloop::daemon
