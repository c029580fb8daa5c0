#include "recorder/capture_plan.h"

#include <algorithm>

namespace traceloop::recorder {

namespace {

tl_arg_plan make(uint8_t how, uint8_t when, int8_t len_arg = 0, uint32_t elem_size = 0) {
  tl_arg_plan p{};
  p.how = how;
  p.when = when;
  p.len_arg = len_arg;
  p.elem_size = elem_size;
  return p;
}

bool valid_arg(int8_t index) { return index >= 0 && index < TL_ARGS; }

// Length of a buffer: from an argument, or from the return value (exit only).
tl_arg_plan sized(const format::ParamSpec& param, uint8_t when, uint32_t elem_size) {
  if (param.len_arg == format::kLenFromReturn && when == TL_WHEN_EXIT)
    return make(TL_CAP_LEN_RET, when, 0, elem_size);
  if (valid_arg(param.len_arg)) return make(TL_CAP_LEN_ARG, when, param.len_arg, elem_size);
  return {};
}

bool same_capture(const tl_arg_plan& a, const tl_arg_plan& b) {
  return a.how == b.how && a.when == b.when && a.len_arg == b.len_arg && a.elem_size == b.elem_size;
}

// The capture of one shape of a parameter, unconditional.
tl_arg_plan plan_for_shape(const format::ParamSpec& param) {
  using format::ArgKind;
  uint8_t when = param.captured_at_entry() ? TL_WHEN_ENTRY : param.captured_at_exit() ? TL_WHEN_EXIT : 0;
  if (when == 0) return {};
  switch (param.kind) {
    case ArgKind::path:
    case ArgKind::string:
      return make(TL_CAP_STRING, when);
    case ArgKind::string_array:
      return make(TL_CAP_STRING_ARRAY, when);
    case ArgKind::buffer_out:
      // Directory records: the recorder also counts those it leaves out.
      if ((param.struct_type == "linux_dirent64" || param.struct_type == "linux_dirent") &&
          param.len_arg == format::kLenFromReturn)
        return make(TL_CAP_DIRENTS, when);
      return sized(param, when, 0);
    case ArgKind::buffer_in:
    case ArgKind::sockaddr_in:
      return sized(param, when, 0);
    case ArgKind::struct_in:
    case ArgKind::struct_out:
      // A message header: the recorder follows its pointers too.
      if (param.struct_type == "msghdr") return make(TL_CAP_MSGHDR, when);
      if (param.struct_size == 0) return {};
      return make(TL_CAP_FIXED, when, 0, param.struct_size);
    case ArgKind::sockaddr_out:
      // the length lives in user memory, behind a pointer argument
      if (!valid_arg(param.len_arg)) return {};
      return make(TL_CAP_LEN_PTR_ARG, when, param.len_arg);
    case ArgKind::struct_array_in:
    case ArgKind::struct_array_out:
      if (param.struct_size == 0) return {};
      return sized(param, when, param.struct_size);
    default:
      return {};
  }
}

}  // namespace

tl_arg_plan plan_for_param(const format::ParamSpec& param) {
  const tl_arg_plan plain = plan_for_shape(param);
  if (param.variants.empty()) return plain;
  const format::ParamVariant& first = param.variants.front();
  const bool one_selector = std::all_of(param.variants.begin(), param.variants.end(), [&](const auto& v) {
    return v.selector == first.selector && v.mask == first.mask;
  });
  // Each selecting value, with the capture of the variant it selects (the
  // first that lists it).
  std::vector<std::pair<uint64_t, tl_arg_plan>> selected;
  for (const format::ParamVariant& v : param.variants) {
    const tl_arg_plan p = plan_for_shape(v.shape);
    for (const uint64_t x : v.values) {
      const bool listed = std::any_of(selected.begin(), selected.end(), [&](const auto& s) { return s.first == x; });
      if (!listed) selected.emplace_back(x, p);
    }
  }
  tl_arg_plan capture = plain;
  for (const auto& [value, p] : selected) {
    if (capture.how != TL_CAP_NONE) break;
    capture = p;
  }
  if (capture.how == TL_CAP_NONE) return {};
  // The values where that capture is made (the parameter's own shape makes
  // it: where it is not).
  const bool by_default = plain.how != TL_CAP_NONE;
  std::vector<uint64_t> values;
  for (const auto& [value, p] : selected) {
    if (same_capture(p, capture) != by_default) values.push_back(value);
  }
  if (values.empty()) return capture;
  if (!one_selector || first.selector >= TL_ARGS || values.size() > TL_COND_VALUES) return capture;
  capture.cond_count = static_cast<uint8_t>(values.size());
  capture.cond_arg = first.selector;
  capture.cond_negate = by_default ? 1 : 0;
  capture.cond_mask = first.mask;
  std::copy(values.begin(), values.end(), capture.cond_values);
  return capture;
}

std::vector<tl_plan> build_capture_plans(const format::Catalogue& catalogue, const PlanOptions& options) {
  std::vector<tl_plan> plans(TL_MAX_SYSCALLS);
  const bool filtered = options.syscall_filter.has_value();
  for (auto& plan : plans) plan.traced = filtered ? 0 : 1;
  if (filtered)
    for (uint32_t nr : *options.syscall_filter)
      if (nr < TL_MAX_SYSCALLS) plans[nr].traced = 1;
  for (const auto& spec : catalogue.syscalls())
    if (spec.nr < TL_MAX_SYSCALLS && spec.never_returns) plans[spec.nr].never_returns = 1;
  // A successful exec returns in the new program: the entry data's
  // addresses no longer hold them, so they are not read again at exit.
  for (const char* name : {"execve", "execveat"})
    if (const format::SyscallSpec* spec = catalogue.find(name); spec && spec->nr < TL_MAX_SYSCALLS)
      plans[spec->nr].replaces_memory = 1;
  if (!options.capture_data) return plans;
  for (const auto& spec : catalogue.syscalls()) {
    if (spec.nr >= TL_MAX_SYSCALLS) continue;
    tl_plan& plan = plans[spec.nr];
    const size_t n = std::min<size_t>(spec.params.size(), TL_ARGS);
    for (size_t i = 0; i < n; ++i) {
      plan.args[i] = plan_for_param(spec.params[i]);
      if (plan.args[i].when == TL_WHEN_ENTRY) ++plan.entry_captures;
      if (plan.args[i].when == TL_WHEN_EXIT) ++plan.exit_captures;
    }
  }
  return plans;
}

}  // namespace traceloop::recorder
