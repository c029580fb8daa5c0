// strace's -e trace= expressions: every form, and errors that name the bad
// token.
#include "format/syscall_set.h"

#include <gtest/gtest.h>

namespace traceloop::format {
namespace {

const Catalogue& x86() { return builtin_catalogue(Arch::x86_64); }
uint32_t nr(const char* name) { return x86().find(name)->nr; }

SyscallSet parse_ok(const char* expression) {
  auto set = SyscallSet::parse(expression, x86());
  EXPECT_TRUE(set.ok()) << expression << ": " << (set.ok() ? "" : set.error().message);
  return set.ok() ? std::move(set).value() : SyscallSet{};
}

std::string parse_error(const char* expression) {
  auto set = SyscallSet::parse(expression, x86());
  EXPECT_FALSE(set.ok()) << expression;
  return set.ok() ? "" : set.error().message;
}

TEST(SyscallSet, DefaultIsEverySyscall) {
  const SyscallSet all;
  EXPECT_TRUE(all.is_all());
  EXPECT_TRUE(all.contains(0));
  EXPECT_TRUE(all.contains(100000));
}

TEST(SyscallSet, NamesAndCommaLists) {
  const auto set = parse_ok("openat,close");
  EXPECT_TRUE(set.contains(nr("openat")));
  EXPECT_TRUE(set.contains(nr("close")));
  EXPECT_FALSE(set.contains(nr("read")));
  EXPECT_FALSE(set.is_all());
  EXPECT_EQ(set.numbers_below(1000), (std::vector<uint32_t>{nr("close"), nr("openat")}));
  // strtok: empty pieces between commas are skipped.
  EXPECT_TRUE(parse_ok("openat,,close,").contains(nr("close")));
}

TEST(SyscallSet, NumbersAndUnknownNumbers) {
  EXPECT_TRUE(parse_ok("2").contains(2));
  EXPECT_TRUE(parse_ok("syscall_999").contains(999));
  EXPECT_FALSE(parse_ok("syscall_999").contains(998));
}

TEST(SyscallSet, Classes) {
  const auto file = parse_ok("%file");
  EXPECT_TRUE(file.contains(nr("openat")));
  EXPECT_TRUE(file.contains(nr("execve")));
  EXPECT_FALSE(file.contains(nr("read")));
  const auto desc = parse_ok("%desc");
  EXPECT_TRUE(desc.contains(nr("read")));
  EXPECT_TRUE(parse_ok("%process").contains(nr("clone")));
  EXPECT_TRUE(parse_ok("%network").contains(nr("connect")));
  EXPECT_EQ(parse_ok("%net").numbers_below(1000), parse_ok("%network").numbers_below(1000));
  EXPECT_TRUE(parse_ok("%signal").contains(nr("rt_sigaction")));
  EXPECT_TRUE(parse_ok("%ipc").contains(nr("shmget")));
  EXPECT_TRUE(parse_ok("%memory").contains(nr("mmap")));
  EXPECT_TRUE(parse_ok("%creds").contains(nr("setuid")));
  EXPECT_TRUE(parse_ok("%clock").contains(nr("clock_gettime")));
  EXPECT_EQ(parse_ok("%stat").numbers_below(1000), std::vector<uint32_t>{nr("stat")});
  EXPECT_EQ(parse_ok("%lstat").numbers_below(1000), std::vector<uint32_t>{nr("lstat")});
  EXPECT_TRUE(parse_ok("%fstat").contains(nr("fstat")));
  EXPECT_TRUE(parse_ok("%%stat").contains(nr("statx")));
  EXPECT_EQ(parse_ok("%statfs").numbers_below(1000), std::vector<uint32_t>{nr("statfs")});
  EXPECT_EQ(parse_ok("%fstatfs").numbers_below(1000), std::vector<uint32_t>{nr("fstatfs")});
  EXPECT_TRUE(parse_ok("%%statfs").contains(nr("ustat")));
  EXPECT_TRUE(parse_ok("%pure").contains(nr("getpid")));
  EXPECT_FALSE(parse_ok("%pure").contains(nr("read")));
  // strace's older spellings without %.
  EXPECT_EQ(parse_ok("file").numbers_below(1000), file.numbers_below(1000));
  // Classes mix with names.
  const auto mixed = parse_ok("%file,read");
  EXPECT_TRUE(mixed.contains(nr("read")) && mixed.contains(nr("openat")));
}

TEST(SyscallSet, Negation) {
  const auto not_open = parse_ok("!openat,close");
  EXPECT_FALSE(not_open.contains(nr("openat")));
  EXPECT_FALSE(not_open.contains(nr("close")));
  EXPECT_TRUE(not_open.contains(nr("read")));
  EXPECT_TRUE(not_open.contains(100000));  // numbers no table knows are in a negated set
  EXPECT_TRUE(parse_ok("!!openat").contains(nr("openat")));
  EXPECT_FALSE(parse_ok("!!openat").contains(nr("read")));
  EXPECT_FALSE(parse_ok("!%file").contains(nr("openat")));
  EXPECT_TRUE(parse_ok("!%file").contains(nr("read")));
}

TEST(SyscallSet, AllAndNone) {
  EXPECT_TRUE(parse_ok("all").is_all());
  EXPECT_TRUE(parse_ok("!none").is_all());
  EXPECT_TRUE(parse_ok("none").numbers_below(1000).empty());
  EXPECT_TRUE(parse_ok("!all").numbers_below(1000).empty());
}

TEST(SyscallSet, RegexMatchesNamesAsStraceDoes) {
  const auto set = parse_ok("/^(open|close)");
  EXPECT_TRUE(set.contains(nr("openat")));
  EXPECT_TRUE(set.contains(nr("open")));
  EXPECT_TRUE(set.contains(nr("close_range")));
  EXPECT_FALSE(set.contains(nr("read")));
  // Unanchored, like regexec: anywhere in the name.
  EXPECT_TRUE(parse_ok("/stat").contains(nr("newfstatat")));
  EXPECT_FALSE(parse_ok("!/stat").contains(nr("statx")));
}

TEST(SyscallSet, QuestionMarkAllowsUnknownTokens) {
  const auto set = parse_ok("?nosuchcall,openat,?%nosuchclass,?/^zzz");
  EXPECT_TRUE(set.contains(nr("openat")));
  EXPECT_EQ(set.numbers_below(1000).size(), 1u);
}

TEST(SyscallSet, ErrorsNameTheBadToken) {
  EXPECT_EQ(parse_error("openat,nosuchcall"), "unknown syscall 'nosuchcall'");
  EXPECT_EQ(parse_error("%file,%nosuch"), "unknown syscall class '%nosuch'");
  EXPECT_EQ(parse_error("/^zzzq"), "regular expression '/^zzzq' matches no syscall");
  EXPECT_NE(parse_error("/([").find("invalid regular expression '/(['"), std::string::npos);
  EXPECT_NE(parse_error("").find("empty"), std::string::npos);
  EXPECT_NE(parse_error("!").find("empty"), std::string::npos);
  // all and none stand alone, as in strace.
  EXPECT_EQ(parse_error("all,openat"), "unknown syscall 'all'");
}

TEST(SyscallSet, NamesOfATraceCatalogueAndOfTheArchitecture) {
  // A trace's catalogue may list only what it recorded: a name the
  // architecture knows is still valid.
  const std::vector<uint32_t> keep{nr("read")};
  const Catalogue subset = x86().subset(keep);
  auto set = SyscallSet::parse("openat,read", subset);
  ASSERT_TRUE(set.ok());
  EXPECT_TRUE(set->contains(nr("openat")));
  // And an aarch64 trace resolves aarch64 numbers.
  auto arm = SyscallSet::parse("openat", builtin_catalogue(Arch::aarch64));
  ASSERT_TRUE(arm.ok());
  EXPECT_TRUE(arm->contains(56));
  EXPECT_TRUE(SyscallSet::parse("%file", builtin_catalogue(Arch::aarch64))->contains(56));
}

TEST(SyscallSet, ClassNames) {
  EXPECT_EQ(syscall_class_from_name("%file"), kClassFile);
  EXPECT_EQ(syscall_class_from_name("%net"), kClassNetwork);
  EXPECT_EQ(syscall_class_from_name("%%stat"), kClassStatLike);
  EXPECT_EQ(syscall_class_from_name("%nosuch"), 0u);
}

}  // namespace
}  // namespace traceloop::format
