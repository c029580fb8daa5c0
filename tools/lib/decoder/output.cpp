#include "tools/lib/decoder/output.h"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>

namespace traceloop::tools {

bool color_wanted(int fd) {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  return isatty(fd) == 1;
}

void ignore_sigpipe() { std::signal(SIGPIPE, SIG_IGN); }

OutputSink::OutputSink(std::ostream& out, size_t flush_bytes) : out_(out), flush_bytes_(flush_bytes) {
  buffer_.reserve(flush_bytes + flush_bytes / 4);
}

OutputSink::~OutputSink() { flush(); }

bool OutputSink::flush() {
  if (closed_ || failed_) {
    buffer_.clear();
    return false;
  }
  if (!buffer_.empty()) {
    errno = 0;
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    out_.flush();
    buffer_.clear();
    if (!out_) {
      // The reader went away (`| head`): a normal end, not an error.
      if (errno == EPIPE)
        closed_ = true;
      else
        failed_ = true;
      return false;
    }
  }
  return true;
}

}  // namespace traceloop::tools
