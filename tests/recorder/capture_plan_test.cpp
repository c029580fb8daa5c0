#include "recorder/capture_plan.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>

namespace traceloop::recorder {
namespace {

const format::Catalogue& cat() { return format::builtin_catalogue(format::host_arch()); }

const tl_plan& plan_of(const std::vector<tl_plan>& plans, const char* name) {
  const auto* spec = cat().find(name);
  EXPECT_NE(spec, nullptr) << name;
  return plans.at(spec ? spec->nr : 0);
}

TEST(CapturePlan, PathAtEntryForOpenat) {
  auto plans = build_capture_plans(cat(), {});
  const auto& p = plan_of(plans, "openat");
  EXPECT_EQ(p.traced, 1);
  EXPECT_EQ(p.args[1].how, TL_CAP_STRING);
  EXPECT_EQ(p.args[1].when, TL_WHEN_ENTRY);
  EXPECT_EQ(p.entry_captures, 1);
  EXPECT_EQ(p.exit_captures, 0);
}

// Calls that never return send their enter record at entry (no exit will
// complete them), with or without data.
TEST(CapturePlan, NeverReturningCallsAreMarked) {
  for (bool data : {true, false}) {
    PlanOptions options;
    options.capture_data = data;
    auto plans = build_capture_plans(cat(), options);
    EXPECT_EQ(plan_of(plans, "exit_group").never_returns, 1) << data;
    EXPECT_EQ(plan_of(plans, "exit").never_returns, 1) << data;
    EXPECT_EQ(plan_of(plans, "execve").never_returns, 0) << data;
    EXPECT_EQ(plan_of(plans, "openat").never_returns, 0) << data;
  }
}

// A successful exec replaces the memory the entry data were in: they are
// not read again at exit there (any other call's are, when entry failed).
TEST(CapturePlan, ExecReplacesTheMemoryOfItsEntryData) {
  auto plans = build_capture_plans(cat(), {});
  EXPECT_EQ(plan_of(plans, "execve").replaces_memory, 1);
  EXPECT_EQ(plan_of(plans, "execveat").replaces_memory, 1);
  EXPECT_EQ(plan_of(plans, "openat").replaces_memory, 0);
  EXPECT_EQ(plan_of(plans, "write").replaces_memory, 0);
}

TEST(CapturePlan, ReadBufferAtExitSizedByReturn) {
  auto plans = build_capture_plans(cat(), {});
  const auto& p = plan_of(plans, "read");
  EXPECT_EQ(p.args[1].how, TL_CAP_LEN_RET);
  EXPECT_EQ(p.args[1].when, TL_WHEN_EXIT);
  EXPECT_EQ(p.exit_captures, 1);
  EXPECT_EQ(p.entry_captures, 0);
}

// getdents' records are read at exit like a read's bytes, and those left out
// counted; execve's envp is read at entry like argv (its elements counted too);
// rt_sigreturn returns (its first argument is the mask it restores).
TEST(CapturePlan, CountedRunsAndSigreturn) {
  auto plans = build_capture_plans(cat(), {});
  const auto& g = plan_of(plans, "getdents64");
  EXPECT_EQ(g.args[1].how, TL_CAP_DIRENTS);
  EXPECT_EQ(g.args[1].when, TL_WHEN_EXIT);
  const auto& e = plan_of(plans, "execve");
  EXPECT_EQ(e.args[1].how, TL_CAP_STRING_ARRAY);
  EXPECT_EQ(e.args[2].how, TL_CAP_STRING_ARRAY);
  EXPECT_EQ(e.args[2].when, TL_WHEN_ENTRY);
  const auto& r = plan_of(plans, "rt_sigreturn");
  EXPECT_EQ(r.never_returns, 0);
  EXPECT_EQ(r.args[0].how, TL_CAP_FIXED);
  EXPECT_EQ(r.args[0].elem_size, 8u);
  EXPECT_EQ(r.args[0].when, TL_WHEN_ENTRY);
}

// The message header with what it points to: sendmsg's as sent, recvmsg's
// as the call filled it in.
TEST(CapturePlan, MessageHeadersOfSendmsgAtEntryOfRecvmsgAtExit) {
  auto plans = build_capture_plans(cat(), {});
  const auto& send = plan_of(plans, "sendmsg");
  EXPECT_EQ(send.args[1].how, TL_CAP_MSGHDR);
  EXPECT_EQ(send.args[1].when, TL_WHEN_ENTRY);
  EXPECT_EQ(send.entry_captures, 1);
  const auto& receive = plan_of(plans, "recvmsg");
  EXPECT_EQ(receive.args[1].how, TL_CAP_MSGHDR);
  EXPECT_EQ(receive.args[1].when, TL_WHEN_EXIT);
  EXPECT_EQ(receive.exit_captures, 1);
}

TEST(CapturePlan, WriteBufferAtEntrySizedByCount) {
  auto plans = build_capture_plans(cat(), {});
  const auto& p = plan_of(plans, "write");
  EXPECT_EQ(p.args[1].how, TL_CAP_LEN_ARG);
  EXPECT_EQ(p.args[1].when, TL_WHEN_ENTRY);
  EXPECT_EQ(p.args[1].len_arg, 2);
}

TEST(CapturePlan, ExecveArgvAndStatStruct) {
  auto plans = build_capture_plans(cat(), {});
  EXPECT_EQ(plan_of(plans, "execve").args[1].how, TL_CAP_STRING_ARRAY);
  EXPECT_EQ(plan_of(plans, "execve").args[0].how, TL_CAP_STRING);
  const auto& fstat = plan_of(plans, "fstat");
  EXPECT_EQ(fstat.args[1].how, TL_CAP_FIXED);
  EXPECT_EQ(fstat.args[1].when, TL_WHEN_EXIT);
  EXPECT_GT(fstat.args[1].elem_size, 0u);
}

TEST(CapturePlan, NoDataCapturesNothing) {
  PlanOptions options;
  options.capture_data = false;
  auto plans = build_capture_plans(cat(), options);
  for (const auto& p : plans) {
    EXPECT_EQ(p.traced, 1);
    EXPECT_EQ(p.entry_captures + p.exit_captures, 0);
    for (const auto& a : p.args) EXPECT_EQ(a.how, TL_CAP_NONE);
  }
}

TEST(CapturePlan, FilterTracesOnlyListedSyscalls) {
  std::vector<std::string> names{"openat", "write"};
  auto nrs = format::resolve_syscall_names(cat(), names);
  ASSERT_TRUE(nrs.ok());
  PlanOptions options;
  options.syscall_filter = *nrs;
  auto plans = build_capture_plans(cat(), options);
  unsigned traced = 0;
  for (const auto& p : plans) traced += p.traced;
  EXPECT_EQ(traced, 2u);
  EXPECT_EQ(plan_of(plans, "openat").traced, 1);
  EXPECT_EQ(plan_of(plans, "read").traced, 0);
}

TEST(CapturePlan, ParamKinds) {
  format::ParamSpec p;
  p.kind = format::ArgKind::sockaddr_out;
  p.len_arg = 2;
  auto a = plan_for_param(p);
  EXPECT_EQ(a.how, TL_CAP_LEN_PTR_ARG);
  EXPECT_EQ(a.when, TL_WHEN_EXIT);
  EXPECT_EQ(a.len_arg, 2);

  p = {};
  p.kind = format::ArgKind::struct_array_in;
  p.len_arg = 1;
  p.struct_size = 8;
  a = plan_for_param(p);
  EXPECT_EQ(a.how, TL_CAP_LEN_ARG);
  EXPECT_EQ(a.when, TL_WHEN_ENTRY);
  EXPECT_EQ(a.elem_size, 8u);

  p = {};
  p.kind = format::ArgKind::pointer;
  EXPECT_EQ(plan_for_param(p).how, TL_CAP_NONE);
}

// ------------------------------------------ captures chosen by another argument ----

TEST(CapturePlan, PrctlNameStringOnlyForPrSetName) {
  auto plans = build_capture_plans(cat(), {});
  const auto& p = plan_of(plans, "prctl");
  const tl_arg_plan& arg2 = p.args[1];
  EXPECT_EQ(arg2.how, TL_CAP_STRING);
  EXPECT_EQ(arg2.when, TL_WHEN_ENTRY);
  EXPECT_EQ(arg2.cond_count, 1);
  EXPECT_EQ(arg2.cond_arg, 0);
  EXPECT_EQ(arg2.cond_negate, 0);
  EXPECT_EQ(arg2.cond_mask, 0xffffffffu) << "option is a C int";
  EXPECT_EQ(arg2.cond_values[0], static_cast<uint64_t>(PR_SET_NAME));
  EXPECT_EQ(p.entry_captures, 1);
  for (size_t i = 2; i < TL_ARGS; ++i) EXPECT_EQ(p.args[i].how, TL_CAP_NONE) << i;
}

TEST(CapturePlan, VariantsWithoutDataCaptureNothing) {
  auto plans = build_capture_plans(cat(), {});
  for (const char* name : {"fcntl", "socket", "setsockopt", "getsockopt"}) {
    const auto& p = plan_of(plans, name);
    for (const auto& a : p.args) EXPECT_EQ(a.cond_count, 0) << name;
  }
  EXPECT_EQ(plan_of(plans, "fcntl").args[2].how, TL_CAP_NONE);
  EXPECT_EQ(plan_of(plans, "setsockopt").args[3].how, TL_CAP_LEN_ARG) << "optval stays captured";
}

TEST(CapturePlan, NoDataLeavesConditionalCapturesOut) {
  PlanOptions options;
  options.capture_data = false;
  auto plans = build_capture_plans(cat(), options);
  EXPECT_EQ(plan_of(plans, "prctl").args[1].how, TL_CAP_NONE);
  EXPECT_EQ(plan_of(plans, "prctl").entry_captures, 0);
}

format::ParamVariant variant(uint8_t selector, std::vector<uint64_t> values, format::ArgKind kind) {
  format::ParamVariant v;
  v.selector = selector;
  v.mask = 0xffffffff;
  v.values = std::move(values);
  v.shape.kind = kind;
  return v;
}

format::ParamSpec param(format::ArgKind kind, std::vector<format::ParamVariant> variants) {
  format::ParamSpec p;
  p.kind = kind;
  p.len_arg = 2;
  p.variants = std::move(variants);
  return p;
}

TEST(CapturePlan, ACapturingDefaultIsSkippedForTheValuesWhoseVariantTakesNone) {
  using format::ArgKind;
  const tl_arg_plan p = plan_for_param(param(ArgKind::buffer_in, {variant(0, {7, 9}, ArgKind::integer)}));
  EXPECT_EQ(p.how, TL_CAP_LEN_ARG);
  EXPECT_EQ(p.len_arg, 2);
  EXPECT_EQ(p.cond_count, 2);
  EXPECT_EQ(p.cond_negate, 1);
  EXPECT_EQ(p.cond_values[0], 7u);
  EXPECT_EQ(p.cond_values[1], 9u);
}

TEST(CapturePlan, TheFirstVariantListingAValueDecidesIt) {
  using format::ArgKind;
  // 3 is a string first, an integer after: a string
  const tl_arg_plan p = plan_for_param(
      param(ArgKind::hex, {variant(1, {3}, ArgKind::string), variant(1, {3, 4}, ArgKind::integer),
                           variant(1, {5}, ArgKind::path)}));
  EXPECT_EQ(p.how, TL_CAP_STRING);
  EXPECT_EQ(p.cond_negate, 0);
  ASSERT_EQ(p.cond_count, 2) << "the path's capture is the same: both values";
  EXPECT_EQ(p.cond_values[0], 3u);
  EXPECT_EQ(p.cond_values[1], 5u);
  EXPECT_EQ(p.cond_arg, 1);
}

TEST(CapturePlan, ConditionsTheKernelCannotTestCaptureAlways) {
  using format::ArgKind;
  const tl_arg_plan many = plan_for_param(param(ArgKind::hex, {variant(0, {1, 2, 3, 4, 5}, ArgKind::string)}));
  EXPECT_EQ(many.how, TL_CAP_STRING);
  EXPECT_EQ(many.cond_count, 0);
  const tl_arg_plan two_selectors = plan_for_param(
      param(ArgKind::hex, {variant(0, {1}, ArgKind::string), variant(1, {2}, ArgKind::integer)}));
  EXPECT_EQ(two_selectors.how, TL_CAP_STRING);
  EXPECT_EQ(two_selectors.cond_count, 0);
  const tl_arg_plan none = plan_for_param(param(ArgKind::hex, {variant(0, {1}, ArgKind::integer)}));
  EXPECT_EQ(none.how, TL_CAP_NONE);
}

}  // namespace
}  // namespace traceloop::recorder
