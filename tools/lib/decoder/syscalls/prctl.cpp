// prctl: strace shows only the arguments an option uses (the options below;
// every other one with all five), the name PR_GET_NAME wrote as a string,
// the numbers some options take in decimal, and the dumpable state by name
// (PR_SET_DUMPABLE's argument, PR_GET_DUMPABLE's result).
// (What arg2 is for each option is declared in the annotations.)

#include "tools/lib/decoder/syscalls/hooks.h"

namespace traceloop::tools::syscalls {
namespace {

uint32_t option(const format::Event& e) { return static_cast<uint32_t>(e.args[0]); }

constexpr size_t kDumpable = 0;  // index in kPrctl's sets

size_t strace_args(const HookCall& call, std::array<ShownArg, 6>& shown) {
  size_t n = 0;
  switch (option(call.event)) {
    case uapi::kPrGetDumpable: case uapi::kPrGetKeepcaps: case uapi::kPrGetSeccomp: case uapi::kPrGetTimerslack:
      n = 1;
      break;
    case uapi::kPrSetName: case uapi::kPrGetName: case uapi::kPrSetPdeathsig: case uapi::kPrSetDumpable:
    case uapi::kPrSetKeepcaps: case uapi::kPrSetChildSubreaper: case uapi::kPrSetTimerslack:
      n = 2;
      break;
    default:
      n = 5;
      break;
  }
  // A catalogue is data from the file: its prctl may declare fewer parameters.
  n = std::min(n, call.plan.params.size());
  for (size_t i = 0; i < n; ++i) shown[i] = {static_cast<uint8_t>(i), {}};
  return n;
}

// PR_GET_NAME copies the calling thread's name (current->comm) into arg2:
// the name the event recorded at the call's entry, so no capture is needed.
bool describe_arg(const HookCall& call, size_t index) {
  if (index != 1) return false;
  switch (option(call.event)) {
    case uapi::kPrGetName:
      if (call.event.args[1] == 0 || !returned_ok(call.event)) return false;
      call.sink.string({call.event.comm, 0, false});
      return true;
    case uapi::kPrSetDumpable:
      if (const FlagSet* set = call.plan.hook_sets[kDumpable]) {
        call.sink.flags(*set, static_cast<uint32_t>(call.event.args[1]));
        return true;
      }
      return false;
    // A number, which strace writes in decimal.
    case uapi::kPrSetKeepcaps: case uapi::kPrSetChildSubreaper:
    case uapi::kPrSetTimerslack: case uapi::kPrSetNoNewPrivs:
      call.sink.unsigned_integer(call.event.args[1], Meaning::none);
      return true;
    default:
      return false;
  }
}

// PR_GET_DUMPABLE's result, named after its value: "1 (SUID_DUMP_USER)".
bool describe_return(const HookCall& call) {
  if (option(call.event) != uapi::kPrGetDumpable) return false;
  const FlagSet* set = call.plan.hook_sets[kDumpable];
  if (set == nullptr) return false;
  for (const FlagName& n : set->values)
    if (static_cast<int64_t>(n.value) == call.event.ret) {
      call.sink.constant(n.name, call.event.ret);
      return true;
    }
  return false;
}

}  // namespace

const SyscallHooks kPrctl = {{"dumpable"}, describe_arg, strace_args, describe_return};

}  // namespace traceloop::tools::syscalls
