#include "tools/lib/analyses/diff_normalise.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tests/tools/stats_test_traces.h"

namespace traceloop::tools {
namespace {

using testing::kAtFdcwd;

std::string normalised(std::string_view text, bool path) {
  std::string out;
  append_normalised_text(out, text, path);
  return out;
}

TEST(DiffNormalise, TempFileSuffixes) {
  EXPECT_EQ(normalised("/tmp/file-3240", true), "/tmp/file-#");
  EXPECT_EQ(normalised("/tmp/file-24581", true), "/tmp/file-#");
  EXPECT_EQ(normalised("/tmp/cache_981/x.12", true), "/tmp/cache_#/x.#");
  EXPECT_EQ(normalised("cat: can't open '/tmp/file-3240': No such file", false), "cat: can't open '/tmp/file-#': No such file");
}

TEST(DiffNormalise, NumericPathComponentsOnlyInPaths) {
  EXPECT_EQ(normalised("/proc/4242/status", true), "/proc/#/status");
  EXPECT_EQ(normalised("/proc/4242", true), "/proc/#");
  EXPECT_EQ(normalised("/proc/4242/status", false), "/proc/4242/status");
}

TEST(DiffNormalise, KeepsMeaningfulNumbers) {
  EXPECT_EQ(normalised("42\n", false), "42\n");
  EXPECT_EQ(normalised("3*7*2", false), "3*7*2");
  EXPECT_EQ(normalised("/usr/lib/x86_64/v2", true), "/usr/lib/x86_64/v2");
  EXPECT_EQ(normalised("file42", true), "file42");
}

format::Event event_of(const format::Catalogue& c, std::string_view name, std::initializer_list<uint64_t> args,
                       int64_t ret, format::OwnedEvent& storage, std::vector<format::OwnedCapture> captures = {}) {
  storage = {};
  storage.fields.nr = c.find(name)->nr;
  size_t i = 0;
  for (uint64_t a : args) storage.fields.args[i++] = a;
  storage.fields.ret = ret;
  storage.fields.state = format::CallState::returned;
  storage.comm = "t";
  storage.captures = std::move(captures);
  return storage.view();
}

TEST(DiffNormalise, FdsAreRenumberedByFirstAppearance) {
  const auto& c = format::builtin_catalogue(format::Arch::x86_64);
  format::OwnedEvent s;
  EventNormaliser a(c, 10), b(c, 20);
  const std::vector<format::OwnedCapture> etc = {{1, 12, std::string("/etc/passwd\0", 12)}};
  EXPECT_EQ(a.key(event_of(c, "openat", {kAtFdcwd, 0x1000, 0, 0}, 3, s, etc)),
            b.key(event_of(c, "openat", {kAtFdcwd, 0x2000, 0, 0}, 7, s, etc)));
  EXPECT_EQ(a.key(event_of(c, "close", {3}, 0, s)), b.key(event_of(c, "close", {7}, 0, s)));
  // A different fd than the one opened is a different key.
  EXPECT_NE(a.key(event_of(c, "close", {4}, 0, s)), b.key(event_of(c, "close", {7}, 0, s)));
  // Standard streams keep their numbers.
  EXPECT_NE(a.key(event_of(c, "close", {1}, 0, s)), b.key(event_of(c, "close", {2}, 0, s)));
}

TEST(DiffNormalise, PointersPidsAndErrors) {
  const auto& c = format::builtin_catalogue(format::Arch::x86_64);
  format::OwnedEvent s;
  EventNormaliser a(c, 10), b(c, 20);
  EXPECT_EQ(a.key(event_of(c, "brk", {0}, 0x55d0c8a3f000, s)), b.key(event_of(c, "brk", {0}, 0x5612aa000000, s)));
  EXPECT_EQ(a.key(event_of(c, "getpid", {}, 10, s)), b.key(event_of(c, "getpid", {}, 20, s)));
  EXPECT_EQ(a.key(event_of(c, "wait4", {11, 0x7ffc10, 0, 0}, 11, s)), b.key(event_of(c, "wait4", {25, 0x7ffd20, 0, 0}, 25, s)));
  EXPECT_NE(a.key(event_of(c, "openat", {kAtFdcwd, 0x1000, 0, 0}, -2, s)),
            b.key(event_of(c, "openat", {kAtFdcwd, 0x1000, 0, 0}, -13, s)));
}

TEST(DiffNormalise, WriteOfATempNameIgnoresItsLength) {
  const auto& c = format::builtin_catalogue(format::Arch::x86_64);
  format::OwnedEvent s;
  EventNormaliser a(c, 10), b(c, 20);
  const std::string m1 = "open '/tmp/file-3240' failed\n", m2 = "open '/tmp/file-24581' failed\n";
  const auto ka = a.key(event_of(c, "write", {2, 0x1000, m1.size()}, static_cast<int64_t>(m1.size()), s, {{1, static_cast<uint32_t>(m1.size()), m1}}));
  const auto kb = b.key(event_of(c, "write", {2, 0x1000, m2.size()}, static_cast<int64_t>(m2.size()), s, {{1, static_cast<uint32_t>(m2.size()), m2}}));
  EXPECT_EQ(ka, kb);
  EXPECT_EQ(ka, "write(buf=\"open '/tmp/file-#' failed\n\",count=len#,fd=2)=len#");
  // An ordinary write keeps its length.
  EXPECT_EQ(a.key(event_of(c, "write", {1, 0x1000, 3}, 3, s, {{1, 3, "42\n"}})), "write(buf=\"42\n\",count=3,fd=1)=3");
}

}  // namespace
}  // namespace traceloop::tools

namespace traceloop::tools {
namespace {

TEST(DiffNormaliseOutputs, WaitStatusCountsPipeFdsAreRenumberedStatIsDropped) {
  const auto& c = format::builtin_catalogue(format::Arch::x86_64);
  auto owned = [&](std::string_view name, std::vector<uint64_t> args, int64_t ret, std::vector<format::OwnedCapture> caps) {
    format::OwnedEvent e;
    e.fields.nr = c.find(name)->nr;
    for (size_t i = 0; i < args.size(); ++i) e.fields.args[i] = args[i];
    e.fields.ret = ret;
    e.comm = "t";
    e.captures = std::move(caps);
    return e;
  };
  auto int_bytes = [](int32_t a, int32_t b) {
    std::string s(8, '\0');
    std::memcpy(s.data(), &a, 4);
    std::memcpy(s.data() + 4, &b, 4);
    return s;
  };
  EventNormaliser a(c, 1), b(c, 2);
  // A child's exit status is behaviour.
  const auto exit0 = owned("wait4", {5, 0x1000, 0, 0}, 5, {{1, 4, int_bytes(0, 0).substr(0, 4)}});
  const auto exit1 = owned("wait4", {6, 0x2000, 0, 0}, 6, {{1, 4, int_bytes(0x100, 0).substr(0, 4)}});
  EXPECT_NE(a.key(exit0.view()), b.key(exit1.view()));
  // Pipe fds are renumbered like any fd.
  EventNormaliser p(c, 1), q(c, 2);
  EXPECT_EQ(p.key(owned("pipe2", {0x1000, 0}, 0, {{0, 8, int_bytes(3, 4)}}).view()),
            q.key(owned("pipe2", {0x2000, 0}, 0, {{0, 8, int_bytes(5, 6)}}).view()));
  // stat results (inode numbers, times) are not compared.
  EventNormaliser s(c, 1), t(c, 2);
  const std::vector<format::OwnedCapture> path = {{1, 5, std::string("/etc\0", 5)}};
  auto stat1 = owned("newfstatat", {static_cast<uint64_t>(-100), 0x1000, 0x3000, 0}, 0, path);
  auto stat2 = stat1;
  stat1.captures.push_back({2, 144, std::string(144, '\1')});
  stat2.captures.push_back({2, 144, std::string(144, '\2')});
  EXPECT_EQ(s.key(stat1.view()), t.key(stat2.view()));
}

}  // namespace
}  // namespace traceloop::tools
