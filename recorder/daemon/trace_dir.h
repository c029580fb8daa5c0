#pragma once
// The daemon's trace directory, checked before anything is recorded into it.

#include <filesystem>

#include "format/result.h"

namespace traceloop::daemon {

// A missing DIR is created with mode 0700 (traces hold secrets). An existing
// one is used as it is, never chmodded (`--dir /tmp` must not lock every user
// out of /tmp), but refused when it is unsafe: not a directory, not owned by
// this user, or writable by anyone else (who could then plant or remove
// names beside the traces). A DIR that cannot be written (a read-only mount)
// is refused too: every history would be lost at publication.
Result<void> prepare_trace_dir(const std::filesystem::path& dir);

}  // namespace traceloop::daemon
