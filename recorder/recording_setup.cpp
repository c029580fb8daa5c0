#include "recorder/recording_setup.h"

#include "recorder/capture_plan.h"

namespace traceloop::recorder {

Result<format::SyscallSet> recorded_syscalls(const format::Catalogue& catalogue, const CaptureChoice& choice) {
  if (choice.syscall_filters.empty()) return format::SyscallSet{};
  std::string expression;
  for (const std::string& piece : choice.syscall_filters) expression += (expression.empty() ? "" : ",") + piece;
  return format::SyscallSet::parse(expression, catalogue);
}

Result<std::vector<tl_plan>> capture_plans_for(const format::Catalogue& catalogue, const CaptureChoice& choice) {
  PlanOptions plan;
  plan.capture_data = choice.capture_data;
  auto set = recorded_syscalls(catalogue, choice);
  if (!set.ok()) return set.error();
  if (!set->is_all()) {
    std::vector<uint32_t> numbers = set->numbers_below(TL_MAX_SYSCALLS);
    if (choice.trace_exec) {
      for (const char* name : {"execve", "execveat"})
        if (const format::SyscallSpec* spec = catalogue.find(name)) numbers.push_back(spec->nr);
    }
    plan.syscall_filter = std::move(numbers);
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
