#include "tools/lib/decoder/notice_text.h"

#include <array>
#include <cstring>

#include "tools/lib/decoder/flag_sets.h"
#include "tools/lib/decoder/struct_decode.h"
#include "tools/lib/decoder/text_append.h"
#include "tools/lib/decoder/value_text.h"

namespace traceloop::tools {

void describe_notice_siginfo(ValueSink& sink, const format::TaskNotice& n, const format::Catalogue& catalogue) {
  // The recorder keeps the kernel's part of siginfo_t; the rest is zeros
  // by definition, which the decoder reads as such.
  std::array<char, format::TaskNotice::kSiginfoBytes> bytes{};
  std::memcpy(bytes.data(), n.siginfo.data(), std::min(n.siginfo.size(), bytes.size()));
  static const StructDecoder* const decoder = find_struct_decoder("siginfo");
  StructContext ctx;
  ctx.arch = catalogue.arch();
  ctx.catalogue = &catalogue;
  decoder->describe(sink, std::string_view(bytes.data(), bytes.size()), ctx);
}

ExitOutcome exit_outcome(int32_t status) {
  ExitOutcome o;
  const int low = status & 0x7f;
  o.killed = low != 0 && low != 0x7f;  // WIFSIGNALED (0x7f: stopped, not an end)
  o.code = o.killed ? low : (status >> 8) & 0xff;
  o.core_dumped = o.killed && (status & 0x80) != 0;
  return o;
}

void append_exit_outcome(std::string& out, int32_t status) {
  const ExitOutcome o = exit_outcome(status);
  if (!o.killed) {
    out.append("exited with ");
    append_decimal(out, static_cast<uint64_t>(o.code));
    return;
  }
  out.append("killed by ");
  append_signal(out, o.code);
  if (o.core_dumped) out.append(" (core dumped)");
}

void append_notice(std::string& out, const format::TaskNotice& n, const format::Catalogue& catalogue) {
  if (n.kind == format::TaskNotice::Kind::exit) {
    out.append("+++ ");
    append_exit_outcome(out, n.exit_status);
    out.append(" +++");
    return;
  }
  out.append("--- ");
  append_signal(out, n.signo);
  out.push_back(' ');
  TextValueWriter writer(out);
  describe_notice_siginfo(writer, n, catalogue);
  out.append(" ---");
}

}  // namespace traceloop::tools
