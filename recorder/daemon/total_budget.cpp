#include "recorder/daemon/total_budget.h"

namespace traceloop::daemon {

uint64_t enforce_total_budget(std::span<FlightBuffer* const> buffers, uint64_t total_bytes, FlightCodec& codec,
                              uint64_t other_bytes) {
  uint64_t held = other_bytes;
  for (const FlightBuffer* b : buffers) held += b->bytes();
  uint64_t dropped = 0;
  while (held > total_bytes) {
    FlightBuffer* largest = nullptr;
    for (FlightBuffer* b : buffers)
      if (b->frame_count() > 0 && (largest == nullptr || b->bytes() > largest->bytes())) largest = b;
    if (largest == nullptr) {
      // Only open batches left: the largest becomes a frame, a fraction of
      // its size and droppable.
      for (FlightBuffer* b : buffers)
        if (b->events_held() > 0 && (largest == nullptr || b->bytes() > largest->bytes())) largest = b;
      if (largest == nullptr) break;  // nothing left to give
      const uint64_t before = largest->bytes();
      largest->seal(codec);
      held = held - before + largest->bytes();
      if (largest->frame_count() == 0) break;
      continue;
    }
    uint64_t before = largest->bytes();
    largest->drop_oldest();
    held -= before - largest->bytes();
    ++dropped;
  }
  return dropped;
}

}  // namespace traceloop::daemon
