#pragma once
// Translates the syscall catalogue into the per-syscall capture plans the BPF
// programs read (map `plans`, indexed by syscall number): which arguments to
// read, at entry or exit, and where their length comes from.

#include <cstdint>
#include <span>
#include <vector>

#include "bpf/traceloop_events.h"
#include "format/catalogue.h"

namespace traceloop::recorder {

struct PlanOptions {
  bool capture_data = true;
  std::vector<uint32_t> syscall_filter;  // empty: every syscall
};

// One plan per syscall number below TL_MAX_SYSCALLS; numbers the catalogue
// does not know are traced (raw args only) unless a filter is given.
std::vector<tl_plan> build_capture_plans(const format::Catalogue& catalogue, const PlanOptions& options);

// How one parameter is captured; {TL_CAP_NONE, 0} when it is not.
tl_arg_plan plan_for_param(const format::ParamSpec& param);

}  // namespace traceloop::recorder
