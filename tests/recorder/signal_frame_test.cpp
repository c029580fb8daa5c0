// Where rt_sigreturn's mask lies above the stack pointer: the values the
// kernel's frames give on each architecture (x86_64: the ucontext's
// uc_flags, uc_link, uc_stack and uc_mcontext before it; arm64: a siginfo,
// then uc_flags, uc_link and uc_stack).
#include "recorder/signal_frame.h"

#include <gtest/gtest.h>

namespace traceloop::recorder {
namespace {

TEST(SignalFrame, MaskOffsetFromTheStackPointer) {
  EXPECT_EQ(sigreturn_mask_at_sp(format::Arch::x86_64), 8u + 8u + 24u + 256u);
  EXPECT_EQ(sigreturn_mask_at_sp(format::Arch::aarch64), 128u + 8u + 8u + 24u);
}

}  // namespace
}  // namespace traceloop::recorder
