// Linux errno names and messages (identical on x86_64 and aarch64), plus the
// kernel-internal ones (512..) a syscall can leak to user space. The table is
// generated (format/syscalls/errno.inc, scripts/gen_syscall_catalogue.py):
// numbers from <linux/errno.h>, messages from the C library.

#include <algorithm>
#include <iterator>
#include <string_view>

#include "tools/lib/decoder/decode.h"

namespace traceloop::tools {
namespace {

struct ErrnoEntry {
  int number;
  std::string_view name;
  std::string_view message;
};

constexpr ErrnoEntry kErrnos[] = {
#include "format/syscalls/errno.inc"
};

const ErrnoEntry* find_errno(int err) {
  // kErrnos is sorted by number.
  const auto* it = std::lower_bound(std::begin(kErrnos), std::end(kErrnos), err,
                                    [](const ErrnoEntry& e, int n) { return e.number < n; });
  return it != std::end(kErrnos) && it->number == err ? &*it : nullptr;
}

}  // namespace

std::string_view errno_name(int err) {
  const auto* e = find_errno(err);
  return e ? e->name : std::string_view{};
}

std::string_view errno_message(int err) {
  const auto* e = find_errno(err);
  return e ? e->message : std::string_view{};
}

int errno_from_name(std::string_view name) {
  for (const auto& e : kErrnos)
    if (e.name == name) return e.number;
  return 0;
}

}  // namespace traceloop::tools
