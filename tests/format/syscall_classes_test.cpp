// The classes of the built-in tables against strace's own: every syscall of
// the host's table is made once (tl_every_syscall, each failing with ENOSYS
// under seccomp) under `strace -e trace=%CLASS`, and what strace printed
// must be the class's members in our table. Syscalls newer than the
// installed strace (it prints them as syscall_0x...) are left out of the
// comparison: their classes come from later strace releases.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "format/catalogue.h"
#include "format/syscall_set.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace traceloop::format {
namespace {

const char* const kClasses[] = {"%desc",  "%file",  "%ipc",   "%network", "%process", "%signal",
                                "%memory", "%creds", "%clock", "%stat",    "%lstat",   "%fstat",
                                "%%stat", "%statfs", "%fstatfs", "%%statfs", "%pure"};

std::string probe_binary() { return std::string(TRACELOOP_TEST_BINARY_DIR) + "/tests/format/tl_every_syscall"; }

std::string strace_binary() {
  for (const char* p : {"/usr/bin/strace", "/bin/strace"})
    if (std::ifstream(p).good()) return p;
  return "";
}

// The names strace printed as failing with ENOSYS (the probe's calls).
std::set<std::string> traced_by_strace(const std::string& expression, const std::vector<std::string>& numbers,
                                       const std::filesystem::path& dir) {
  const auto out = dir / "strace.txt";
  std::vector<std::string> argv{strace_binary(), "-qq", "-e", "trace=" + expression, "-o", out.string(),
                                probe_binary()};
  argv.insert(argv.end(), numbers.begin(), numbers.end());
  const auto run = testing::run_command(argv);
  // The probe ends killed by SIGSYS (see tl_every_syscall.cpp).
  EXPECT_NE(run.status, 0) << run.output;
  std::set<std::string> names;
  std::ifstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.find("= -1 ENOSYS") == std::string::npos) continue;
    names.insert(line.substr(0, line.find('(')));
  }
  return names;
}

TEST(SyscallClasses, EachClassIsWhatStraceTraces) {
  ASSERT_FALSE(strace_binary().empty()) << "strace is not installed (scripts/setup.sh installs it)";
  const Catalogue& catalogue = builtin_catalogue(host_arch());
  std::vector<std::string> numbers;
  for (const SyscallSpec& spec : catalogue.syscalls()) {
    // The kernel runs these two past seccomp: called from anywhere but
    // their trampoline, they kill the caller.
    if (spec.name == "uretprobe" || spec.name == "uprobe") continue;
    numbers.push_back(std::to_string(spec.nr));
  }
  testing::TempDir dir;
  std::set<std::string> known;  // the names this strace knows
  for (const auto& name : traced_by_strace("all", numbers, dir.path()))
    if (!name.starts_with("syscall_")) known.insert(name);
  ASSERT_GT(known.size(), 300u) << "strace printed too few of the probe's calls";
  for (const char* cls : kClasses) {
    SCOPED_TRACE(cls);
    std::set<std::string> strace_set;
    for (const auto& name : traced_by_strace(cls, numbers, dir.path()))
      if (!name.starts_with("syscall_")) strace_set.insert(name);
    auto ours = SyscallSet::parse(cls, catalogue);
    ASSERT_TRUE(ours.ok()) << ours.error().message;
    std::set<std::string> our_set;
    for (const SyscallSpec& spec : catalogue.syscalls())
      if (ours->contains(spec.nr) && known.count(spec.name)) our_set.insert(spec.name);
    EXPECT_FALSE(strace_set.empty());
    EXPECT_EQ(our_set, strace_set);
  }
}

// One source per fact: a syscall has the same classes on every architecture
// (the `class` lines name syscalls, not numbers).
TEST(SyscallClasses, SameByNameOnEveryArchitecture) {
  const Catalogue& x86 = builtin_catalogue(Arch::x86_64);
  const Catalogue& arm = builtin_catalogue(Arch::aarch64);
  size_t classed = 0;
  for (const SyscallSpec& spec : arm.syscalls()) {
    const SyscallSpec* other = x86.find(spec.name);
    if (other == nullptr) continue;
    EXPECT_EQ(builtin_syscall_classes(Arch::aarch64, spec.nr), builtin_syscall_classes(Arch::x86_64, other->nr))
        << spec.name;
    if (builtin_syscall_classes(Arch::aarch64, spec.nr) != 0) ++classed;
  }
  EXPECT_GT(classed, 150u);
  EXPECT_EQ(builtin_syscall_classes(Arch::aarch64, arm.find("openat")->nr), kClassDesc | kClassFile);
}

}  // namespace
}  // namespace traceloop::format
