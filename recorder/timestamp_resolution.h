#pragma once
// --timestamp-resolution of `traceloop-record run` and `daemon`.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace traceloop::recorder {

// Microseconds by default: what strace prints (-tt, -T), and the nanoseconds
// of a syscall's enter and exit times are noise that costs ~1.5 bytes per
// event to keep (see format CaptureSettings::timestamp_resolution_ns).
inline constexpr uint32_t kDefaultTimestampResolutionNs = 1000;

// Nanoseconds per unit, by the names the option takes.
inline const std::map<std::string, uint32_t>& timestamp_resolutions() {
  static const std::map<std::string, uint32_t> units{{"ns", 1}, {"us", 1000}, {"ms", 1000000}};
  return units;
}

// The option, on `run` and on `daemon`.
inline CLI::Option* add_timestamp_resolution_option(CLI::App& app, uint32_t& resolution_ns) {
  return app
      .add_option("--timestamp-resolution", resolution_ns,
                  "resolution of event times: ns, us (default, as strace shows them) or ms")
      ->transform(CLI::CheckedTransformer(timestamp_resolutions()))
      ->default_str("us")
      ->option_text("ns|us|ms");
}

}  // namespace traceloop::recorder
