#pragma once
// Task notices (a signal delivered, a thread ended) in strace's words:
//   --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10} ---
//   +++ exited with 3 +++   +++ killed by SIGSEGV (core dumped) +++
// and as values for the structured formats. Names come from the generated
// tables of the trace's architecture and its own syscall table; the siginfo bytes are untrusted (any
// length up to format::TaskNotice::kSiginfoBytes, zeros beyond).

#include <string>

#include "format/catalogue.h"
#include "format/event.h"
#include "tools/lib/decoder/value.h"

namespace traceloop::tools {

// The siginfo, with strace's choice of fields for its signal and code.
void describe_notice_siginfo(ValueSink& sink, const format::TaskNotice& notice,
                             const format::Catalogue& catalogue);
// "--- SIG... {...} ---" or "+++ ... +++", without a newline.
void append_notice(std::string& out, const format::TaskNotice& notice, const format::Catalogue& catalogue);
// The end alone: "exited with 3", "killed by SIGKILL", "killed by SIGSEGV (core dumped)".
void append_exit_outcome(std::string& out, int32_t wait_status);

// The wait status taken apart.
struct ExitOutcome {
  bool killed = false;       // by a signal, else exited
  int code = 0;              // exit status, or the killing signal
  bool core_dumped = false;
};
ExitOutcome exit_outcome(int32_t wait_status);

}  // namespace traceloop::tools
