#pragma once
// Translates the syscall catalogue into the per-syscall capture plans the BPF
// programs read (map `plans`, indexed by syscall number): which arguments to
// read, at entry or exit, and where their length comes from.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "bpf/traceloop_events.h"
#include "format/catalogue.h"

namespace traceloop::recorder {

struct PlanOptions {
  bool capture_data = true;
  // The numbers traced; nullopt: every syscall (an empty list traces none).
  std::optional<std::vector<uint32_t>> syscall_filter;
};

// One plan per syscall number below TL_MAX_SYSCALLS; numbers the catalogue
// does not know are traced (raw args only) unless a filter leaves them out.
std::vector<tl_plan> build_capture_plans(const format::Catalogue& catalogue, const PlanOptions& options);

// How one parameter is captured; {TL_CAP_NONE, 0} when it is not. A
// parameter with variants (format::ParamVariant) gets one capture, made only
// for the values of its selecting argument whose shape takes it (a
// condition the BPF side tests): the parameter's own shape's capture when it
// has one, else the first variant's that has one. Variants the condition
// cannot tell apart (several selectors, more than TL_COND_VALUES values)
// make the capture unconditional: never fewer data, at worst a capture the
// decoder does not use.
tl_arg_plan plan_for_param(const format::ParamSpec& param);

}  // namespace traceloop::recorder
