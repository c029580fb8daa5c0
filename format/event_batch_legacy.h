#pragma once
// Decoding of the column encodings traceloop no longer writes (formats 1 to
// 3: EventBatch.columnEncoding 0, 1 and 2). Frozen: files already written
// must keep reading as they did, whatever becomes of the current encoding and
// its predictions (event_batch.cpp). Internal to format/.

#include <cstddef>
#include <cstdint>

#include "format/event_batch.h"
#include "format/result.h"
#include "trace.capnp.h"

namespace traceloop::format::detail {

// Column encodings (EventBatch.columnEncoding) of earlier formats.
inline constexpr uint8_t kColumnsV1 = 0;         // format 1: plain deltas
inline constexpr uint8_t kColumnsPredicted = 1;  // format 2: per-syscall and per-thread predictions
inline constexpr uint8_t kColumnsRepeats = 2;    // format 3: 1, captures seen before by reference, arguments coded
// The encodings written today (event_batch.cpp).
inline constexpr uint8_t kColumnsGrouped = 3;
// 3 with the captured bytes in CaptureBytes messages of their own, each
// holding those of a run of events (a compacted trace's captures frames).
inline constexpr uint8_t kColumnsParted = 4;

class LegacyBatchDecoder {
 public:
  // Fills `out`'s per-event columns, captures and arguments from a batch of
  // encoding 0 to 2 (comms and losses are the caller's: every encoding has
  // them alike). `message_bytes`: the message's size, the bound of any count.
  static Result<void> decode(schema::EventBatch::Reader batch, uint8_t encoding, size_t message_bytes,
                             DecodedBatch& out);
};

}  // namespace traceloop::format::detail
