#pragma once
// The kernel's signal frame, as rt_sigreturn finds it on the user stack.

#include <cstdint>

#include "format/catalogue.h"

namespace traceloop::recorder {

// Bytes from the user stack pointer at rt_sigreturn's entry to the signal
// mask the call restores (the recorder's rt_sigreturn argument).
uint32_t sigreturn_mask_at_sp(format::Arch arch);

}  // namespace traceloop::recorder
