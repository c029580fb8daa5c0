// The built-in catalogues, compiled from the generated tables in
// format/syscalls/*.inc (scripts/gen_syscall_catalogue.py writes them).
//
// Each .inc is a flat list of TL_SYSCALL rows, each followed by its TL_PARAM
// rows, each followed by its TL_VARIANT rows, and by a TL_CLASSES row when
// strace puts the syscall in classes. It is expanded four times per arch into
// constexpr arrays of plain rows, so the data costs no static
// initialisation and compiles fast; the std::string-based SyscallSpec
// vectors are built once, on first use.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

#include "format/catalogue.h"
#include "format/syscall_set.h"

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
  uint8_t variant_count;
};

// Room for the values of one variant row; counts_match checks none has more.
constexpr size_t kRawValues = 8;

struct RawVariant {
  uint8_t selector;
  uint64_t mask;
  ArgKind kind;
  int8_t len_arg;
  const char* flag_set;
  const char* struct_type;
  uint32_t struct_size;
  size_t value_count;
  uint64_t values[kRawValues];
};

constexpr RawVariant make_variant(uint8_t selector, uint64_t mask, ArgKind kind, int8_t len_arg,
                                  const char* flag_set, const char* struct_type, uint32_t struct_size,
                                  std::initializer_list<uint64_t> values) {
  RawVariant v{selector, mask, kind, len_arg, flag_set, struct_type, struct_size, values.size(), {}};
  size_t i = 0;
  for (const uint64_t x : values) {
    if (i < kRawValues) v.values[i] = x;
    ++i;
  }
  return v;
}

// Pass 1: syscall rows only.
#define TL_SYSCALL(nr, name, returns, never_returns, count) \
  RawSyscall{nr, name, ReturnKind::returns, never_returns, count},
#define TL_PARAM(name, c_type, kind, len_arg, flag_set, struct_type, struct_size, variants)
#define TL_VARIANT(selector, mask, kind, len_arg, flag_set, struct_type, struct_size, ...)
#define TL_CLASSES(nr, classes)

constexpr RawSyscall kX86_64Syscalls[] = {
#include "format/syscalls/x86_64.inc"
};
constexpr RawSyscall kAarch64Syscalls[] = {
#include "format/syscalls/aarch64.inc"
};

#undef TL_SYSCALL
#undef TL_PARAM
#undef TL_VARIANT
#undef TL_CLASSES

// Pass 2: parameter rows only, in the same order.
#define TL_SYSCALL(nr, name, returns, never_returns, count)
#define TL_PARAM(name, c_type, kind, len_arg, flag_set, struct_type, struct_size, variants) \
  RawParam{name, c_type, ArgKind::kind, len_arg, flag_set, struct_type, struct_size, variants},
#define TL_VARIANT(selector, mask, kind, len_arg, flag_set, struct_type, struct_size, ...)
#define TL_CLASSES(nr, classes)

constexpr RawParam kX86_64Params[] = {
#include "format/syscalls/x86_64.inc"
};
constexpr RawParam kAarch64Params[] = {
#include "format/syscalls/aarch64.inc"
};

#undef TL_SYSCALL
#undef TL_PARAM
#undef TL_VARIANT
#undef TL_CLASSES

// Pass 3: variant rows only, in the same order.
#define TL_SYSCALL(nr, name, returns, never_returns, count)
#define TL_PARAM(name, c_type, kind, len_arg, flag_set, struct_type, struct_size, variants)
#define TL_VARIANT(selector, mask, kind, len_arg, flag_set, struct_type, struct_size, ...) \
  make_variant(selector, mask, ArgKind::kind, len_arg, flag_set, struct_type, struct_size, {__VA_ARGS__}),
#define TL_CLASSES(nr, classes)

constexpr RawVariant kX86_64Variants[] = {
#include "format/syscalls/x86_64.inc"
};
constexpr RawVariant kAarch64Variants[] = {
#include "format/syscalls/aarch64.inc"
};

#undef TL_SYSCALL
#undef TL_PARAM
#undef TL_VARIANT
#undef TL_CLASSES

// Pass 4: class rows only.
struct RawClasses {
  uint32_t nr;
  uint32_t classes;
};
#define TL_SYSCALL(nr, name, returns, never_returns, count)
#define TL_PARAM(name, c_type, kind, len_arg, flag_set, struct_type, struct_size, variants)
#define TL_VARIANT(selector, mask, kind, len_arg, flag_set, struct_type, struct_size, ...)
#define TL_CLASSES(nr, classes) RawClasses{nr, classes},

constexpr RawClasses kX86_64Classes[] = {
#include "format/syscalls/x86_64.inc"
};
constexpr RawClasses kAarch64Classes[] = {
#include "format/syscalls/aarch64.inc"
};

#undef TL_SYSCALL
#undef TL_PARAM
#undef TL_VARIANT
#undef TL_CLASSES

template <size_t NS, size_t NP, size_t NV>
constexpr bool counts_match(const RawSyscall (&syscalls)[NS], const RawParam (&params)[NP],
                            const RawVariant (&variants)[NV]) {
  size_t total_params = 0;
  for (const RawSyscall& s : syscalls) total_params += s.param_count;
  size_t total_variants = 0;
  for (const RawParam& p : params) total_variants += p.variant_count;
  for (const RawVariant& v : variants) {
    if (v.value_count == 0 || v.value_count > kRawValues) return false;
  }
  return total_params == NP && total_variants == NV;
}
static_assert(counts_match(kX86_64Syscalls, kX86_64Params, kX86_64Variants),
              "x86_64.inc parameter or variant counts are inconsistent");
static_assert(counts_match(kAarch64Syscalls, kAarch64Params, kAarch64Variants),
              "aarch64.inc parameter or variant counts are inconsistent");

ParamSpec param_of(const char* name, const char* c_type, ArgKind kind, int8_t len_arg, const char* flag_set,
                   const char* struct_type, uint32_t struct_size) {
  ParamSpec param;
  param.name = name;
  param.c_type = c_type;
  param.kind = kind;
  param.len_arg = len_arg;
  param.flag_set = flag_set;
  param.struct_type = struct_type;
  param.struct_size = struct_size;
  return param;
}

template <size_t NS, size_t NP, size_t NV>
Catalogue build(Arch arch, const RawSyscall (&syscalls)[NS], const RawParam (&params)[NP],
                const RawVariant (&variants)[NV]) {
  std::vector<SyscallSpec> specs;
  specs.reserve(NS);
  size_t next_param = 0;
  size_t next_variant = 0;
  for (const RawSyscall& raw : syscalls) {
    SyscallSpec spec;
    spec.nr = raw.nr;
    spec.name = raw.name;
    spec.returns = raw.returns;
    spec.never_returns = raw.never_returns;
    spec.params.reserve(raw.param_count);
    for (uint8_t i = 0; i < raw.param_count; ++i) {
      const RawParam& p = params[next_param++];
      ParamSpec param = param_of(p.name, p.c_type, p.kind, p.len_arg, p.flag_set, p.struct_type, p.struct_size);
      for (uint8_t k = 0; k < p.variant_count; ++k) {
        const RawVariant& v = variants[next_variant++];
        ParamVariant variant;
        variant.selector = v.selector;
        variant.mask = v.mask;
        variant.values.assign(v.values, v.values + v.value_count);
        variant.shape = param_of(p.name, p.c_type, v.kind, v.len_arg, v.flag_set, v.struct_type, v.struct_size);
        param.variants.push_back(std::move(variant));
      }
      spec.params.push_back(std::move(param));
    }
    specs.push_back(std::move(spec));
  }
  return Catalogue(arch, std::move(specs));
}

template <size_t N>
constexpr uint32_t classes_in(const RawClasses (&rows)[N], uint32_t nr) {
  for (const RawClasses& row : rows)
    if (row.nr == nr) return row.classes;
  return 0;
}

}  // namespace

uint32_t builtin_syscall_classes(Arch arch, uint32_t nr) {
  return arch == Arch::aarch64 ? classes_in(kAarch64Classes, nr) : classes_in(kX86_64Classes, nr);
}

const Catalogue& builtin_catalogue(Arch arch) {
  // Function-local statics: built on first use, thread-safe, immutable after.
  switch (arch) {
    case Arch::aarch64: {
      static const Catalogue aarch64 = build(Arch::aarch64, kAarch64Syscalls, kAarch64Params, kAarch64Variants);
      return aarch64;
    }
    case Arch::x86_64:
      break;
  }
  static const Catalogue x86_64 = build(Arch::x86_64, kX86_64Syscalls, kX86_64Params, kX86_64Variants);
  return x86_64;
}

}  // namespace traceloop::format
