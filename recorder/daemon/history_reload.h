#pragma once
// A history an earlier daemon kept on disk (history_journal.h), read back
// into a flight buffer and a process table: to go on with it (its container
// still runs) or to publish it (the container ended while no daemon ran).

#include <cstdint>
#include <filesystem>

#include "format/metadata.h"
#include "format/result.h"
#include "recorder/daemon/flight_buffer.h"
#include "recorder/process_tracker.h"

namespace traceloop::daemon {

struct ReloadedHistory {
  format::TraceMetadata metadata;  // the journal's (its newest segment's header)
  uint64_t events = 0;             // read back
  uint64_t last_ns = 0;            // enter time of the last one
};

// Reads the journal into `buffer` and `processes` (both fresh), seals what
// was read (it is on disk already: it must not go into the next frame
// written) and attaches the journal, whose new segments start with
// `metadata` (the journal's own when null). The events the history had lost
// to its budget before its first segment count as overwritten. What could
// not be read (a crash's torn frame) is said on stderr.
Result<ReloadedHistory> reload_history(const std::filesystem::path& journal_dir, FlightBuffer& buffer,
                                       recorder::ProcessTracker& processes, FlightCodec& codec,
                                       uint64_t segment_bytes, const format::TraceMetadata* metadata = nullptr);

// Whether the journal was written during this boot (`boot_to_wall_ns`: this
// boot's start on the wall clock): the times of another boot's events
// cannot go on in this one's.
bool journal_of_this_boot(const std::filesystem::path& journal_dir, int64_t boot_to_wall_ns);

}  // namespace traceloop::daemon
