// tl-show --info: what a file knows besides its calls, read without
// decompressing its events.

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "format/trace_writer.h"
#include "tests/support/temp_dir.h"
#include "tests/tools/show_fixtures.h"
#include "tools/lib/decoder/show.h"
#include "tools/lib/decoder/trace_info.h"

namespace traceloop::tools {
namespace {

std::string text_of(const std::string& path) {
  auto info = read_trace_info(path);
  EXPECT_TRUE(info.ok()) << info.error().message;
  return info.ok() ? format_trace_info_text(*info, /*local_time=*/false) : std::string();
}

// The real `sh -c '... | bc > /tmp/file-$RANDOM ; cat /tmp/file-$RANDOM'` of
// the SPEC's first story: the command, the counters, and the process tree
// with cat's failure (exit 1) under the shell it replaced.
TEST(TraceInfo, RealRunTraceTellsCommandCountersAndProcessTree) {
  const std::string path = (testing::source_dir() / "testdata/real/multiplication.tl").string();
  const std::string text = text_of(path);
  EXPECT_NE(text.find("recorder   traceloop-record 0.1.0 (run)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("host       vm, Linux 6.18.44-fc-v509, x86_64\n"), std::string::npos) << text;
  EXPECT_NE(text.find("created    2026-11-22 04:59:51.083005 +0000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("command    sh -c \"RANDOM=output ; echo \\\"3*7*2\\\" | bc > /tmp/file-$RANDOM ; cat "
                      "/tmp/file-$RANDOM\"\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("capture    all syscalls; data up to 256 bytes per argument; ring 8 MiB\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("events     96 recorded, 0 lost\n"), std::string::npos) << text;
  EXPECT_NE(text.find("processes  3\n"
                      "  7019 cat /tmp/file-3240  (exited 1)\n"
                      "    7021 bc  (exited 0)\n"
                      "    7020 [sh]  (exited 0)\n"),
            std::string::npos)
      << text;
}

TEST(TraceInfo, ContainerMetadataFromADaemonTrace) {
  const std::string text = text_of((testing::source_dir() / "testdata/analysis/real/container-ls.tl").string());
  EXPECT_NE(text.find("container  ls-demo (ls)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  runtime     runc\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  pod         test/lister, container ls\n"), std::string::npos) << text;
  EXPECT_NE(text.find("budget 4 MiB per container"), std::string::npos) << text;
  EXPECT_NE(text.find("      22499 sh -c \"ls -l /bin | grep mv\"  (exited 0)\n"), std::string::npos) << text;
}

// Everything a container chose is escaped; a signal's death is named; a
// table whose parents loop (pids reused) still prints each process once.
TEST(TraceInfo, HostileNamesAreEscapedSignalsNamedAndParentLoopsEnd) {
  testing::TempDir dir;
  const auto path = dir / "hostile.tl";
  format::TraceMetadata m;
  format::fill_host_metadata(m);
  m.catalogue = format::builtin_catalogue(format::host_arch());
  format::ContainerInfo c;
  c.id = "c1";
  c.name = "evil\x1b]0;title\x07";
  c.image = "img\nnext-line";
  c.labels = {{"k\x9b", "v"}};
  m.containers.push_back(c);
  auto writer = format::TraceWriter::create(path, m);
  ASSERT_TRUE(writer.ok()) << writer.error().message;
  std::vector<format::ProcessInfo> processes(3);
  processes[0] = {10, 11, "a", {"prog", "arg with\x1b[31m escape"}, 0, 1, 5, SIGSEGV | 0x80};
  processes[1] = {11, 10, "b", {}, 0, 2, 6, SIGKILL};
  processes[2] = {12, 10, "c", {"c"}, 0, 3, 0, 0};
  ASSERT_TRUE(writer->append_processes(processes).ok());
  ASSERT_TRUE(writer->finish().ok());

  const std::string text = text_of(path.string());
  for (char ch : text) EXPECT_FALSE(ch == '\x1b' || ch == '\x07') << text;
  EXPECT_EQ(text.find("\x9b"), std::string::npos) << text;
  EXPECT_NE(text.find("container  c1 (evil\\33]0;title\\7)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  image       img\\nnext-line\n"), std::string::npos) << text;
  EXPECT_NE(text.find("prog \"arg with\\33[31m escape\"  (killed by SIGSEGV (core dumped))"), std::string::npos) << text;
  EXPECT_NE(text.find("11 [b]  (killed by SIGKILL)"), std::string::npos) << text;
  EXPECT_NE(text.find("12 c  (no exit recorded)"), std::string::npos) << text;
  for (const char* pid : {" 10 ", " 11 ", " 12 "}) {
    const size_t first = text.find(pid);
    EXPECT_NE(first, std::string::npos) << pid << text;
    EXPECT_EQ(text.find(pid, first + 1), std::string::npos) << pid << " twice:\n" << text;
  }

  auto info = read_trace_info(path.string());
  ASSERT_TRUE(info.ok());
  const std::string json = format_trace_info_json(*info);
  EXPECT_NE(json.find("\"exit\":{\"signal\":\"SIGSEGV\",\"core_dumped\":true}"), std::string::npos) << json;
  EXPECT_NE(json.find("\"exit\":{\"signal\":\"SIGKILL\",\"core_dumped\":false}"), std::string::npos) << json;
  EXPECT_NE(json.find("\"exit\":null"), std::string::npos) << json;
  EXPECT_NE(json.find("\"name\":\"evil\\u001b]0;title\\u0007\""), std::string::npos) << json;
}

// The JSON is one object that jq reads, with the fields scripts want.
TEST(TraceInfo, JsonIsReadByJq) {
  testing::TempDir dir;
  const std::string path = (testing::source_dir() / "testdata/real/multiplication.tl").string();
  ShowOptions options;
  options.path = path;
  options.info = true;
  options.render.format = OutputFormat::json;
  std::ostringstream out, err;
  ASSERT_EQ(run_show(options, out, err), 0) << err.str();
  const auto json_file = dir / "info.json";
  std::ofstream(json_file) << out.str();
  const std::string command = "jq -r '[.host, .capture.mode, (.counters.events_recorded|tostring), "
                              "(.processes|length|tostring), (.processes[] | select(.comm == \"cat\") | "
                              ".exit.code | tostring)] | join(\" \")' " +
                              json_file.string();
  FILE* jq = ::popen(command.c_str(), "r");
  ASSERT_NE(jq, nullptr);
  char line[256] = {};
  const bool got = std::fgets(line, sizeof(line), jq) != nullptr;
  ASSERT_EQ(::pclose(jq), 0) << "jq failed on:\n" << out.str();
  ASSERT_TRUE(got);
  EXPECT_STREQ(line, "vm run 96 3 1\n");
}

// The real binary: `tl-show --info` and `--info -f json` on a real trace.
TEST(TraceInfo, TheBinaryTakesInfo) {
  const auto tl_show = testing::binary_dir() / "tools" / "tl-show";
  if (!std::filesystem::exists(tl_show)) GTEST_SKIP() << "no tl-show binary at " << tl_show;
  testing::TempDir dir;
  const std::string trace = (testing::source_dir() / "testdata/real/multiplication.tl").string();
  const auto out = dir / "out";
  ASSERT_EQ(std::system((tl_show.string() + " --info " + trace + " >" + out.string()).c_str()), 0);
  std::ifstream text(out);
  const std::string printed((std::istreambuf_iterator<char>(text)), {});
  EXPECT_NE(printed.find("events     96 recorded, 0 lost\n"), std::string::npos) << printed;
  ASSERT_EQ(std::system((tl_show.string() + " --info -f json " + trace + " >" + out.string()).c_str()), 0);
  std::ifstream json(out);
  const std::string object((std::istreambuf_iterator<char>(json)), {});
  EXPECT_EQ(object.rfind("{\"file\":", 0), 0u) << object;
}

// A file cut short (no trailer) says what it has and that counters are unknown.
TEST(TraceInfo, FileCutShortSaysCountersAreUnknown) {
  testing::TempDir dir;
  const auto src = testing::source_dir() / "testdata/analysis/real/storm.tl";
  const auto cut = dir / "cut.tl";
  std::ifstream in(src, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  ASSERT_GT(bytes.size(), 4000u);
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() * 2 / 3);
  auto info = read_trace_info(cut.string());
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_FALSE(info->counters.has_value());
  EXPECT_FALSE(info->warnings.empty());
  const std::string text = format_trace_info_text(*info, false);
  EXPECT_NE(text.find("in this file (no trailer: counters unknown)"), std::string::npos) << text;
}

}  // namespace
}  // namespace traceloop::tools
