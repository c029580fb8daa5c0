#include "format/published_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

namespace traceloop::format {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

std::filesystem::path temp_path_for(const std::filesystem::path& dest) {
  std::random_device random;
  char suffix[40];
  std::snprintf(suffix, sizeof(suffix), ".tmp.%d.%08x%08x", ::getpid(), random(), random());
  std::filesystem::path temp = dest;
  temp += suffix;
  return temp;
}

Result<UniqueFd> create_exclusive(const std::filesystem::path& path, const std::filesystem::path& shown_as,
                                  mode_t mode) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (fd.get() < 0) return Error{shown_as.string() + ": cannot create trace file: " + errno_text(errno)};
  if (::fchmod(fd.get(), mode) != 0) {
    const int err = errno;
    ::unlink(path.c_str());
    return Error{shown_as.string() + ": cannot set file mode: " + errno_text(err)};
  }
  return fd;
}

Result<void> write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{path.string() + ": write failed: " + errno_text(errno)};
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<void> publish_written(const std::filesystem::path& to, mode_t mode,
                             const std::function<Result<void>(int fd)>& write) {
  const auto temp = temp_path_for(to);
  auto out = create_exclusive(temp, to, mode);
  if (!out) return out.error();
  auto fail = [&](Error e) -> Result<void> {
    ::unlink(temp.c_str());
    return e;
  };
  if (auto r = write(out->get()); !r) return fail(r.error());
  if (::fsync(out->get()) != 0) return fail(Error{to.string() + ": fsync failed: " + errno_text(errno)});
  if (::rename(temp.c_str(), to.c_str()) != 0) return fail(Error{to.string() + ": " + errno_text(errno)});
  return {};
}

Result<void> publish_copy(const std::filesystem::path& from, const std::filesystem::path& to, mode_t mode) {
  UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return Error{from.string() + ": " + errno_text(errno)};
  return publish_written(to, mode, [&](int out) -> Result<void> {
    char buf[1 << 16];
    while (true) {
      const ssize_t n = ::read(in.get(), buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error{from.string() + ": read failed: " + errno_text(errno)};
      if (n == 0) return {};
      if (auto r = write_all(out, std::string_view(buf, static_cast<size_t>(n)), to); !r) return r.error();
    }
  });
}

}  // namespace traceloop::format
