// What run -p reads from /proc, on a procfs tree made for the test: thread
// ids name their process, missing ids are refused by name, and the calls the
// threads are blocked in are parsed from their syscall files.
#include "recorder/attached_process.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/recorder/recorder_test_util.h"

namespace traceloop::recorder {
namespace {

namespace fs = std::filesystem;
using traceloop::recorder::testing::TempDir;

void put(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

void fake_process(const fs::path& proc, int tgid, int ppid, const std::string& comm, const std::string& cmdline) {
  const fs::path dir = proc / std::to_string(tgid);
  put(dir / "status", "Name:\t" + comm + "\nTgid:\t" + std::to_string(tgid) + "\nPid:\t" + std::to_string(tgid) +
                          "\nPPid:\t" + std::to_string(ppid) + "\n");
  put(dir / "comm", comm + "\n");
  put(dir / "cmdline", cmdline);
}

TEST(AttachedProcess, AThreadIdNamesItsProcessOnce) {
  TempDir dir;
  const fs::path proc = dir.path();
  fake_process(proc, 100, 1, "server", std::string("/usr/bin/server\0--port\0" "8080\0", 28));
  put(proc / "101" / "status", "Name:\tworker\nTgid:\t100\nPid:\t101\nPPid:\t1\n");
  fake_process(proc, 200, 100, "child", std::string("child\0", 6));
  auto found = find_attached_processes({101, 100, 200}, 1, proc);
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].tgid, 100u);
  EXPECT_EQ((*found)[0].ppid, 1u);
  EXPECT_EQ((*found)[0].comm, "server");
  EXPECT_EQ((*found)[0].argv, (std::vector<std::string>{"/usr/bin/server", "--port", "8080"}));
  EXPECT_EQ(command_line((*found)[0].argv), "/usr/bin/server --port 8080");
  EXPECT_EQ((*found)[1].tgid, 200u);
  EXPECT_EQ((*found)[1].ppid, 100u);
}

TEST(AttachedProcess, RefusesMissingIdsAndItself) {
  TempDir dir;
  fake_process(dir.path(), 100, 1, "server", "");
  auto missing = find_attached_processes({100, 7}, 1, dir.path());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "no such process: 7");
  auto self = find_attached_processes({100}, 100, dir.path());
  ASSERT_FALSE(self.ok());
  EXPECT_NE(self.error().message.find("recorder itself"), std::string::npos);
  auto zero = find_attached_processes({0}, 1, dir.path());
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().message, "not a process id: 0");
}

TEST(AttachedProcess, BlockedCallsOnlyOfThreadsInASyscall) {
  TempDir dir;
  const fs::path task = dir.path() / "100" / "task";
  put(task / "100" / "syscall", "0 0x3 0x7ff3fba1ce60 0x40 0x0 0x0 0x0 0x7ffe1000 0x7f1200\n");
  put(task / "100" / "comm", "reader\n");
  put(task / "101" / "syscall", "running\n");
  put(task / "102" / "syscall", "-1 0x7ffe1000 0x7f1200\n");
  put(task / "103" / "syscall", "7 0x1\n");  // cut short: not trusted
  auto calls = blocked_calls(100, dir.path());
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].tid, 100u);
  EXPECT_EQ(calls[0].nr, 0u);
  EXPECT_EQ(calls[0].args[0], 3u);
  EXPECT_EQ(calls[0].args[1], 0x7ff3fba1ce60u);
  EXPECT_EQ(calls[0].args[2], 0x40u);
  EXPECT_EQ(calls[0].comm, "reader");
}

}  // namespace
}  // namespace traceloop::recorder
