#include "recorder/daemon/trace_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "format/published_file.h"

namespace traceloop::daemon {

namespace fs = std::filesystem;

namespace {

std::string octal(mode_t mode) {
  char text[16];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

}  // namespace

Result<void> prepare_trace_dir(const fs::path& dir) {
  const std::string shown = dir.string();
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return Error{shown + ": " + std::strerror(errno)};
    std::error_code ec;
    if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);
    if (ec) return Error{dir.parent_path().string() + ": " + ec.message()};
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return Error{shown + ": " + std::strerror(errno)};
    if (::chmod(dir.c_str(), 0700) != 0)  // ours, just made: the umask may not narrow or widen it
      return Error{shown + ": " + std::strerror(errno)};
    if (::stat(dir.c_str(), &st) != 0) return Error{shown + ": " + std::strerror(errno)};
  }
  if (!S_ISDIR(st.st_mode)) return Error{shown + ": not a directory"};
  if (st.st_uid != ::geteuid())
    return Error{shown + ": owned by uid " + std::to_string(st.st_uid) +
                 ", not by the daemon's user: choose a directory of its own"};
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    return Error{shown + ": writable by others (mode " + octal(st.st_mode) +
                 "): choose a directory only the daemon's user can write, traces hold secrets"};
  // Written once now rather than lost at the first publication.
  const fs::path probe = format::temp_path_for(dir / ".write-test");
  auto fd = format::create_exclusive(probe, dir, 0600);
  if (!fd) return fd.error();
  ::unlink(probe.c_str());
  return {};
}

}  // namespace traceloop::daemon
