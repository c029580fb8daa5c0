#include "recorder/signal_frame.h"

#include <string_view>

#include "format/syscalls/struct_layouts.h"

namespace traceloop::recorder {

// The frame's start is kernel-internal, its parts are uapi structures (their
// offsets generated from each architecture's headers):
//   x86_64 (arch/x86/include/asm/sigframe.h): struct rt_sigframe { char
//     *pretcode; struct ucontext uc; struct siginfo info; }. The handler's
//     `ret` popped pretcode, so the stack pointer is at uc.
//   arm64 (arch/arm64/kernel/signal.c): struct rt_sigframe { struct siginfo
//     info; struct ucontext uc; }, the stack pointer at the frame.
uint32_t sigreturn_mask_at_sp(format::Arch arch) {
  static_assert(std::string_view(uapi::kLayoutArchs[0]) == "x86_64" &&
                std::string_view(uapi::kLayoutArchs[1]) == "aarch64");
  const size_t i = arch == format::Arch::aarch64 ? 1 : 0;
  const uint32_t mask_in_ucontext = uapi::kUcontextLayout[i].sigmask.offset;
  switch (arch) {
    case format::Arch::x86_64:
      return mask_in_ucontext;
    case format::Arch::aarch64:
      return uapi::kSiginfoLayout[i].size + mask_in_ucontext;
  }
  return mask_in_ucontext;
}

}  // namespace traceloop::recorder
