#include "tools/lib/analyses/diff_normalise.h"

#include <gtest/gtest.h>

#include <cstring>

#include "format/metadata.h"
#include "tests/tools/stats_test_traces.h"

namespace traceloop::tools {
namespace {

using testing::kAtFdcwd;

// A decoder of the x86_64 catalogue and the normalisers of two processes, one per run.
struct Runs {
  explicit Runs(format::Arch arch = format::Arch::x86_64, uint32_t pid_a = 10, uint32_t pid_b = 20)
      : metadata(make_metadata(arch)), decoder(metadata), plans(decoder), a(plans, pid_a), b(plans, pid_b) {}
  static format::TraceMetadata make_metadata(format::Arch arch) {
    format::TraceMetadata m;
    m.catalogue = format::builtin_catalogue(arch);
    return m;
  }
  const format::Catalogue& c() const { return metadata.catalogue; }
  format::TraceMetadata metadata;
  Decoder decoder;
  KeyPlans plans;
  EventNormaliser a, b;
};

format::OwnedEvent owned(const format::Catalogue& c, std::string_view name, std::vector<uint64_t> args, int64_t ret,
                         std::vector<format::OwnedCapture> captures = {}) {
  format::OwnedEvent e;
  e.fields.nr = c.find(name)->nr;
  for (size_t i = 0; i < args.size(); ++i) e.fields.args[i] = args[i];
  e.fields.ret = ret;
  e.fields.state = format::CallState::returned;
  e.comm = "t";
  e.captures = std::move(captures);
  return e;
}

std::string nul_terminated(std::string_view s) { return std::string(s) + '\0'; }

// openat(AT_FDCWD, path) in each run.
bool same_open(std::string_view path_a, std::string_view path_b) {
  Runs r;
  const auto ca = nul_terminated(path_a), cb = nul_terminated(path_b);
  return r.a.key(owned(r.c(), "openat", {kAtFdcwd, 0x1000, 0, 0}, 3, {{1, static_cast<uint32_t>(ca.size()), ca}}).view()) ==
         r.b.key(owned(r.c(), "openat", {kAtFdcwd, 0x1000, 0, 0}, 3, {{1, static_cast<uint32_t>(cb.size()), cb}}).view());
}

// write(1, text) in each run.
bool same_write(std::string_view text_a, std::string_view text_b) {
  Runs r;
  const auto len = [](std::string_view s) { return static_cast<uint32_t>(s.size()); };
  return r.a.key(owned(r.c(), "write", {1, 0x1000, text_a.size()}, len(text_a), {{1, len(text_a), std::string(text_a)}}).view()) ==
         r.b.key(owned(r.c(), "write", {1, 0x1000, text_b.size()}, len(text_b), {{1, len(text_b), std::string(text_b)}}).view());
}

TEST(DiffNormalise, TempFileSuffixes) {
  EXPECT_TRUE(same_open("/tmp/file-3240", "/tmp/file-24581"));
  EXPECT_TRUE(same_open("/tmp/cache_981/x.12", "/tmp/cache_7/x.9"));
  EXPECT_TRUE(same_write("cat: can't open '/tmp/file-3240': No such file", "cat: can't open '/tmp/file-7': No such file"));
  EXPECT_FALSE(same_open("/tmp/file-3240", "/tmp/fill-3240"));
}

TEST(DiffNormalise, NumericPathComponentsOnlyInPaths) {
  EXPECT_TRUE(same_open("/proc/4242/status", "/proc/17/status"));
  EXPECT_TRUE(same_open("/proc/4242", "/proc/17"));
  EXPECT_FALSE(same_write("/proc/4242/status", "/proc/1717/status"));
}

TEST(DiffNormalise, KeepsMeaningfulNumbers) {
  EXPECT_FALSE(same_write("42\n", "43\n"));
  EXPECT_FALSE(same_write("3*7*2", "3*7*3"));
  EXPECT_FALSE(same_open("/usr/lib/x86_64/v2", "/usr/lib/x86_64/v3"));
  EXPECT_FALSE(same_open("file42", "file43"));
}

TEST(DiffNormalise, FdsAreRenumberedByFirstAppearance) {
  Runs r;
  const auto& c = r.c();
  const std::vector<format::OwnedCapture> etc = {{1, 12, std::string("/etc/passwd\0", 12)}};
  EXPECT_EQ(r.a.key(owned(c, "openat", {kAtFdcwd, 0x1000, 0, 0}, 3, etc).view()),
            r.b.key(owned(c, "openat", {kAtFdcwd, 0x2000, 0, 0}, 7, etc).view()));
  EXPECT_EQ(r.a.key(owned(c, "close", {3}, 0).view()), r.b.key(owned(c, "close", {7}, 0).view()));
  // A different fd than the one opened is a different key.
  EXPECT_NE(r.a.key(owned(c, "close", {4}, 0).view()), r.b.key(owned(c, "close", {7}, 0).view()));
  // Standard streams keep their numbers.
  EXPECT_NE(r.a.key(owned(c, "close", {1}, 0).view()), r.b.key(owned(c, "close", {2}, 0).view()));
  // The standard stream 1 is not the first fd opened.
  Runs s;
  EXPECT_NE(s.a.key(owned(c, "close", {1}, 0).view()), s.b.key(owned(c, "close", {5}, 0).view()));
}

TEST(DiffNormalise, PointersPidsAndErrors) {
  Runs r;
  const auto& c = r.c();
  EXPECT_EQ(r.a.key(owned(c, "brk", {0}, 0x55d0c8a3f000).view()), r.b.key(owned(c, "brk", {0}, 0x5612aa000000).view()));
  EXPECT_EQ(r.a.key(owned(c, "getpid", {}, 10).view()), r.b.key(owned(c, "getpid", {}, 20).view()));
  EXPECT_EQ(r.a.key(owned(c, "wait4", {11, 0x7ffc10, 0, 0}, 11).view()),
            r.b.key(owned(c, "wait4", {25, 0x7ffd20, 0, 0}, 25).view()));
  EXPECT_NE(r.a.key(owned(c, "openat", {kAtFdcwd, 0x1000, 0, 0}, -2).view()),
            r.b.key(owned(c, "openat", {kAtFdcwd, 0x1000, 0, 0}, -13).view()));
  // NULL is not an address.
  EXPECT_NE(r.a.key(owned(c, "brk", {0}, 0x55d0c8a3f000).view()), r.b.key(owned(c, "brk", {0x1000}, 0x5612aa000000).view()));
}

TEST(DiffNormalise, WriteOfATempNameIgnoresItsLength) {
  Runs r;
  const auto& c = r.c();
  const std::string m1 = "open '/tmp/file-3240' failed\n", m2 = "open '/tmp/file-24581' failed\n";
  const auto ka = r.a.key(owned(c, "write", {2, 0x1000, m1.size()}, static_cast<int64_t>(m1.size()),
                                {{1, static_cast<uint32_t>(m1.size()), m1}}).view());
  const auto kb = r.b.key(owned(c, "write", {2, 0x1000, m2.size()}, static_cast<int64_t>(m2.size()),
                                {{1, static_cast<uint32_t>(m2.size()), m2}}).view());
  EXPECT_EQ(ka, kb);
  // An ordinary write keeps its length.
  const auto k3 = r.a.key(owned(c, "write", {1, 0x1000, 3}, 3, {{1, 3, "42\n"}}).view());
  const auto k2 = r.b.key(owned(c, "write", {1, 0x1000, 3}, 2, {{1, 3, "42\n"}}).view());
  EXPECT_NE(k3, k2);
}

std::string int_bytes(int32_t a, int32_t b) {
  std::string s(8, '\0');
  std::memcpy(s.data(), &a, 4);
  std::memcpy(s.data() + 4, &b, 4);
  return s;
}

TEST(DiffNormaliseOutputs, WaitStatusCountsPipeFdsAreRenumberedStatIsDropped) {
  Runs r(format::Arch::x86_64, 1, 2);
  const auto& c = r.c();
  // A child's exit status is behaviour.
  const auto exit0 = owned(c, "wait4", {5, 0x1000, 0, 0}, 5, {{1, 4, int_bytes(0, 0).substr(0, 4)}});
  const auto exit1 = owned(c, "wait4", {6, 0x2000, 0, 0}, 6, {{1, 4, int_bytes(0x100, 0).substr(0, 4)}});
  EXPECT_NE(r.a.key(exit0.view()), r.b.key(exit1.view()));
  // Pipe fds are renumbered like any fd.
  Runs p(format::Arch::x86_64, 1, 2);
  EXPECT_EQ(p.a.key(owned(c, "pipe2", {0x1000, 0}, 0, {{0, 8, int_bytes(3, 4)}}).view()),
            p.b.key(owned(c, "pipe2", {0x2000, 0}, 0, {{0, 8, int_bytes(5, 6)}}).view()));
  EXPECT_NE(p.a.key(owned(c, "pipe2", {0x1000, 0}, 0, {{0, 8, int_bytes(7, 8)}}).view()),
            p.b.key(owned(c, "pipe2", {0x2000, 0}, 0, {{0, 8, int_bytes(6, 5)}}).view()));
  // stat results (inode numbers, times) are not compared.
  Runs s(format::Arch::x86_64, 1, 2);
  const std::vector<format::OwnedCapture> path = {{1, 5, std::string("/etc\0", 5)}};
  auto stat1 = owned(c, "newfstatat", {static_cast<uint64_t>(-100), 0x1000, 0x3000, 0}, 0, path);
  auto stat2 = stat1;
  stat1.captures.push_back({2, 144, std::string(144, '\1')});
  stat2.captures.push_back({2, 144, std::string(144, '\2')});
  EXPECT_EQ(s.a.key(stat1.view()), s.b.key(stat2.view()));
}

// The kernel's struct sigaction on x86_64: handler, flags, restorer, mask.
std::string sigaction_bytes(uint64_t handler, uint64_t flags, uint64_t restorer, uint64_t mask) {
  std::string s(32, '\0');
  std::memcpy(s.data(), &handler, 8);
  std::memcpy(s.data() + 8, &flags, 8);
  std::memcpy(s.data() + 16, &restorer, 8);
  std::memcpy(s.data() + 24, &mask, 8);
  return s;
}

constexpr uint64_t kSaRestorer = 0x04000000;

TEST(DiffNormaliseStructures, AddressesInsideStructuresAreMasked) {
  // bash's rt_sigaction(SIGINT, {sa_handler=..., sa_restorer=0x7feb54a2d050}, ...): the
  // handler and the restorer move with ASLR from run to run.
  Runs r;
  const auto& c = r.c();
  auto action = [&](uint64_t handler, uint64_t restorer, uint64_t mask, uint64_t act) {
    return owned(c, "rt_sigaction", {2, act, 0, 8}, 0,
                 {{1, 32, sigaction_bytes(handler, kSaRestorer | 0x10000000, restorer, mask)}});
  };
  EXPECT_EQ(r.a.key(action(0x55d0c8a1e2b0, 0x7feb54a2d050, 0, 0x7ffc1000).view()),
            r.b.key(action(0x5612aa0012b0, 0x7f01c2c4a050, 0, 0x7ffd2000).view()));
  // What the action does still counts: its mask, SIG_IGN rather than a handler.
  EXPECT_NE(r.a.key(action(0x55d0c8a1e2b0, 0x7feb54a2d050, 0, 0x7ffc1000).view()),
            r.b.key(action(0x5612aa0012b0, 0x7f01c2c4a050, 1 << 1, 0x7ffd2000).view()));
  EXPECT_NE(r.a.key(action(0x55d0c8a1e2b0, 0x7feb54a2d050, 0, 0x7ffc1000).view()),
            r.b.key(action(1, 0x7f01c2c4a050, 0, 0x7ffd2000).view()));
}

TEST(DiffNormaliseStructures, TimesAndRandomBytesAreMasked) {
  Runs r;
  const auto& c = r.c();
  auto timespec = [](int64_t sec, int64_t nsec) {
    std::string s(16, '\0');
    std::memcpy(s.data(), &sec, 8);
    std::memcpy(s.data() + 8, &nsec, 8);
    return s;
  };
  EXPECT_EQ(r.a.key(owned(c, "clock_nanosleep", {0, 0, 0x1000, 0}, 0, {{2, 16, timespec(1, 5000)}}).view()),
            r.b.key(owned(c, "clock_nanosleep", {0, 0, 0x2000, 0}, 0, {{2, 16, timespec(0, 70)}}).view()));
  EXPECT_EQ(r.a.key(owned(c, "getrandom", {0x1000, 8, 0}, 8, {{0, 8, "\x01\x02\x03\x04\x05\x06\x07\x08"}}).view()),
            r.b.key(owned(c, "getrandom", {0x2000, 8, 0}, 8, {{0, 8, "\x11\x12\x13\x14\x15\x16\x17\x18"}}).view()));
}

}  // namespace
}  // namespace traceloop::tools

namespace traceloop::tools {
namespace {

TEST(DiffNormaliseFlags, FlagsCompareByNameAcrossArchitectures) {
  // O_DIRECTORY is 0200000 on x86_64 and 040000 on aarch64.
  Runs x86(format::Arch::x86_64), arm(format::Arch::aarch64);
  const std::string dir = std::string("/etc\0", 5);
  const auto on_x86 = owned(x86.c(), "openat", {kAtFdcwd, 0x1000, 0200000, 0}, 3, {{1, 5, dir}});
  const auto on_arm = owned(arm.c(), "openat", {kAtFdcwd, 0x1000, 040000, 0}, 3, {{1, 5, dir}});
  EXPECT_EQ(x86.a.key(on_x86.view()), arm.b.key(on_arm.view()));
  const auto plain_arm = owned(arm.c(), "openat", {kAtFdcwd, 0x1000, 0, 0}, 3, {{1, 5, dir}});
  Runs arm2(format::Arch::aarch64);
  EXPECT_NE(x86.b.key(on_x86.view()), arm2.b.key(plain_arm.view()));
}

}  // namespace
}  // namespace traceloop::tools
