// Every value the decoder's flag and enum tables hold, compiled against the
// headers that define its name (strace's #checkval): for each set, a C file of
// `_Static_assert(NAME == value)` lines goes through the C compiler, with the
// host's headers for the host architecture's tables and the aarch64 cross
// headers (clang --target) for aarch64's. A value typed or generated wrong
// fails here, whatever the tables say about themselves. The structure layouts
// (format/syscalls/struct_layouts.h) are checked the same way: sizeof and
// offsetof assertions for every layout, compiled per architecture.

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "format/syscalls/struct_layouts.h"
#include "tests/support/temp_dir.h"
#include "tools/lib/decoder/flag_sets.h"

namespace traceloop::tools {
namespace {

using format::Arch;

struct SetHeaders {
  std::string_view set;
  std::string_view headers;  // comma separated
};
struct NameExpr {
  std::string_view set, name, expr;
};

#define TL_SET_HEADERS(set, headers) SetHeaders{set, headers},
#define TL_NAME_EXPR(set, name, expr)
#define TL_FROM_ANNOTATIONS(name)
constexpr SetHeaders kSetHeaders[] = {
#include "format/syscalls/checkval.inc"
};
#undef TL_SET_HEADERS
#undef TL_NAME_EXPR
#define TL_SET_HEADERS(set, headers)
#define TL_NAME_EXPR(set, name, expr) NameExpr{set, name, expr},
constexpr NameExpr kNameExprs[] = {
#include "format/syscalls/checkval.inc"
};
#undef TL_NAME_EXPR
#undef TL_FROM_ANNOTATIONS
#define TL_NAME_EXPR(set, name, expr)
#define TL_FROM_ANNOTATIONS(name) std::string_view{name},
constexpr std::string_view kFromAnnotations[] = {
#include "format/syscalls/checkval.inc"
};
#undef TL_SET_HEADERS
#undef TL_NAME_EXPR
#undef TL_FROM_ANNOTATIONS

// The layouts, with what struct_layouts.h says beside what the generator
// listed for compiling.
struct LayoutCheck {
  size_t arch_index;
  std::string_view arch, name, type, headers, decl;
  uint64_t size;
  uint64_t generated_size;
};
struct LayoutFieldCheck {
  size_t arch_index;
  std::string_view arch, name, designator;
  uint64_t offset, size;
  uapi::LayoutField generated;
};
#define TL_LAYOUT(index, arch, name, array, type, headers, decl, bytes) \
  LayoutCheck{index, arch, name, type, headers, decl, bytes, uapi::array[index].size},
#define TL_LAYOUT_FIELD(index, arch, name, array, member, designator, offset, size)
constexpr LayoutCheck kLayoutChecks[] = {
#include "format/syscalls/layout_checkval.inc"
};
#undef TL_LAYOUT
#undef TL_LAYOUT_FIELD
#define TL_LAYOUT(index, arch, name, array, type, headers, decl, size)
#define TL_LAYOUT_FIELD(index, arch, name, array, member, designator, at, bytes) \
  LayoutFieldCheck{index, arch, name, designator, at, bytes, uapi::array[index].member},
constexpr LayoutFieldCheck kLayoutFieldChecks[] = {
#include "format/syscalls/layout_checkval.inc"
};
#undef TL_LAYOUT
#undef TL_LAYOUT_FIELD

std::string includes(std::string_view headers) {
  std::string src;
  while (!headers.empty()) {
    const auto comma = headers.find(',');
    src += fmt::format("#include <{}>\n", headers.substr(0, comma));
    headers = comma == std::string_view::npos ? std::string_view{} : headers.substr(comma + 1);
  }
  return src;
}

std::string expr_of(std::string_view set, std::string_view name) {
  for (const auto& e : kNameExprs)
    if (e.set == set && e.name == name) return std::string(e.expr);
  return std::string(name);
}

bool from_annotations(std::string_view name) {
  for (auto n : kFromAnnotations)
    if (n == name) return true;
  return false;
}

// One C file per header list: assertions for every entry of those sets.
std::map<std::string, std::string> checkval_sources(Arch arch, size_t& checked) {
  std::map<std::string, std::string> by_headers;
  for (const auto& sh : kSetHeaders) {
    if (sh.headers.empty()) continue;  // no header exports these names
    const FlagSet* set = find_flag_set(sh.set, arch);
    if (set == nullptr) continue;  // a set of the other architecture only
    std::string& src = by_headers[std::string(sh.headers)];
    if (src.empty()) src = "#define _GNU_SOURCE 1\n" + includes(sh.headers);
    for (auto part : {set->values, set->bits}) {
      for (const auto& entry : part) {
        if (from_annotations(entry.name)) continue;
        const auto expr = expr_of(sh.set, entry.name);
        src += fmt::format(
            "_Static_assert((unsigned long long)({0}) == {1:#x}ull || (unsigned int)({0}) == {1:#x}ull, "
            "\"{2}: {3} is not {1:#x}\");\n",
            expr, entry.value, sh.set, entry.name);
        ++checked;
      }
    }
  }
  return by_headers;
}

// Compiler output and exit status.
std::pair<int, std::string> run(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  return {pclose(p), out};
}

void check_arch(Arch arch, const std::string& compiler) {
  testing::TempDir dir;
  size_t checked = 0;
  size_t file = 0;
  for (const auto& [headers, source] : checkval_sources(arch, checked)) {
    const auto path = dir.path() / fmt::format("set{}.c", file++);
    std::ofstream(path) << source;
    const auto [status, output] = run(compiler + " -fsyntax-only -w " + path.string());
    EXPECT_EQ(status, 0) << format::arch_name(arch) << " <" << headers << ">:\n" << output;
  }
  EXPECT_GT(checked, 500u) << "too few entries checked";
}

// One C file per layout of `arch`: its headers (or its declaration), then
// sizeof and offsetof assertions.
void check_layouts(Arch arch, const std::string& compiler) {
  testing::TempDir dir;
  size_t checked = 0;
  for (const auto& l : kLayoutChecks) {
    if (l.arch != format::arch_name(arch)) continue;
    std::string src = "#define _GNU_SOURCE 1\n" + includes(l.headers);
    if (!l.decl.empty()) src += fmt::format("#include <linux/types.h>\n{}\n", l.decl);
    src += fmt::format("_Static_assert(sizeof({}) == {}, \"{}: size\");\n", l.type, l.size, l.name);
    for (const auto& f : kLayoutFieldChecks) {
      if (f.arch != l.arch || f.name != l.name) continue;
      src += fmt::format("_Static_assert(__builtin_offsetof({0}, {1}) == {2}, \"{3}.{1}: offset\");\n", l.type,
                         f.designator, f.offset, l.name);
      if (f.size != 0)
        src += fmt::format("_Static_assert(sizeof((({0} *)0)->{1}) == {2}, \"{3}.{1}: size\");\n", l.type,
                           f.designator, f.size, l.name);
      ++checked;
    }
    const auto path = dir.path() / fmt::format("{}.c", l.name);
    std::ofstream(path) << src;
    const auto [status, output] = run(compiler + " -fsyntax-only -w " + path.string());
    EXPECT_EQ(status, 0) << format::arch_name(arch) << " " << l.name << ":\n" << src << output;
  }
  EXPECT_GT(checked, 100u) << "too few fields checked";
}

#if defined(__x86_64__)
constexpr Arch kHostArch = Arch::x86_64;
#elif defined(__aarch64__)
constexpr Arch kHostArch = Arch::aarch64;
#endif

TEST(UapiCheckvalTest, HostTablesMatchTheHostHeaders) { check_arch(kHostArch, "cc -x c"); }

TEST(UapiCheckvalTest, Aarch64TablesMatchTheArm64Headers) {
  if (kHostArch == Arch::aarch64) GTEST_SKIP() << "the host test covers aarch64";
  const std::filesystem::path cross = "/usr/aarch64-linux-gnu/include";
  // The packages scripts/setup.sh installs; without them this cannot run.
  if (!std::filesystem::exists(cross / "asm/sve_context.h") || !std::filesystem::exists(cross / "sys/socket.h"))
    GTEST_SKIP() << "linux-libc-dev-arm64-cross / libc6-dev-arm64-cross not installed";
  const auto [status, resource] = run("clang -print-resource-dir");
  ASSERT_EQ(status, 0) << resource;
  const std::string dir = resource.substr(0, resource.find_last_not_of('\n') + 1);
  check_arch(Arch::aarch64, "clang -x c --target=aarch64-linux-gnu -nostdinc -isystem " + dir + "/include -isystem " +
                                cross.string());
}

TEST(UapiCheckvalTest, HostLayoutsMatchTheHostHeaders) { check_layouts(kHostArch, "cc -x c"); }

TEST(UapiCheckvalTest, Aarch64LayoutsMatchTheArm64Headers) {
  if (kHostArch == Arch::aarch64) GTEST_SKIP() << "the host test covers aarch64";
  const std::filesystem::path cross = "/usr/aarch64-linux-gnu/include";
  if (!std::filesystem::exists(cross / "asm/sve_context.h"))
    GTEST_SKIP() << "linux-libc-dev-arm64-cross not installed";
  const auto [status, resource] = run("clang -print-resource-dir");
  ASSERT_EQ(status, 0) << resource;
  const std::string dir = resource.substr(0, resource.find_last_not_of('\n') + 1);
  check_layouts(Arch::aarch64, "clang -x c --target=aarch64-linux-gnu -nostdinc -isystem " + dir + "/include -isystem " +
                                   cross.string());
}

// struct_layouts.h, which the decoders read, says what the checked list says.
TEST(UapiCheckvalTest, GeneratedLayoutsAreTheCheckedOnes) {
  for (const auto& l : kLayoutChecks) {
    EXPECT_STREQ(uapi::kLayoutArchs[l.arch_index], std::string(l.arch).c_str());
    EXPECT_EQ(l.generated_size, l.size) << l.arch << " " << l.name;
  }
  for (const auto& f : kLayoutFieldChecks) {
    EXPECT_EQ(f.generated.offset, f.offset) << f.arch << " " << f.name << "." << f.designator;
    EXPECT_EQ(f.generated.size, f.size) << f.arch << " " << f.name << "." << f.designator;
  }
  EXPECT_GT(std::size(kLayoutFieldChecks), 200u);
}

// A name appears once per set, and its value decodes back to it: no entry
// hides another (a set once listed SO_SNDBUFFORCE under two numbers).
TEST(UapiCheckvalTest, EveryEntryDecodesToItsOwnName) {
  for (Arch arch : {Arch::x86_64, Arch::aarch64}) {
    for (const auto& sh : kSetHeaders) {
      const FlagSet* set = find_flag_set(sh.set, arch);
      if (set == nullptr) continue;
      std::set<std::string_view> names;
      for (auto part : {set->values, set->bits}) {
        for (const auto& entry : part) {
          EXPECT_TRUE(names.insert(entry.name).second) << sh.set << ": " << entry.name << " twice";
          if (part.data() != set->values.data()) continue;
          std::string out;
          append_flags(out, *set, entry.value);
          EXPECT_EQ(out, entry.name) << format::arch_name(arch) << " " << sh.set;
        }
      }
    }
  }
}

}  // namespace
}  // namespace traceloop::tools
