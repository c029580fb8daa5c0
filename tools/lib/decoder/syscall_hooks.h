#pragma once
// What the decoder knows about one syscall beyond its catalogue entry, in the
// form of strace's per-syscall decoders: hooks registered by name
// (tools/lib/decoder/syscalls/, one file per syscall or family) and resolved
// to function pointers once, when a Decoder builds its plan from the file's
// catalogue. Describing an event then compares no strings.
//
// To decode a syscall specially: write syscalls/NAME.cpp defining its
// SyscallHooks, list it in syscalls/registry.cpp, and test it in
// tests/tools/decode_test.cpp. Most knowledge needs no hook at all: an
// argument's kind, flag set, structure and length are annotations
// (format/syscalls/annotations.txt).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "format/catalogue.h"
#include "format/event.h"
#include "tools/lib/decoder/value.h"

namespace traceloop::tools {

struct FlagSet;
struct StructDecoder;
struct StructContext;
struct SyscallHooks;

// One parameter's decoding, resolved from the catalogue.
struct ParamPlan {
  std::string_view name;
  format::ArgKind kind = format::ArgKind::integer;
  int8_t len_arg = format::kNoLenArg;
  Meaning meaning = Meaning::none;
  const FlagSet* set = nullptr;                // flags / enum_value
  const StructDecoder* structure = nullptr;    // struct kinds
  uint32_t struct_size = 0;
  enum class Records : uint8_t { none, dirent, dirent64 } records = Records::none;  // getdents buffers
  bool counted_strings = false;  // a string array strace abbreviates to its length unless -v (envp)
  bool is32 = false;        // a C int: the upper half of the register is noise
  bool address_like = false;  // a hex value that is an address: 0 is NULL
  // Other shapes chosen by another argument's value (the annotations' `when`):
  // the catalogue's variants, each planned like the parameter itself.
  const format::ParamSpec* spec = nullptr;
  std::vector<ParamPlan> variants;
};

struct SyscallPlan {
  const format::SyscallSpec* spec = nullptr;
  std::vector<ParamPlan> params;
  const SyscallHooks* hooks = nullptr;
  // The flag sets a hook names (SyscallHooks::sets), resolved for the trace's arch.
  std::array<const FlagSet*, 4> hook_sets{};
  bool path_params = false;
};

// What a hook sees: the event, its plan, and the decoder's generic decoding.
class ArgDescriber;
struct HookCall {
  const format::Event& event;
  const SyscallPlan& plan;
  const ArgDescriber& generic;
  ValueSink& sink;
  format::Arch arch;
};

// An argument as strace shows it: which, and under which name when strace
// names it (clone's `child_stack=`).
struct ShownArg {
  uint8_t index = 0;
  std::string_view name;  // empty: shown by value only (table style names every argument)
};

struct SyscallHooks {
  // Flag sets the hooks use, by name; resolved into SyscallPlan::hook_sets.
  std::array<std::string_view, 4> sets{};
  // Describes argument `index`; false leaves it to the generic decoding.
  bool (*describe_arg)(const HookCall& call, size_t index) = nullptr;
  // The arguments strace shows, in its order (it leaves out those the call
  // does not use); returns how many it wrote into `shown`.
  size_t (*strace_args)(const HookCall& call, std::array<ShownArg, 6>& shown) = nullptr;
  // Describes the value a successful call returned; false: the generic one.
  bool (*describe_return)(const HookCall& call) = nullptr;
};

// The hooks registered for a syscall name, nullptr for none.
const SyscallHooks* find_syscall_hooks(std::string_view syscall_name);

// The decoder's generic decoding of one argument, for hooks that only
// change some cases.
class ArgDescriber {
 public:
  virtual ~ArgDescriber() = default;
  virtual void describe(ValueSink& sink, const format::Event& event, const SyscallPlan& plan, size_t index) const = 0;
  virtual const StructContext& context() const = 0;
};

// Helpers shared by hooks.
inline bool returned_ok(const format::Event& e) { return e.state == format::CallState::returned && !e.failed(); }
// The bytes an output argument received, or nullptr when there are none to
// show (a NULL pointer, no capture, a call that failed or never finished):
// the generic decoding then shows the pointer.
inline const format::CaptureView* shown_output(const format::Event& e, size_t index) {
  if (e.args[index] == 0 || !returned_ok(e)) return nullptr;
  return e.capture_for(static_cast<unsigned>(index));
}
inline void describe_flags_or_hex(ValueSink& sink, const FlagSet* set, uint64_t value) {
  if (set)
    sink.flags(*set, value);
  else
    sink.hex_integer(value, Meaning::none);
}

}  // namespace traceloop::tools
