#include "format/catalogue.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace traceloop::format {
namespace {

const SyscallSpec& must_find(const Catalogue& catalogue, std::string_view name) {
  const SyscallSpec* spec = catalogue.find(name);
  if (spec == nullptr) {
    ADD_FAILURE() << "no " << name << " in the " << arch_name(catalogue.arch()) << " catalogue";
    static const SyscallSpec empty;
    return empty;
  }
  return *spec;
}

std::vector<std::string> param_names(const SyscallSpec& spec) {
  std::vector<std::string> names;
  for (const ParamSpec& p : spec.params) names.push_back(p.name);
  return names;
}

class BuiltinCatalogueTest : public ::testing::TestWithParam<Arch> {};

INSTANTIATE_TEST_SUITE_P(Arches, BuiltinCatalogueTest, ::testing::Values(Arch::x86_64, Arch::aarch64),
                         [](const ::testing::TestParamInfo<Arch>& param_info) {
                           return std::string(arch_name(param_info.param));
                         });

TEST(CatalogueTest, OpenatOnBothArches) {
  for (auto [arch, nr] : {std::pair{Arch::x86_64, 257u}, std::pair{Arch::aarch64, 56u}}) {
    SCOPED_TRACE(std::string(arch_name(arch)));
    const Catalogue& cat = builtin_catalogue(arch);
    EXPECT_EQ(cat.arch(), arch);
    const SyscallSpec* openat = cat.find(nr);
    ASSERT_NE(openat, nullptr);
    EXPECT_EQ(openat->name, "openat");
    EXPECT_EQ(&must_find(cat, "openat"), openat);
    EXPECT_EQ(param_names(*openat), (std::vector<std::string>{"dfd", "filename", "flags", "mode"}));
    ASSERT_EQ(openat->params.size(), 4u);
    EXPECT_EQ(openat->params[0].kind, ArgKind::dirfd);
    EXPECT_EQ(openat->params[1].kind, ArgKind::path);
    EXPECT_EQ(openat->params[1].c_type, "const char *");
    EXPECT_EQ(openat->params[2].kind, ArgKind::flags);
    EXPECT_EQ(openat->params[2].flag_set, "open_flags");
    EXPECT_EQ(openat->params[3].kind, ArgKind::mode);
    EXPECT_EQ(openat->returns, ReturnKind::fd);
    EXPECT_FALSE(openat->never_returns);
  }
}

TEST(CatalogueTest, ReadAndWriteBuffers) {
  for (auto [arch, read_nr, write_nr] : {std::tuple{Arch::x86_64, 0u, 1u}, std::tuple{Arch::aarch64, 63u, 64u}}) {
    SCOPED_TRACE(std::string(arch_name(arch)));
    const Catalogue& cat = builtin_catalogue(arch);
    const SyscallSpec* read = cat.find(read_nr);
    ASSERT_NE(read, nullptr);
    EXPECT_EQ(read->name, "read");
    ASSERT_EQ(read->params.size(), 3u);
    EXPECT_EQ(read->params[1].name, "buf");
    EXPECT_EQ(read->params[1].kind, ArgKind::buffer_out);
    EXPECT_EQ(read->params[1].len_arg, kLenFromReturn);
    EXPECT_TRUE(read->params[1].captured_at_exit());
    EXPECT_FALSE(read->params[1].captured_at_entry());

    const SyscallSpec* write = cat.find(write_nr);
    ASSERT_NE(write, nullptr);
    EXPECT_EQ(write->name, "write");
    ASSERT_EQ(write->params.size(), 3u);
    EXPECT_EQ(write->params[1].kind, ArgKind::buffer_in);
    EXPECT_EQ(write->params[1].len_arg, 2);
    EXPECT_EQ(write->params[2].name, "count");
    EXPECT_TRUE(write->params[1].captured_at_entry());
    EXPECT_FALSE(write->params[1].captured_at_exit());
  }
}

TEST(CatalogueTest, StatStructSizesDifferPerArch) {
  const SyscallSpec& x86_fstat = must_find(builtin_catalogue(Arch::x86_64), "fstat");
  const SyscallSpec& arm_fstat = must_find(builtin_catalogue(Arch::aarch64), "fstat");
  EXPECT_EQ(x86_fstat.nr, 5u);
  EXPECT_EQ(arm_fstat.nr, 80u);
  ASSERT_EQ(x86_fstat.params.size(), 2u);
  ASSERT_EQ(arm_fstat.params.size(), 2u);
  EXPECT_EQ(x86_fstat.params[1].kind, ArgKind::struct_out);
  EXPECT_EQ(x86_fstat.params[1].struct_type, "stat");
  EXPECT_EQ(x86_fstat.params[1].struct_size, 144u);
  EXPECT_EQ(arm_fstat.params[1].struct_size, 128u);

  const SyscallSpec& x86_newfstatat = must_find(builtin_catalogue(Arch::x86_64), "newfstatat");
  const SyscallSpec& arm_newfstatat = must_find(builtin_catalogue(Arch::aarch64), "newfstatat");
  EXPECT_EQ(x86_newfstatat.nr, 262u);
  EXPECT_EQ(arm_newfstatat.nr, 79u);
  EXPECT_EQ(param_names(x86_newfstatat), (std::vector<std::string>{"dfd", "filename", "statbuf", "flag"}));
  EXPECT_EQ(x86_newfstatat.params[2].struct_size, 144u);
  EXPECT_EQ(arm_newfstatat.params[2].struct_size, 128u);
  EXPECT_EQ(x86_newfstatat.params[3].flag_set, "at_flags");

  const SyscallSpec& statx = must_find(builtin_catalogue(Arch::aarch64), "statx");
  ASSERT_EQ(statx.params.size(), 5u);
  EXPECT_EQ(statx.params[4].struct_type, "statx");
  EXPECT_EQ(statx.params[4].struct_size, 256u);
}

TEST(CatalogueTest, ExecveArgvAndNeverReturningCalls) {
  for (auto [arch, nr] : {std::pair{Arch::x86_64, 59u}, std::pair{Arch::aarch64, 221u}}) {
    SCOPED_TRACE(std::string(arch_name(arch)));
    const Catalogue& cat = builtin_catalogue(arch);
    const SyscallSpec* execve = cat.find(nr);
    ASSERT_NE(execve, nullptr);
    EXPECT_EQ(execve->name, "execve");
    EXPECT_EQ(param_names(*execve), (std::vector<std::string>{"filename", "argv", "envp"}));
    EXPECT_EQ(execve->params[0].kind, ArgKind::path);
    EXPECT_EQ(execve->params[1].kind, ArgKind::string_array);
    EXPECT_EQ(execve->params[2].kind, ArgKind::string_array);  // envp: strace's /* 37 vars */
    EXPECT_FALSE(execve->never_returns);

    for (std::string_view name : {"exit", "exit_group"}) {
      const SyscallSpec& spec = must_find(cat, name);
      EXPECT_TRUE(spec.never_returns) << name;
      EXPECT_EQ(spec.returns, ReturnKind::none) << name;
    }
    // rt_sigreturn returns (the interrupted code's value), and its one
    // argument is the signal mask it restores, which the recorder fills.
    const SyscallSpec& sigreturn = must_find(cat, "rt_sigreturn");
    EXPECT_FALSE(sigreturn.never_returns);
    EXPECT_EQ(sigreturn.returns, ReturnKind::integer);
    ASSERT_EQ(sigreturn.params.size(), 1u);
    EXPECT_EQ(sigreturn.params[0].kind, ArgKind::struct_in);
    EXPECT_EQ(sigreturn.params[0].struct_type, "sigset");
  }
  EXPECT_EQ(must_find(builtin_catalogue(Arch::x86_64), "exit_group").nr, 231u);
  EXPECT_EQ(must_find(builtin_catalogue(Arch::aarch64), "exit_group").nr, 94u);
}

TEST(CatalogueTest, ReturnKinds) {
  const Catalogue& cat = builtin_catalogue(Arch::x86_64);
  EXPECT_EQ(must_find(cat, "mmap").returns, ReturnKind::hex);
  EXPECT_EQ(must_find(cat, "brk").returns, ReturnKind::hex);
  EXPECT_EQ(must_find(cat, "socket").returns, ReturnKind::fd);
  EXPECT_EQ(must_find(cat, "clone").returns, ReturnKind::pid);
  EXPECT_EQ(must_find(cat, "fork").returns, ReturnKind::pid);
  EXPECT_EQ(must_find(cat, "write").returns, ReturnKind::integer);
}

TEST(CatalogueTest, Aarch64CloneHasBackwardsArgumentOrder) {
  EXPECT_EQ(param_names(must_find(builtin_catalogue(Arch::x86_64), "clone")),
            (std::vector<std::string>{"clone_flags", "newsp", "parent_tidptr", "child_tidptr", "tls"}));
  EXPECT_EQ(param_names(must_find(builtin_catalogue(Arch::aarch64), "clone")),
            (std::vector<std::string>{"clone_flags", "newsp", "parent_tidptr", "tls", "child_tidptr"}));
}

TEST(CatalogueTest, AnnotatedStructuresAndSockaddrs) {
  for (Arch arch : {Arch::x86_64, Arch::aarch64}) {
    SCOPED_TRACE(std::string(arch_name(arch)));
    const Catalogue& cat = builtin_catalogue(arch);
    const SyscallSpec& pipe2 = must_find(cat, "pipe2");
    EXPECT_EQ(pipe2.params[0].kind, ArgKind::struct_out);
    EXPECT_EQ(pipe2.params[0].struct_size, 8u);
    const SyscallSpec& wait4 = must_find(cat, "wait4");
    EXPECT_EQ(wait4.params[1].kind, ArgKind::struct_out);
    EXPECT_EQ(wait4.params[1].struct_size, 4u);
    const SyscallSpec& getdents64 = must_find(cat, "getdents64");
    EXPECT_EQ(getdents64.params[1].kind, ArgKind::buffer_out);
    EXPECT_EQ(getdents64.params[1].len_arg, kLenFromReturn);
    EXPECT_EQ(getdents64.params[1].struct_type, "linux_dirent64");
    const SyscallSpec& ppoll = must_find(cat, "ppoll");
    EXPECT_EQ(ppoll.params[0].kind, ArgKind::struct_array_out);
    EXPECT_EQ(ppoll.params[0].len_arg, 1);
    EXPECT_EQ(ppoll.params[0].struct_size, 8u);
    const SyscallSpec& rt_sigaction = must_find(cat, "rt_sigaction");
    EXPECT_EQ(rt_sigaction.params[0].kind, ArgKind::signal);
    EXPECT_EQ(rt_sigaction.params[1].kind, ArgKind::struct_in);
    EXPECT_EQ(rt_sigaction.params[1].struct_size, 32u);
    EXPECT_EQ(rt_sigaction.params[2].kind, ArgKind::struct_out);
    const SyscallSpec& connect = must_find(cat, "connect");
    EXPECT_EQ(connect.params[1].kind, ArgKind::sockaddr_in);
    EXPECT_EQ(connect.params[1].len_arg, 2);
    const SyscallSpec& accept4 = must_find(cat, "accept4");
    EXPECT_EQ(accept4.params[1].kind, ArgKind::sockaddr_out);
    EXPECT_EQ(accept4.params[1].len_arg, 2);
    EXPECT_EQ(must_find(cat, "uname").params[0].struct_size, 390u);
    EXPECT_EQ(must_find(cat, "sysinfo").params[0].struct_size, 112u);
    EXPECT_EQ(must_find(cat, "clone3").params[0].struct_size, 88u);
  }
  EXPECT_EQ(must_find(builtin_catalogue(Arch::x86_64), "epoll_pwait").params[1].struct_size, 12u);
  EXPECT_EQ(must_find(builtin_catalogue(Arch::aarch64), "epoll_pwait").params[1].struct_size, 16u);
}

// Internal consistency of the generated tables: what the recorder and the
// decoders assume about every entry.
TEST_P(BuiltinCatalogueTest, EntriesAreConsistent) {
  const Catalogue& cat = builtin_catalogue(GetParam());
  std::set<std::string> names;
  uint32_t previous = 0;
  bool first = true;
  for (const SyscallSpec& spec : cat.syscalls()) {
    SCOPED_TRACE(spec.name);
    EXPECT_TRUE(first || spec.nr > previous) << "not sorted / duplicate number";
    first = false;
    previous = spec.nr;
    EXPECT_TRUE(names.insert(spec.name).second) << "duplicate name";
    EXPECT_EQ(cat.find(spec.nr), &spec);
    EXPECT_EQ(cat.name_of(spec.nr), spec.name);
    EXPECT_LE(spec.params.size(), 6u);
    EXPECT_EQ(spec.never_returns, spec.returns == ReturnKind::none);
    for (const ParamSpec& p : spec.params) {
      SCOPED_TRACE(p.name);
      EXPECT_FALSE(p.name.empty());
      EXPECT_FALSE(p.c_type.empty());
      EXPECT_FALSE(p.captured_at_entry() && p.captured_at_exit());
      const bool needs_len = p.kind == ArgKind::buffer_in || p.kind == ArgKind::buffer_out ||
                             p.kind == ArgKind::sockaddr_in || p.kind == ArgKind::sockaddr_out ||
                             p.kind == ArgKind::struct_array_in || p.kind == ArgKind::struct_array_out;
      if (needs_len) {
        EXPECT_TRUE(p.len_arg == kLenFromReturn ||
                    (p.len_arg >= 0 && static_cast<size_t>(p.len_arg) < spec.params.size()));
      } else {
        EXPECT_EQ(p.len_arg, kNoLenArg);
      }
      if (p.len_arg == kLenFromReturn) {
        // Only data written at exit can have its length from the return value.
        EXPECT_TRUE(p.captured_at_exit());
      }
      const bool needs_set = p.kind == ArgKind::flags || p.kind == ArgKind::enum_value;
      EXPECT_EQ(needs_set, !p.flag_set.empty());
      if (p.kind == ArgKind::struct_in || p.kind == ArgKind::struct_out || p.kind == ArgKind::struct_array_in ||
          p.kind == ArgKind::struct_array_out) {
        EXPECT_FALSE(p.struct_type.empty());
        EXPECT_GT(p.struct_size, 0u);
      }
    }
  }
}

TEST(CatalogueTest, X86TableCoversUnistdHeader) {
  const std::filesystem::path header = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h";
  if (!std::filesystem::exists(header)) GTEST_SKIP() << header << " is not installed";
  std::ifstream in(header);
  const std::regex define(R"(^#define __NR_(\w+)\s+(\d+)\s*$)");
  std::map<uint32_t, std::string> expected;
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, define)) expected[static_cast<uint32_t>(std::stoul(m[2]))] = m[1];
  }
  ASSERT_GT(expected.size(), 300u);
  const Catalogue& cat = builtin_catalogue(Arch::x86_64);
  for (const auto& [nr, name] : expected) {
    const SyscallSpec* spec = cat.find(nr);
    ASSERT_NE(spec, nullptr) << name << " (" << nr << ") missing";
    EXPECT_EQ(spec->name, name);
  }
  // Anything beyond the header is newer than the installed headers, above
  // their highest number (or x86_64's uretprobe/uprobe).
  const uint32_t header_max = expected.rbegin()->first;
  for (const SyscallSpec& spec : cat.syscalls()) {
    if (expected.count(spec.nr) != 0) continue;
    EXPECT_TRUE(spec.nr > header_max || spec.name == "uretprobe" || spec.name == "uprobe") << spec.name;
  }
}

TEST(CatalogueTest, Aarch64TableIsTheGenericOne) {
  const Catalogue& cat = builtin_catalogue(Arch::aarch64);
  EXPECT_GE(cat.syscalls().size(), 290u);
  EXPECT_EQ(must_find(cat, "io_setup").nr, 0u);
  EXPECT_EQ(must_find(cat, "clone3").nr, 435u);
  EXPECT_EQ(must_find(cat, "openat2").nr, 437u);
  EXPECT_EQ(must_find(cat, "statx").nr, 291u);
  EXPECT_EQ(must_find(cat, "io_uring_setup").nr, 425u);
  EXPECT_EQ(must_find(cat, "lseek").nr, 62u);
  EXPECT_EQ(must_find(cat, "mmap").nr, 222u);
  EXPECT_EQ(must_find(cat, "renameat").nr, 38u);
  EXPECT_EQ(must_find(cat, "getrlimit").nr, 163u);
  for (std::string_view legacy : {"open", "stat", "lstat", "fork", "vfork", "pipe", "poll", "select", "access",
                                  "dup2", "creat", "unlink", "rename", "mkdir", "getdents", "arch_prctl",
                                  "epoll_wait", "time", "alarm", "fstatat64", "fcntl64", "mmap2"}) {
    EXPECT_EQ(cat.find(legacy), nullptr) << legacy << " is not an aarch64 syscall";
  }
}

TEST(CatalogueTest, NameOfUnknownNumber) {
  const Catalogue& cat = builtin_catalogue(Arch::x86_64);
  EXPECT_EQ(cat.find(999u), nullptr);
  EXPECT_EQ(cat.name_of(999), "syscall_999");
  EXPECT_EQ(cat.name_of(0xffffffffu), "syscall_4294967295");
  EXPECT_EQ(cat.find("no_such_syscall"), nullptr);
  const Catalogue empty;
  EXPECT_EQ(empty.find(0u), nullptr);
  EXPECT_EQ(empty.name_of(0), "syscall_0");
}

TEST(CatalogueTest, ConstructorSortsDedupsAndHandlesHugeNumbers) {
  std::vector<SyscallSpec> specs(4);
  specs[0].nr = 7;
  specs[0].name = "seven";
  specs[1].nr = 3;
  specs[1].name = "three";
  specs[2].nr = 7;
  specs[2].name = "seven_again";
  specs[3].nr = 5'000'000;
  specs[3].name = "huge";
  const Catalogue cat(Arch::aarch64, specs);
  ASSERT_EQ(cat.syscalls().size(), 3u);
  EXPECT_EQ(cat.syscalls()[0].name, "three");
  EXPECT_EQ(cat.name_of(7), "seven");  // first of the duplicates wins
  EXPECT_EQ(cat.name_of(5'000'000), "huge");
  EXPECT_EQ(cat.name_of(4'999'999), "syscall_4999999");
  EXPECT_EQ(cat.find(4u), nullptr);
  EXPECT_EQ(cat.find("huge")->nr, 5'000'000u);
  EXPECT_EQ(cat, Catalogue(Arch::aarch64, specs));
  EXPECT_NE(cat, Catalogue(Arch::x86_64, specs));
}

TEST(CatalogueTest, ResolveSyscallNames) {
  const Catalogue& cat = builtin_catalogue(Arch::x86_64);
  const std::vector<std::string> names{"openat,write", " execve ", "openat"};
  auto resolved = resolve_syscall_names(cat, names);
  ASSERT_TRUE(resolved.ok()) << resolved.error().message;
  EXPECT_EQ(*resolved, (std::vector<uint32_t>{257, 1, 59}));

  auto arm = resolve_syscall_names(builtin_catalogue(Arch::aarch64), names);
  ASSERT_TRUE(arm.ok());
  EXPECT_EQ(*arm, (std::vector<uint32_t>{56, 64, 221}));

  const std::vector<std::string> none;
  auto empty = resolve_syscall_names(cat, none);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(CatalogueTest, ResolveSyscallNamesNamesTheUnknownOnes) {
  const std::vector<std::string> names{"openat, foo", "bar"};
  auto resolved = resolve_syscall_names(builtin_catalogue(Arch::x86_64), names);
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(resolved.error().message, "unknown syscall name(s): foo, bar");

  // open exists on x86_64 only.
  const std::vector<std::string> open{"open"};
  EXPECT_TRUE(resolve_syscall_names(builtin_catalogue(Arch::x86_64), open).ok());
  auto arm = resolve_syscall_names(builtin_catalogue(Arch::aarch64), open);
  ASSERT_FALSE(arm.ok());
  EXPECT_EQ(arm.error().message, "unknown syscall name(s): open");
}

TEST(CatalogueTest, ArchNames) {
  EXPECT_EQ(arch_name(Arch::x86_64), "x86_64");
  EXPECT_EQ(arch_name(Arch::aarch64), "aarch64");
  EXPECT_EQ(arch_from_name("x86_64"), Arch::x86_64);
  EXPECT_EQ(arch_from_name("amd64"), Arch::x86_64);
  EXPECT_EQ(arch_from_name("aarch64"), Arch::aarch64);
  EXPECT_EQ(arch_from_name("arm64"), Arch::aarch64);
  EXPECT_EQ(arch_from_name("riscv64"), std::nullopt);
  EXPECT_EQ(arch_from_name(""), std::nullopt);
  EXPECT_EQ(arch_from_name(arch_name(host_arch())), host_arch());
#if defined(__x86_64__)
  EXPECT_EQ(host_arch(), Arch::x86_64);
#endif
}

TEST(CatalogueTest, KindNamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(ArgKind::struct_array_out); ++i) {
    const auto kind = static_cast<ArgKind>(i);
    const std::string_view name = arg_kind_name(kind);
    EXPECT_NE(name, "unknown");
    EXPECT_EQ(arg_kind_from_name(name), kind) << name;
  }
  EXPECT_EQ(arg_kind_name(ArgKind::buffer_out), "buffer_out");
  EXPECT_EQ(arg_kind_name(ArgKind::unsigned_int), "unsigned");
  EXPECT_EQ(arg_kind_name(ArgKind::enum_value), "enum_value");
  EXPECT_EQ(arg_kind_from_name("bufferOut"), std::nullopt);
  for (int i = 0; i <= static_cast<int>(ReturnKind::none); ++i) {
    const auto kind = static_cast<ReturnKind>(i);
    EXPECT_EQ(return_kind_from_name(return_kind_name(kind)), kind);
  }
  EXPECT_EQ(return_kind_name(ReturnKind::none), "none");
  EXPECT_EQ(return_kind_from_name("nope"), std::nullopt);
}

TEST(CatalogueTest, CaptureTiming) {
  ParamSpec p;
  for (ArgKind k : {ArgKind::path, ArgKind::string, ArgKind::buffer_in, ArgKind::struct_in, ArgKind::string_array,
                    ArgKind::sockaddr_in, ArgKind::struct_array_in}) {
    p.kind = k;
    EXPECT_TRUE(p.captured_at_entry()) << arg_kind_name(k);
    EXPECT_FALSE(p.captured_at_exit()) << arg_kind_name(k);
  }
  for (ArgKind k : {ArgKind::buffer_out, ArgKind::struct_out, ArgKind::sockaddr_out, ArgKind::struct_array_out}) {
    p.kind = k;
    EXPECT_FALSE(p.captured_at_entry()) << arg_kind_name(k);
    EXPECT_TRUE(p.captured_at_exit()) << arg_kind_name(k);
  }
  for (ArgKind k : {ArgKind::integer, ArgKind::fd, ArgKind::pointer, ArgKind::flags, ArgKind::signal}) {
    p.kind = k;
    EXPECT_FALSE(p.captured_at_entry()) << arg_kind_name(k);
    EXPECT_FALSE(p.captured_at_exit()) << arg_kind_name(k);
  }
}

// ---------------------------------------- shapes chosen by another argument ----

// The parameter `name` of `syscall`, and its shape in a call with `args`.
struct Shaped {
  const ParamSpec* param = nullptr;
  const ParamSpec* shape = nullptr;
};

Shaped shape_in(const Catalogue& cat, std::string_view syscall, std::string_view name,
                const std::array<uint64_t, 6>& args) {
  const SyscallSpec& spec = must_find(cat, syscall);
  for (const ParamSpec& p : spec.params) {
    if (p.name == name) return {&p, &shape_for(p, args)};
  }
  ADD_FAILURE() << syscall << " has no parameter " << name;
  return {};
}

TEST_P(BuiltinCatalogueTest, PrctlArg2DependsOnTheOption) {
  const Catalogue& cat = builtin_catalogue(GetParam());
  auto named = shape_in(cat, "prctl", "arg2", {PR_SET_NAME, 0x1234});
  ASSERT_NE(named.shape, nullptr);
  EXPECT_EQ(named.shape->kind, ArgKind::string);
  EXPECT_EQ(named.shape->name, "arg2");
  EXPECT_TRUE(named.shape->captured_at_entry());
  EXPECT_EQ(named.param->kind, ArgKind::hex) << "the plain shape stays the default";

  auto signal = shape_in(cat, "prctl", "arg2", {PR_SET_PDEATHSIG, SIGTERM});
  EXPECT_EQ(signal.shape->kind, ArgKind::signal);

  auto other = shape_in(cat, "prctl", "arg2", {PR_SET_DUMPABLE, 1});
  EXPECT_EQ(other.shape, other.param);
  EXPECT_EQ(variant_index(*other.param, std::array<uint64_t, 6>{PR_SET_DUMPABLE, 1}), -1);
  // An int option: the kernel ignores the upper half of the register.
  auto dirty = shape_in(cat, "prctl", "arg2", {0xdead000000000000ull | PR_SET_NAME, 0});
  EXPECT_EQ(dirty.shape->kind, ArgKind::string);
}

TEST_P(BuiltinCatalogueTest, FcntlArgDependsOnTheCommand) {
  const Catalogue& cat = builtin_catalogue(GetParam());
  auto setfd = shape_in(cat, "fcntl", "arg", {3, F_SETFD, FD_CLOEXEC});
  EXPECT_EQ(setfd.shape->kind, ArgKind::flags);
  EXPECT_EQ(setfd.shape->flag_set, "fd_flags");
  auto setfl = shape_in(cat, "fcntl", "arg", {3, F_SETFL, O_NONBLOCK});
  EXPECT_EQ(setfl.shape->kind, ArgKind::flags);
  EXPECT_EQ(setfl.shape->flag_set, "open_flags");
  for (const auto& [cmd, kind] : {std::pair{F_DUPFD, ArgKind::fd}, std::pair{F_DUPFD_CLOEXEC, ArgKind::fd},
                                   std::pair{F_SETOWN, ArgKind::pid}, std::pair{F_SETSIG, ArgKind::signal},
                                   std::pair{F_SETPIPE_SZ, ArgKind::integer}}) {
    auto shaped = shape_in(cat, "fcntl", "arg", {3, static_cast<uint64_t>(cmd), 10});
    EXPECT_EQ(shaped.shape->kind, kind) << cmd;
    EXPECT_TRUE(shaped.shape->flag_set.empty()) << cmd;
  }
  auto getfd = shape_in(cat, "fcntl", "arg", {3, F_GETFD, 0});
  EXPECT_EQ(getfd.shape, getfd.param);
  EXPECT_EQ(getfd.shape->kind, ArgKind::hex);
}

TEST_P(BuiltinCatalogueTest, SocketProtocolAndOptionNamesDependOnDomainAndLevel) {
  const Catalogue& cat = builtin_catalogue(GetParam());
  EXPECT_EQ(shape_in(cat, "socket", "protocol", {AF_INET, SOCK_STREAM, IPPROTO_TCP}).shape->flag_set, "ip_protocol");
  EXPECT_EQ(shape_in(cat, "socket", "protocol", {AF_INET6, SOCK_DGRAM, 0}).shape->flag_set, "ip_protocol");
  EXPECT_EQ(shape_in(cat, "socket", "protocol", {AF_NETLINK, SOCK_RAW, 0}).shape->flag_set, "netlink_protocol");
  auto unix_socket = shape_in(cat, "socket", "protocol", {AF_UNIX, SOCK_STREAM, 0});
  EXPECT_EQ(unix_socket.shape, unix_socket.param);
  for (const char* call : {"setsockopt", "getsockopt"}) {
    auto sol = shape_in(cat, call, "optname", {3, SOL_SOCKET, SO_REUSEADDR});
    EXPECT_EQ(sol.shape->kind, ArgKind::enum_value) << call;
    EXPECT_EQ(sol.shape->flag_set, "socket_option") << call;
    auto tcp = shape_in(cat, call, "optname", {3, IPPROTO_TCP, 1});
    EXPECT_EQ(tcp.shape, tcp.param) << call;
  }
}

TEST_P(BuiltinCatalogueTest, EveryVariantIsWellFormed) {
  size_t variants = 0;
  for (const SyscallSpec& spec : builtin_catalogue(GetParam()).syscalls()) {
    for (size_t i = 0; i < spec.params.size(); ++i) {
      const ParamSpec& p = spec.params[i];
      for (const ParamVariant& v : p.variants) {
        ++variants;
        SCOPED_TRACE(spec.name + " " + p.name);
        EXPECT_LT(v.selector, spec.params.size());
        EXPECT_NE(v.selector, i);
        EXPECT_FALSE(v.values.empty());
        for (const uint64_t x : v.values) EXPECT_EQ(x & v.mask, x);
        EXPECT_EQ(v.shape.name, p.name);
        EXPECT_EQ(v.shape.c_type, p.c_type);
        EXPECT_TRUE(v.shape.variants.empty());
      }
    }
  }
  EXPECT_GE(variants, 12u);  // prctl 2, fcntl 6, socket 2, [gs]etsockopt 1 each
}

ParamSpec param_with_variants() {
  ParamSpec p;
  p.name = "arg";
  p.kind = ArgKind::hex;
  ParamVariant first;
  first.selector = 1;
  first.mask = 0xff;
  first.values = {1, 2};
  first.shape.kind = ArgKind::string;
  ParamVariant second;
  second.selector = 1;
  second.values = {0x102, 3};
  second.shape.kind = ArgKind::signal;
  p.variants = {first, second};
  return p;
}

TEST(ParamVariantTest, TheFirstMatchingVariantWinsUnderItsMask) {
  const ParamSpec p = param_with_variants();
  EXPECT_EQ(variant_index(p, std::array<uint64_t, 6>{0, 1}), 0);
  EXPECT_EQ(variant_index(p, std::array<uint64_t, 6>{0, 0x301}), 0) << "masked to 1";
  EXPECT_EQ(variant_index(p, std::array<uint64_t, 6>{0, 0x102}), 0) << "masked to 2: the first wins";
  EXPECT_EQ(variant_index(p, std::array<uint64_t, 6>{0, 3}), 1);
  EXPECT_EQ(variant_index(p, std::array<uint64_t, 6>{0, 4}), -1);
  EXPECT_EQ(&shape_for(p, std::array<uint64_t, 6>{0, 4}), &p);
  EXPECT_EQ(shape_for(p, std::array<uint64_t, 6>{0, 3}).kind, ArgKind::signal);
}

TEST(ParamVariantTest, ASelectorBeyondTheArgumentsNeverMatches) {
  ParamSpec p = param_with_variants();
  p.variants[0].selector = 200;
  const uint64_t two_args[] = {0, 1};
  EXPECT_EQ(variant_index(p, two_args), -1);
  p.variants[0].selector = 1;
  const uint64_t one_arg[] = {0};
  EXPECT_EQ(variant_index(p, one_arg), -1);
  EXPECT_EQ(variant_index(p, std::span<const uint64_t>{}), -1);
}

}  // namespace
}  // namespace traceloop::format
