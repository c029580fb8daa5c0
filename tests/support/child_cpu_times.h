#pragma once
// A child's CPU times in a SIGCHLD differ from run to run, and so do the
// seconds strace writes after a nonzero one (`si_utime=1 /* 0.01 s */`):
// masked, to compare the lines of two runs.

#include <regex>
#include <string>

namespace traceloop::testing {

inline std::string mask_child_cpu_times(const std::string& line) {
  static const std::regex kTimes(R"(si_utime=\d+(?: /\* [\d.]+ s \*/)?, si_stime=\d+(?: /\* [\d.]+ s \*/)?)");
  return std::regex_replace(line, kTimes, "si_utime=T, si_stime=T");
}

}  // namespace traceloop::testing
