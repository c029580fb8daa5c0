#pragma once
// The daemon-wide cap across all containers' histories.

#include <cstdint>
#include <span>

#include "recorder/daemon/flight_buffer.h"

namespace traceloop::daemon {

// While the buffers together hold more than `total_bytes`, drops the oldest
// frame of the buffer holding the most: a noisy container pays for the
// overflow before a quiet one loses anything. Returns the frames dropped.
uint64_t enforce_total_budget(std::span<FlightBuffer* const> buffers, uint64_t total_bytes);

}  // namespace traceloop::daemon
