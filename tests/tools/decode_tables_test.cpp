// Every structure type the catalogue names, rendered from deterministic bytes
// into one readable golden file per architecture (testdata/golden/
// structs-<arch>.txt): a reviewer reads the decoding of everything at a
// glance, and any change shows up as a line diff. The flag and enum tables are
// checked against the headers instead (uapi_checkval_test.cpp).

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <map>

#include "tests/tools/show_fixtures.h"
#include "tools/lib/decoder/flag_sets.h"
#include "tools/lib/decoder/struct_decode.h"

namespace traceloop::tools {
namespace {

using format::Arch;

// A byte pattern that gives every field a distinct, recognisable value.
std::string pattern(size_t size) {
  std::string b(size, '\0');
  for (size_t i = 0; i < size; ++i) b[i] = static_cast<char>((i * 7 + 1) & 0x3f);
  return b;
}

TEST(DecodeTablesTest, EveryStructType) {
  for (Arch arch : {Arch::x86_64, Arch::aarch64}) {
    std::map<std::string, std::pair<uint32_t, bool>> types;  // type -> size, is array
    for (const auto& s : format::builtin_catalogue(arch).syscalls())
      for (const auto& p : s.params)
        // (a message header's capture carries its parts: below)
        if (!p.struct_type.empty() && p.struct_size != 0 && p.struct_type != "msghdr")
          types[p.struct_type] = {p.struct_size, p.kind == format::ArgKind::struct_array_in ||
                                                     p.kind == format::ArgKind::struct_array_out};
    const StructContext ctx{arch, 32, 64};
    std::string out;
    for (const auto& [type, info] : types) {
      const auto [size, is_array] = info;
      for (const auto& bytes : {std::string(size * (is_array ? 2 : 1), '\0'), pattern(size * (is_array ? 2 : 1))}) {
        out += type + (is_array ? "[2]" : "") + " = ";
        const bool ok = is_array ? append_struct_array(out, type, size, 2, bytes, false, ctx)
                                 : append_struct(out, type, bytes, ctx);
        EXPECT_TRUE(ok) << type;
        out += "\n";
      }
    }
    // Variable-size records and sockaddrs.
    out += "linux_dirent64 = ";
    append_dirents(out, testing::dirent64(5, "file\n1", 8) + testing::dirent64(6, "dir", 4), true, false, ctx);
    out += "\nsockaddr netlink = ";
    append_sockaddr(out, std::string("\x10\x00\x00\x00\x07\x00\x00\x00\x01\x00\x00\x00", 12), ctx);
    out += "\nsockaddr unknown family = ";
    append_sockaddr(out, std::string("\x11\x00\x01\x02\x1b", 5), ctx);
    out += "\nsockaddr short = ";
    append_sockaddr(out, std::string("\x02", 1), ctx);
    // The message header (64-bit layouts on both) with its parts.
    out += "\nmsghdr = ";
    append_msghdr(out, testing::simple_message("x", testing::cmsg(1, 1, std::string("\x04\x00\x00\x00", 4))).str(), -1, ctx);
    out += "\n";
    testing::expect_golden("golden/structs-" + std::string(format::arch_name(arch)) + ".txt", out);
  }
}

}  // namespace
}  // namespace traceloop::tools
