#pragma once
// What the daemon's integration tests look for in a saved history, and how
// they wait for it: polling with an upper bound, never a fixed sleep.

#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include "format/trace_reader.h"

namespace traceloop::daemon::test_env {

template <typename F>
bool wait_for(F condition, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

inline std::string name_of(const format::TraceMetadata& m, const format::Event& e) {
  const format::SyscallSpec* s = m.catalogue.find(e.nr);
  return s ? s->name : std::to_string(e.nr);
}

// The bytes captured for argument `arg`, without a string's NUL.
inline std::string capture_text(const format::Event& e, unsigned arg) {
  const format::CaptureView* c = e.capture_for(arg);
  std::string text = c ? std::string(c->bytes) : std::string();
  while (!text.empty() && text.back() == '\0') text.pop_back();
  return text;
}

// Whether some write of `trace` starts with `text`.
inline bool has_write(const format::LoadedTrace& trace, std::string_view text) {
  for (const auto& owned : trace.events) {
    format::Event e = owned.view();
    if (name_of(trace.metadata, e) == "write" && capture_text(e, 1).rfind(text, 0) == 0) return true;
  }
  return false;
}

}  // namespace traceloop::daemon::test_env
