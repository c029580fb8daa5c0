#pragma once
// Files published atomically beside their destination: written under a
// temporary name in the destination's directory that no one can predict,
// created with O_EXCL (so an existing name, a symlink included, is never
// opened or followed), made durable, then renamed over the destination.
// Traces and copies of them are written this way and nothing else.

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <string_view>

#include "format/result.h"
#include "format/unique_fd.h"

namespace traceloop::format {

// DEST.tmp.PID.RANDOM: in DEST's directory, so that the final rename is atomic.
std::filesystem::path temp_path_for(const std::filesystem::path& dest);

// Creates `path`, which must not exist, with exactly `mode` (whatever the
// umask). Errors name `shown_as`, the file the user asked for.
Result<UniqueFd> create_exclusive(const std::filesystem::path& path, const std::filesystem::path& shown_as,
                                  mode_t mode);

// Every byte, through short writes and EINTR; errors name `path`.
Result<void> write_all(int fd, std::string_view bytes, const std::filesystem::path& path);

// Publishes `to` as above, with `mode`, holding what `write` writes to the
// temporary file's descriptor; on any failure nothing is left behind.
Result<void> publish_written(const std::filesystem::path& to, mode_t mode,
                             const std::function<Result<void>(int fd)>& write);

// Copies the file `from` to `to` as above, with `mode`.
Result<void> publish_copy(const std::filesystem::path& from, const std::filesystem::path& to, mode_t mode);

}  // namespace traceloop::format
