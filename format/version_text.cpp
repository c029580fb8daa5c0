#include "format/version_text.h"

#include "format/metadata.h"

namespace traceloop::format {

std::string version_text(std::string_view program, bool writes) {
  const std::string current = std::to_string(kFormatMajor) + "." + std::to_string(kFormatMinor);
  return std::string(program) + " " + std::string(traceloop_version()) + "\ntrace format " + current + " (" +
         (writes ? "writes it; " : "") + "reads formats " + std::to_string(kOldestFormatMajor) + ".0 to " +
         std::to_string(kFormatMajor) + ".x)";
}

}  // namespace traceloop::format
