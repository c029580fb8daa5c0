#pragma once
// The daemon-wide cap across all containers' histories.

#include <cstdint>
#include <span>

#include "recorder/daemon/flight_buffer.h"

namespace traceloop::daemon {

// While the buffers together with `other_bytes` (what the budget counts but
// cannot drop: process tables, histories being written) hold more than
// `total_bytes`, drops the oldest frame of the buffer holding the most: a
// noisy container pays for the overflow before a quiet one loses anything.
// When only open batches are left, the largest is sealed (compressed), then
// dropped if that is not enough. Returns the frames dropped.
uint64_t enforce_total_budget(std::span<FlightBuffer* const> buffers, uint64_t total_bytes, FlightCodec& codec,
                              uint64_t other_bytes = 0);

}  // namespace traceloop::daemon
