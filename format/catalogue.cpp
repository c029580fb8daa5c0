#include "format/catalogue.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

namespace traceloop::format {
namespace {

// Spellings shared with annotations.txt, the generator and the schema
// comments (snake case of the Cap'n Proto enumerants); they appear in JSON
// output, so they never change.
constexpr std::array<std::pair<ArgKind, std::string_view>, 24> kArgKindNames{{
    {ArgKind::integer, "integer"},
    {ArgKind::unsigned_int, "unsigned"},
    {ArgKind::hex, "hex"},
    {ArgKind::fd, "fd"},
    {ArgKind::dirfd, "dirfd"},
    {ArgKind::pointer, "pointer"},
    {ArgKind::path, "path"},
    {ArgKind::string, "string"},
    {ArgKind::buffer_in, "buffer_in"},
    {ArgKind::buffer_out, "buffer_out"},
    {ArgKind::struct_in, "struct_in"},
    {ArgKind::struct_out, "struct_out"},
    {ArgKind::string_array, "string_array"},
    {ArgKind::sockaddr_in, "sockaddr_in"},
    {ArgKind::sockaddr_out, "sockaddr_out"},
    {ArgKind::flags, "flags"},
    {ArgKind::enum_value, "enum_value"},
    {ArgKind::signal, "signal"},
    {ArgKind::mode, "mode"},
    {ArgKind::pid, "pid"},
    {ArgKind::uid, "uid"},
    {ArgKind::gid, "gid"},
    {ArgKind::struct_array_in, "struct_array_in"},
    {ArgKind::struct_array_out, "struct_array_out"},
}};

constexpr std::array<std::pair<ReturnKind, std::string_view>, 6> kReturnKindNames{{
    {ReturnKind::integer, "integer"},
    {ReturnKind::fd, "fd"},
    {ReturnKind::hex, "hex"},
    {ReturnKind::pid, "pid"},
    {ReturnKind::unsigned_int, "unsigned"},
    {ReturnKind::none, "none"},
}};

// Syscall numbers are small (< 1024 today); a corrupt or hostile embedded
// catalogue must not make us allocate a huge index, so numbers beyond this
// are found by binary search instead.
constexpr uint32_t kMaxIndexedNr = 1u << 16;

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

}  // namespace

std::string_view arch_name(Arch arch) {
  switch (arch) {
    case Arch::x86_64: return "x86_64";
    case Arch::aarch64: return "aarch64";
  }
  return "unknown";
}

std::optional<Arch> arch_from_name(std::string_view name) {
  if (name == "x86_64" || name == "amd64" || name == "x86-64") return Arch::x86_64;
  if (name == "aarch64" || name == "arm64") return Arch::aarch64;
  return std::nullopt;
}

Arch host_arch() {
#if defined(__x86_64__)
  return Arch::x86_64;
#elif defined(__aarch64__)
  return Arch::aarch64;
#else
#error "traceloop supports x86_64 and aarch64 hosts"
#endif
}

std::string_view arg_kind_name(ArgKind kind) {
  for (const auto& [k, name] : kArgKindNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<ArgKind> arg_kind_from_name(std::string_view name) {
  for (const auto& [k, n] : kArgKindNames) {
    if (n == name) return k;
  }
  if (name == "unsigned_int") return ArgKind::unsigned_int;  // the C++ spelling
  return std::nullopt;
}

std::string_view return_kind_name(ReturnKind kind) {
  for (const auto& [k, name] : kReturnKindNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<ReturnKind> return_kind_from_name(std::string_view name) {
  for (const auto& [k, n] : kReturnKindNames) {
    if (n == name) return k;
  }
  if (name == "unsigned_int") return ReturnKind::unsigned_int;
  return std::nullopt;
}

bool ParamSpec::captured_at_entry() const {
  switch (kind) {
    case ArgKind::path:
    case ArgKind::string:
    case ArgKind::buffer_in:
    case ArgKind::struct_in:
    case ArgKind::string_array:
    case ArgKind::sockaddr_in:
    case ArgKind::struct_array_in:
      return true;
    default:
      return false;
  }
}

bool ParamSpec::captured_at_exit() const {
  switch (kind) {
    case ArgKind::buffer_out:
    case ArgKind::struct_out:
    case ArgKind::sockaddr_out:
    case ArgKind::struct_array_out:
      return true;
    default:
      return false;
  }
}

bool ParamVariant::matches(std::span<const uint64_t> args) const {
  if (selector >= args.size()) return false;
  const uint64_t v = args[selector] & mask;
  return std::find(values.begin(), values.end(), v) != values.end();
}

int variant_index(const ParamSpec& param, std::span<const uint64_t> args) {
  for (size_t i = 0; i < param.variants.size(); ++i) {
    if (param.variants[i].matches(args)) return static_cast<int>(i);
  }
  return -1;
}

const ParamSpec& shape_for(const ParamSpec& param, std::span<const uint64_t> args) {
  const int i = variant_index(param, args);
  return i < 0 ? param : param.variants[static_cast<size_t>(i)].shape;
}

Catalogue::Catalogue(Arch arch, std::vector<SyscallSpec> syscalls)
    : arch_(arch), syscalls_(std::move(syscalls)) {
  // Stable, so that of two entries with one number the first given wins.
  std::stable_sort(syscalls_.begin(), syscalls_.end(),
                   [](const SyscallSpec& a, const SyscallSpec& b) { return a.nr < b.nr; });
  syscalls_.erase(std::unique(syscalls_.begin(), syscalls_.end(),
                              [](const SyscallSpec& a, const SyscallSpec& b) { return a.nr == b.nr; }),
                  syscalls_.end());
  uint32_t max_indexed = 0;
  for (const SyscallSpec& s : syscalls_) {
    if (s.nr < kMaxIndexedNr) max_indexed = std::max(max_indexed, s.nr + 1);
  }
  by_nr_.assign(max_indexed, -1);
  for (size_t i = 0; i < syscalls_.size(); ++i) {
    if (syscalls_[i].nr < kMaxIndexedNr) by_nr_[syscalls_[i].nr] = static_cast<int32_t>(i);
  }
}

const SyscallSpec* Catalogue::find(std::string_view name) const {
  for (const SyscallSpec& s : syscalls_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const SyscallSpec* Catalogue::find_unindexed(uint32_t nr) const {
  if (nr < kMaxIndexedNr) return nullptr;  // the index covers it: unknown
  // syscalls_ is sorted by number.
  const auto it = std::lower_bound(syscalls_.begin(), syscalls_.end(), nr,
                                   [](const SyscallSpec& s, uint32_t n) { return s.nr < n; });
  return it != syscalls_.end() && it->nr == nr ? &*it : nullptr;
}

Catalogue Catalogue::subset(std::span<const uint32_t> nrs) const {
  std::vector<SyscallSpec> kept;
  for (const uint32_t nr : nrs) {
    if (const SyscallSpec* spec = find(nr)) kept.push_back(*spec);
  }
  return Catalogue(arch_, std::move(kept));
}

std::string Catalogue::name_of(uint32_t nr) const {
  if (const SyscallSpec* spec = find(nr)) return spec->name;
  return "syscall_" + std::to_string(nr);
}

Result<std::vector<uint32_t>> resolve_syscall_names(const Catalogue& catalogue,
                                                     std::span<const std::string> names) {
  std::vector<uint32_t> numbers;
  std::string unknown;
  auto add = [&](std::string_view raw) {
    const std::string_view name = trim(raw);
    if (name.empty()) return;
    if (const SyscallSpec* spec = catalogue.find(name)) {
      if (std::find(numbers.begin(), numbers.end(), spec->nr) == numbers.end()) numbers.push_back(spec->nr);
    } else {
      if (!unknown.empty()) unknown += ", ";
      unknown += name;
    }
  };
  // Each element may itself be a comma-separated list ("openat,write"), as
  // given to --syscall-filters.
  for (const std::string& item : names) {
    std::string_view rest = item;
    while (true) {
      const auto comma = rest.find(',');
      add(rest.substr(0, comma));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (!unknown.empty()) {
    return Error{"unknown syscall name(s): " + unknown};
  }
  return numbers;
}

}  // namespace traceloop::format
