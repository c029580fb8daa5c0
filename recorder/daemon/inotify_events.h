#pragma once
// Drains a non-blocking inotify descriptor, one event at a time.

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>

namespace traceloop::daemon {

template <typename OnEvent>
void drain_inotify(int fd, OnEvent&& on_event) {
  alignas(inotify_event) char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (const char* p = buf; p < buf + n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(p);
      p += sizeof(inotify_event) + event->len;
      on_event(*event);
    }
  }
}

}  // namespace traceloop::daemon
