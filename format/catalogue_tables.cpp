// The built-in catalogues, compiled from the generated tables in
// format/syscalls/*.inc (scripts/gen_syscall_catalogue.py writes them).
//
// Each .inc is a flat list of TL_SYSCALL rows, each followed by its TL_PARAM
// rows. It is expanded twice per arch into constexpr arrays of plain rows,
// so the data costs no static initialisation and compiles fast; the
// std::string-based SyscallSpec vectors are built once, on first use.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "format/catalogue.h"

namespace traceloop::format {
namespace {

struct RawSyscall {
  uint32_t nr;
  const char* name;
  ReturnKind returns;
  bool never_returns;
  uint8_t param_count;
};

struct RawParam {
  const char* name;
  const char* c_type;
  ArgKind kind;
  int8_t len_arg;
  const char* flag_set;
  const char* struct_type;
  uint32_t struct_size;
};

// Pass 1: syscall rows only.
#define TL_SYSCALL(nr, name, returns, never_returns, count) \
  RawSyscall{nr, name, ReturnKind::returns, never_returns, count},
#define TL_PARAM(name, c_type, kind, len_arg, flag_set, struct_type, struct_size)

constexpr RawSyscall kX86_64Syscalls[] = {
#include "format/syscalls/x86_64.inc"
};
constexpr RawSyscall kAarch64Syscalls[] = {
#include "format/syscalls/aarch64.inc"
};

#undef TL_SYSCALL
#undef TL_PARAM

// Pass 2: parameter rows only, in the same order.
#define TL_SYSCALL(nr, name, returns, never_returns, count)
#define TL_PARAM(name, c_type, kind, len_arg, flag_set, struct_type, struct_size) \
  RawParam{name, c_type, ArgKind::kind, len_arg, flag_set, struct_type, struct_size},

constexpr RawParam kX86_64Params[] = {
#include "format/syscalls/x86_64.inc"
};
constexpr RawParam kAarch64Params[] = {
#include "format/syscalls/aarch64.inc"
};

#undef TL_SYSCALL
#undef TL_PARAM

template <size_t NS, size_t NP>
constexpr bool counts_match(const RawSyscall (&syscalls)[NS], const RawParam (&)[NP]) {
  size_t total = 0;
  for (const RawSyscall& s : syscalls) total += s.param_count;
  return total == NP;
}
static_assert(counts_match(kX86_64Syscalls, kX86_64Params), "x86_64.inc parameter counts are inconsistent");
static_assert(counts_match(kAarch64Syscalls, kAarch64Params), "aarch64.inc parameter counts are inconsistent");

template <size_t NS, size_t NP>
Catalogue build(Arch arch, const RawSyscall (&syscalls)[NS], const RawParam (&params)[NP]) {
  std::vector<SyscallSpec> specs;
  specs.reserve(NS);
  size_t next_param = 0;
  for (const RawSyscall& raw : syscalls) {
    SyscallSpec spec;
    spec.nr = raw.nr;
    spec.name = raw.name;
    spec.returns = raw.returns;
    spec.never_returns = raw.never_returns;
    spec.params.reserve(raw.param_count);
    for (uint8_t i = 0; i < raw.param_count; ++i) {
      const RawParam& p = params[next_param++];
      ParamSpec param;
      param.name = p.name;
      param.c_type = p.c_type;
      param.kind = p.kind;
      param.len_arg = p.len_arg;
      param.flag_set = p.flag_set;
      param.struct_type = p.struct_type;
      param.struct_size = p.struct_size;
      spec.params.push_back(std::move(param));
    }
    specs.push_back(std::move(spec));
  }
  return Catalogue(arch, std::move(specs));
}

}  // namespace

const Catalogue& builtin_catalogue(Arch arch) {
  // Function-local statics: built on first use, thread-safe, immutable after.
  switch (arch) {
    case Arch::aarch64: {
      static const Catalogue aarch64 = build(Arch::aarch64, kAarch64Syscalls, kAarch64Params);
      return aarch64;
    }
    case Arch::x86_64:
      break;
  }
  static const Catalogue x86_64 = build(Arch::x86_64, kX86_64Syscalls, kX86_64Params);
  return x86_64;
}

}  // namespace traceloop::format
