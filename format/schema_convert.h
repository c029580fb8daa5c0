#pragma once
// Conversions between the public metadata types and the Cap'n Proto schema.
// Internal to format/. Readers treat every message as hostile: counts are
// capped, enums range-checked, strings bounded.

#include <vector>

#include "format/event.h"
#include "format/metadata.h"
#include "format/result.h"
#include "trace.capnp.h"

namespace traceloop::format::detail {

void to_schema(const TraceMetadata& metadata, schema::Header::Builder out);
Result<TraceMetadata> from_schema(schema::Header::Reader in);

void to_schema(const std::vector<ProcessInfo>& processes, schema::ProcessTable::Builder out);
Result<std::vector<ProcessInfo>> from_schema(schema::ProcessTable::Reader in);

void to_schema(const Counters& counters, schema::Trailer::Builder out);
Counters from_schema(schema::Trailer::Reader in);

}  // namespace traceloop::format::detail
