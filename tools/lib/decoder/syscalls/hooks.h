#pragma once
// For the files of tools/lib/decoder/syscalls/: what a syscall's hooks use,
// and the hooks registry.cpp lists.

#include "format/syscalls/uapi_constants.h"
#include "tools/lib/decoder/flag_sets.h"
#include "tools/lib/decoder/struct_decode.h"
#include "tools/lib/decoder/syscall_hooks.h"

namespace traceloop::tools::syscalls {

extern const SyscallHooks kClone;
extern const SyscallHooks kFcntl;
extern const SyscallHooks kFutex;
extern const SyscallHooks kGetcwd;
extern const SyscallHooks kGetrandom;
extern const SyscallHooks kOpen;
extern const SyscallHooks kPrctl;
extern const SyscallHooks kRecvmsg;
extern const SyscallHooks kRtSigreturn;

}  // namespace traceloop::tools::syscalls
