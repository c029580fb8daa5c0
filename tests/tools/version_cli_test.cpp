// --version on every tl-* binary: the build's version and the trace format
// versions it writes and reads (traceloop-record's is tested with the
// recorder, tests/recorder/record_run_test.cpp).

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "format/metadata.h"
#include "format/version_text.h"
#include "tests/tools/show_fixtures.h"

namespace traceloop::tools {
namespace {

namespace fs = std::filesystem;

struct Ran {
  int status;
  std::string out;
};

Ran run(const fs::path& binary, const std::string& args) {
  const std::string command = "'" + binary.string() + "' " + args + " 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  std::string out;
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) out.append(buffer.data(), n);
  const int status = pclose(pipe.release());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(VersionCli, EveryToolNamesItsVersionAndTheFormatsItReads) {
  const std::string current =
      "trace format " + std::to_string(format::kFormatMajor) + "." + std::to_string(format::kFormatMinor);
  const std::string reads = "reads formats " + std::to_string(format::kOldestFormatMajor) + ".0 to " +
                            std::to_string(format::kFormatMajor) + ".x";
  for (const auto& [tool, writes] : {std::pair{"tl-show", false}, std::pair{"tl-grep", true},
                                     std::pair{"tl-diff", false}, std::pair{"tl-stats", false}}) {
    const fs::path binary = testing::binary_dir() / "tools" / tool;
    ASSERT_TRUE(fs::exists(binary)) << binary;
    const auto r = run(binary, "--version");
    EXPECT_EQ(r.status, 0) << tool;
    EXPECT_EQ(r.out, format::version_text(tool, writes) + "\n") << tool;
    EXPECT_EQ(r.out.rfind(std::string(tool) + " " + std::string(format::traceloop_version()) + "\n", 0), 0u)
        << r.out;
    EXPECT_NE(r.out.find(current), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(reads), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("writes it") != std::string::npos, writes) << r.out;
  }
}

}  // namespace
}  // namespace traceloop::tools
