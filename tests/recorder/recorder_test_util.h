#pragma once
// Helpers shared by the recorder integration tests: run traceloop-record,
// load its trace, find events by syscall name.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "format/catalogue.h"
#include "format/trace_reader.h"

namespace traceloop::recorder::testing {

struct CommandResult {
  int status = -1;  // exit status (128+sig when killed)
  std::string out;
  std::string err;
};

// Runs argv (no shell), capturing stdout and stderr.
CommandResult run_process(const std::vector<std::string>& argv);

std::filesystem::path binary_dir();
std::filesystem::path recorder_binary();
std::filesystem::path helper_binary(const std::string& name);

// A fresh directory under /tmp removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Skips (or fails when TRACELOOP_REQUIRE_BPF is set) when the kernel refuses BPF.
// Returns true when the test may go on.
bool bpf_available(std::string* why);

#define REQUIRE_BPF_OR_SKIP()                                                      \
  do {                                                                             \
    std::string why_;                                                              \
    if (!::traceloop::recorder::testing::bpf_available(&why_)) {                   \
      if (std::getenv("TRACELOOP_REQUIRE_BPF") != nullptr) FAIL() << why_;         \
      GTEST_SKIP() << why_;                                                        \
    }                                                                              \
  } while (0)

// Records argv with traceloop-record run (extra options before "--").
struct Recording {
  CommandResult result;
  format::LoadedTrace trace;
};
Recording record(const std::filesystem::path& output, const std::vector<std::string>& options,
                 const std::vector<std::string>& command);

const format::Catalogue& catalogue_of(const format::LoadedTrace& trace);
std::string name_of(const format::LoadedTrace& trace, const format::OwnedEvent& e);
std::vector<const format::OwnedEvent*> events_named(const format::LoadedTrace& trace, const std::string& name);
std::string capture_string(const format::Event& e, unsigned arg);  // bytes without trailing NUL
std::string dump(const format::LoadedTrace& trace, size_t max_lines = 400);  // for failure messages

}  // namespace traceloop::recorder::testing
