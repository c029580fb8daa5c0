#pragma once
// How a writer of values learns what an fd number refers to (strace -y,
// -yy): the lookup, the process the value belongs to, and the form asked.
// A writer without one (lookup null) writes plain numbers and pays nothing.

#include <cstdint>
#include <optional>
#include <string_view>

#include "tools/lib/decoder/fd_path_lookup.h"

namespace traceloop::tools {

// -y: paths (and the kind of sockets and pipes); -yy: strace's detailed forms.
enum class FdPaths : uint8_t { off, paths, detailed };

struct FdContext {
  const FdPathLookup* lookup = nullptr;
  uint32_t pid = 0;
  bool detailed = false;

  // What `fd` names: as an argument, before the call; as the call's return
  // value (`result`), once it returned. nullopt when not known.
  std::optional<std::string_view> path(int64_t fd, bool result) const {
    if (lookup == nullptr) return std::nullopt;
    return result ? lookup->path_of_result(pid, fd, detailed) : lookup->path_of(pid, fd, detailed);
  }
};

}  // namespace traceloop::tools
