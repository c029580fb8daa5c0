// Every value the decoder's flag and enum tables hold, compiled against the
// headers that define its name (strace's #checkval): for each set, a C file of
// `_Static_assert(NAME == value)` lines goes through the C compiler, with the
// host's headers for the host architecture's tables and the aarch64 cross
// headers (clang --target) for aarch64's. A value typed or generated wrong
// fails here, whatever the tables say about themselves.

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
    if (src.empty()) {
      src = "#define _GNU_SOURCE 1\n";
      std::string_view rest = sh.headers;
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        src += fmt::format("#include <{}>\n", rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
    }
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
