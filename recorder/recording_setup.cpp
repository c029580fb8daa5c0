#include "recorder/recording_setup.h"

#include "recorder/capture_plan.h"

namespace traceloop::recorder {

Result<std::vector<tl_plan>> capture_plans_for(const format::Catalogue& catalogue, const CaptureChoice& choice) {
  PlanOptions plan;
  plan.capture_data = choice.capture_data;
  if (!choice.syscall_filters.empty()) {
    auto nrs = format::resolve_syscall_names(catalogue, choice.syscall_filters);
    if (!nrs.ok()) return nrs.error();
    plan.syscall_filter = *nrs;
  }
  return build_capture_plans(catalogue, plan);
}

Result<BpfOptions> bpf_options_for(const format::Catalogue& catalogue, const CaptureChoice& choice) {
  auto plans = capture_plans_for(catalogue, choice);
  if (!plans.ok()) return plans.error();
  BpfOptions bpf;
  bpf.max_data = choice.capture_data ? choice.max_data : 0;
  bpf.plans = std::move(plans.value());
  return bpf;
}

format::CaptureSettings capture_settings_for(const CaptureChoice& choice, std::string mode, uint64_t ring_bytes) {
  format::CaptureSettings s;
  s.mode = std::move(mode);
  s.syscall_filters.assign(choice.syscall_filters.begin(), choice.syscall_filters.end());
  s.max_data_bytes = choice.capture_data ? choice.max_data : 0;
  s.capture_data = choice.capture_data;
  s.ring_bytes = ring_bytes;
  s.timestamp_resolution_ns = choice.timestamp_resolution_ns;
  return s;
}

}  // namespace traceloop::recorder
