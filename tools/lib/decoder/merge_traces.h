#pragma once
// Several traces of one host made into one, events merged by time: the
// histories of several containers recorded side by side (`traceloop-record
// watch`), read as one story. Each input's containers become containers of
// the output, its events and losses keep pointing at them.

#include <filesystem>
#include <span>

#include "format/result.h"

namespace traceloop::tools {

// Inputs must come from one architecture (one catalogue is kept: the first
// input's, with every syscall any input uses). Streams: memory is bounded by
// one frame per input.
Result<void> merge_traces(std::span<const std::filesystem::path> inputs, const std::filesystem::path& output);

}  // namespace traceloop::tools
