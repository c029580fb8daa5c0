// The decoder: a per-syscall plan computed once from the file's catalogue
// (flag sets, structure decoders and hooks resolved, integer widths known),
// then applied per event: each argument is described to a ValueSink (the
// typed value model), which the text and JSON outputs write. Syscalls that
// need more than their annotations have hooks (syscall_hooks.h).

#include "tools/lib/decoder/decode.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>
#include <optional>
#include <unordered_map>

#include "format/syscalls/uapi_constants.h"
#include "tools/lib/decoder/flag_sets.h"
#include "tools/lib/decoder/flag_text_cache.h"
#include "tools/lib/decoder/struct_decode.h"
#include "tools/lib/decoder/syscall_hooks.h"
#include "tools/lib/decoder/text_append.h"
#include "tools/lib/decoder/value_text.h"

namespace traceloop::tools {
namespace {

using format::ArgKind;
using format::CallState;
using format::Event;

bool is_32bit_type(std::string_view t) {
  if (t.find('*') != std::string_view::npos) return false;
  static constexpr std::string_view k32[] = {
      "int",      "unsigned int", "unsigned", "u32",   "__u32",   "s32",        "__s32",  "pid_t",
      "uid_t",    "gid_t",        "umode_t",  "key_t", "clockid_t", "mqd_t",    "timer_t", "qid_t",
      "rwf_t",    "key_serial_t", "old_uid_t", "old_gid_t", "mode_t", "const int", "const clockid_t",
      "unsigned int flags"};
  return std::find(std::begin(k32), std::end(k32), t) != std::end(k32);
}

bool is_address_name(std::string_view n) {
  return n.find("addr") != std::string_view::npos || n == "brk" || n == "start" || n == "newsp" ||
         n == "tls" || n == "arg" || n == "stack";
}

Meaning meaning_of(ArgKind kind) {
  switch (kind) {
    case ArgKind::fd:
    case ArgKind::dirfd: return Meaning::fd;
    case ArgKind::pid: return Meaning::pid;
    case ArgKind::uid:
    case ArgKind::gid: return Meaning::id;
    default: return Meaning::none;
  }
}

bool is_data_kind(ArgKind kind) {
  switch (kind) {
    case ArgKind::pointer:
    case ArgKind::path:
    case ArgKind::string:
    case ArgKind::buffer_in:
    case ArgKind::buffer_out:
    case ArgKind::struct_in:
    case ArgKind::struct_out:
    case ArgKind::string_array:
    case ArgKind::sockaddr_in:
    case ArgKind::sockaddr_out:
    case ArgKind::struct_array_in:
    case ArgKind::struct_array_out:
      return true;
    default:
      return false;
  }
}

bool is_output_kind(ArgKind kind) {
  return kind == ArgKind::buffer_out || kind == ArgKind::struct_out || kind == ArgKind::sockaddr_out ||
         kind == ArgKind::struct_array_out;
}

void describe_value(ValueSink& sink, const ParamPlan& p, uint64_t v) {
  const uint64_t u = p.is32 ? static_cast<uint32_t>(v) : v;
  const int64_t s = p.is32 ? static_cast<int32_t>(v) : static_cast<int64_t>(v);
  switch (p.kind) {
    case ArgKind::integer:
      sink.signed_integer(s, p.meaning);
      return;
    case ArgKind::fd:
    case ArgKind::pid:
    case ArgKind::uid:
    case ArgKind::gid:
      sink.signed_integer(static_cast<int32_t>(v), p.meaning);
      return;
    case ArgKind::unsigned_int:
      sink.unsigned_integer(u, p.meaning);
      return;
    case ArgKind::hex:
      // strace writes a zero that is not an address as 0.
      if (u == 0 && !p.address_like)
        sink.unsigned_integer(0, Meaning::none);
      else
        sink.hex_integer(u, p.address_like ? Meaning::address : Meaning::none);
      return;
    case ArgKind::dirfd:
      if (static_cast<int32_t>(v) == uapi::kAtFdcwd)
        sink.constant("AT_FDCWD", uapi::kAtFdcwd);
      else
        sink.signed_integer(static_cast<int32_t>(v), Meaning::fd);
      return;
    case ArgKind::flags:
    case ArgKind::enum_value:
      if (p.set)
        sink.flags(*p.set, u);
      else if (p.kind == ArgKind::enum_value)
        sink.signed_integer(s, Meaning::none);
      else  // a catalogue (from the file) naming a set this decoder lacks
        sink.hex_integer(u, Meaning::none);
      return;
    case ArgKind::signal:
      sink.signal(static_cast<int32_t>(v));
      return;
    case ArgKind::mode:
      sink.mode(u);
      return;
    default:
      sink.hex_integer(v, Meaning::address);
      return;
  }
}

// The elements of a NUL-separated list (argv, envp); `counted`: an array
// strace abbreviates to its address and length (envp).
void describe_string_array(ValueSink& sink, uint64_t address, const format::CaptureView& cap, const StructContext& ctx,
                           bool counted) {
  if (counted && cap.size >= cap.bytes.size()) {
    // The elements kept, each NUL-terminated (the last perhaps cut), and
    // those the recorder left out: size - len (see format::CaptureView).
    std::string_view bytes = cap.bytes;
    uint64_t elements = static_cast<uint64_t>(std::count(bytes.begin(), bytes.end(), '\0'));
    if (!bytes.empty() && bytes.back() != '\0') ++elements;
    sink.begin_counted_array({address, elements + (cap.size - bytes.size()), CountedElements::vars});
  } else {
    sink.begin_array();
  }
  std::string_view rest = cap.bytes;
  size_t n = 0;
  bool cut = cap.truncated();
  while (!rest.empty()) {
    if (ctx.array_limit != 0 && n == ctx.array_limit) {
      cut = true;
      break;
    }
    const auto nul = rest.find('\0');
    const bool complete = nul != std::string_view::npos;
    sink.string({rest.substr(0, complete ? nul : rest.size()), ctx.string_limit, !complete});
    ++n;
    if (!complete) {
      cut = false;  // the element's own "..." says it
      break;
    }
    rest.remove_prefix(nul + 1);
  }
  sink.end_array(cut);
}

// getdents' records: those kept whole, and those the recorder left out
// (size - len, see format::CaptureView); none when that cannot be right:
// fewer than the smallest record (24 bytes: header, a one-byte name and its
// NUL, 8-aligned) fit in the `ret` bytes not kept, as in a file that kept
// their byte length there (before format 4.3, or merged from one).
std::optional<ArrayCount> dirents_count(uint64_t address, const format::CaptureView& cap, bool is64,
                                        format::Arch arch, int64_t ret) {
  constexpr uint64_t kSmallestRecord = 24;
  size_t whole_bytes = 0;
  const uint64_t kept = count_dirents(cap.bytes, is64, arch, &whole_bytes);
  const uint64_t left_out = cap.size - cap.bytes.size();
  const uint64_t rest = ret > 0 && static_cast<uint64_t>(ret) > whole_bytes ? static_cast<uint64_t>(ret) - whole_bytes : 0;
  if (left_out > rest / kSmallestRecord) return std::nullopt;
  return ArrayCount{address, kept + left_out, CountedElements::entries};
}

// Whether a file's cut element runs (string arrays, directory records) count
// the elements left out in their size: from format 4.3. Before, directory
// records had their byte length there, and a cut run's length is unknown.
bool counts_left_out(const format::TraceMetadata& m) {
  return m.format_major > 4 || (m.format_major == 4 && m.format_minor >= 3);
}

void describe_data(ValueSink& sink, const Event& e, const ParamPlan& p, size_t i, const StructContext& ctx,
                   bool counted_runs) {
  const uint64_t v = e.args[i];
  const auto* cap = e.capture_for(static_cast<unsigned>(i));
  // A successful read of 0 bytes: strace shows "" (getdents: no entries).
  if (cap == nullptr && v != 0 && p.kind == ArgKind::buffer_out && p.len_arg == format::kLenFromReturn &&
      returned_ok(e) && e.ret == 0) {
    if (p.records == ParamPlan::Records::none) {
      sink.string({});
    } else {
      sink.begin_counted_array({v, 0, CountedElements::entries});
      sink.end_array(false);
    }
    return;
  }
  // Output data of a call that failed (or never finished) holds nothing: the pointer.
  if (v == 0 || cap == nullptr || (is_output_kind(p.kind) && !returned_ok(e))) {
    sink.hex_integer(v, Meaning::address);
    return;
  }
  switch (p.kind) {
    case ArgKind::path:
      sink.string({cap->bytes.substr(0, cap->bytes.find('\0')), 0, cap->truncated()});
      return;
    case ArgKind::string:
      sink.string({cap->bytes.substr(0, cap->bytes.find('\0')), ctx.string_limit, cap->truncated()});
      return;
    case ArgKind::buffer_in:
    case ArgKind::buffer_out:
      if (p.records != ParamPlan::Records::none) {
        const bool is64 = p.records == ParamPlan::Records::dirent64;
        const auto count = dirents_count(v, *cap, is64, ctx.arch, e.ret);
        const bool known = count && (counted_runs || !cap->truncated());
        describe_dirents(sink, cap->bytes, is64, cap->truncated(), ctx, known ? &*count : nullptr);
      } else {
        sink.string({cap->bytes, ctx.string_limit, cap->truncated()});
      }
      return;
    case ArgKind::string_array:
      describe_string_array(sink, v, *cap, ctx, p.counted_strings && (counted_runs || !cap->truncated()));
      return;
    case ArgKind::struct_in:
    case ArgKind::struct_out:
      if (p.structure == nullptr || !p.structure->describe(sink, cap->bytes, ctx)) sink.hex_integer(v, Meaning::address);
      return;
    case ArgKind::struct_array_in:
    case ArgKind::struct_array_out: {
      uint64_t count = 0;
      if (p.len_arg == format::kLenFromReturn)
        count = e.ret > 0 ? static_cast<uint64_t>(e.ret) : 0;
      else if (p.len_arg >= 0 && p.len_arg < 6)
        count = static_cast<uint32_t>(e.args[static_cast<size_t>(p.len_arg)]);
      if (p.structure == nullptr ||
          !describe_struct_array(sink, *p.structure, p.struct_size, count, cap->bytes, cap->truncated(), ctx))
        sink.hex_integer(v, Meaning::address);
      return;
    }
    case ArgKind::sockaddr_in:
    case ArgKind::sockaddr_out:
      describe_sockaddr(sink, cap->bytes, ctx);
      return;
    default:
      sink.hex_integer(v, Meaning::address);
      return;
  }
}

ParamPlan plan_param(const format::ParamSpec& param, format::Arch arch) {
  ParamPlan p;
  p.spec = &param;
  p.name = param.name;
  p.kind = param.kind;
  p.len_arg = param.len_arg;
  p.meaning = meaning_of(param.kind);
  p.struct_size = param.struct_size;
  if (!param.struct_type.empty()) p.structure = find_struct_decoder(param.struct_type);
  if (param.struct_type == "linux_dirent64") p.records = ParamPlan::Records::dirent64;
  if (param.struct_type == "linux_dirent") p.records = ParamPlan::Records::dirent;
  // strace abbreviates the environment, never the arguments.
  p.counted_strings = param.kind == ArgKind::string_array && param.name == "envp";
  p.is32 = is_32bit_type(param.c_type);
  p.address_like = is_address_name(param.name);
  // The catalogue's annotations name the set; nothing here overrides them.
  if (!param.flag_set.empty()) p.set = find_flag_set(param.flag_set, arch);
  return p;
}

// The shape of a parameter in this call: a variant chosen by another argument, or its own.
const ParamPlan& shape_of(const ParamPlan& p, const Event& e) {
  if (p.variants.empty()) return p;
  const int k = format::variant_index(*p.spec, e.args);
  return k >= 0 && static_cast<size_t>(k) < p.variants.size() ? p.variants[static_cast<size_t>(k)] : p;
}

class GenericDescriber final : public ArgDescriber {
 public:
  GenericDescriber(const StructContext& ctx, bool counted_runs) : ctx_(ctx), counted_runs_(counted_runs) {}
  void describe(ValueSink& sink, const Event& e, const SyscallPlan& plan, size_t i) const override {
    const ParamPlan& p = shape_of(plan.params[i], e);
    if (is_data_kind(p.kind))
      describe_data(sink, e, p, i, ctx_, counted_runs_);
    else
      describe_value(sink, p, e.args[i]);
  }
  const StructContext& context() const override { return ctx_; }

 private:
  const StructContext& ctx_;
  bool counted_runs_;
};

}  // namespace

struct Decoder::Impl {
  const format::TraceMetadata* metadata;
  const format::Catalogue* catalogue;
  DecodeOptions options;
  StructContext ctx;
  bool counted_runs = false;  // counts_left_out() of the file
  std::vector<SyscallPlan> plans;  // by nr
  // By nr, each parameter's ", name=" as the table writes it before the
  // value (without its first two bytes for the first): one piece per
  // argument rather than three.
  std::vector<std::vector<std::string>> table_labels;
  std::vector<std::string> names;  // by nr, "syscall_N" for unknown
  // Names of numbers beyond the table (hostile input): bounded cache.
  mutable std::unordered_map<uint32_t, std::string> extra_names;
  // The text writers' flag names (one decoder per thread, see decode.h).
  mutable FlagTextCache flag_texts;
  mutable FdTextCache fd_texts;  // -y's annotations, likewise
  std::string unknown_name = "syscall_unknown";

  const SyscallPlan* plan(uint32_t nr) const {
    return nr < plans.size() && plans[nr].spec ? &plans[nr] : nullptr;
  }
  void describe_arg(ValueSink& sink, const Event& e, const SyscallPlan& sp, size_t i) const {
    const GenericDescriber generic(ctx, counted_runs);
    if (sp.hooks && sp.hooks->describe_arg &&
        sp.hooks->describe_arg(HookCall{e, sp, generic, sink, ctx.arch}, i))
      return;
    generic.describe(sink, e, sp, i);
  }
};

Decoder::Decoder(const format::TraceMetadata& metadata, DecodeOptions options) : impl_(std::make_unique<Impl>()) {
  auto& d = *impl_;
  d.metadata = &metadata;
  d.catalogue = &metadata.catalogue;
  d.options = options;
  d.ctx = StructContext{metadata.catalogue.arch(), options.string_limit, options.array_limit, &metadata.catalogue};
  d.counted_runs = counts_left_out(metadata);
  const auto arch = metadata.catalogue.arch();
  uint32_t max_nr = 0;
  for (const auto& s : metadata.catalogue.syscalls()) max_nr = std::max(max_nr, s.nr);
  // A hostile catalogue could claim huge numbers: such entries stay reachable
  // through find(), only the dense tables are bounded.
  const size_t table = std::min<size_t>(std::max<size_t>(max_nr + 1, 1024), 1u << 16);
  d.plans.resize(table);
  d.table_labels.resize(table);
  d.names.resize(table);
  for (size_t nr = 0; nr < table; ++nr) d.names[nr] = fmt::format("syscall_{}", nr);
  const format::Catalogue& builtin = format::builtin_catalogue(arch);
  for (const auto& s : metadata.catalogue.syscalls()) {
    if (s.nr >= table) continue;
    auto& sp = d.plans[s.nr];
    sp.spec = &s;
    d.names[s.nr] = s.name;
    sp.hooks = find_syscall_hooks(s.name);
    if (sp.hooks)
      for (size_t k = 0; k < sp.hook_sets.size(); ++k)
        if (!sp.hooks->sets[k].empty()) sp.hook_sets[k] = find_flag_set(sp.hooks->sets[k], arch);
    // Files written before the annotations could declare shapes chosen by
    // another argument lack them: this build's catalogue of the file's
    // architecture supplies them, for parameters it names the same.
    const format::SyscallSpec* known = builtin.find(s.nr);
    if (known && known->name != s.name) known = nullptr;
    for (size_t i = 0; i < s.params.size(); ++i) {
      const auto& param = s.params[i];
      const format::ParamSpec* shapes = &param;
      if (param.variants.empty() && known && i < known->params.size() && known->params[i].name == param.name &&
          known->params.size() == s.params.size())
        shapes = &known->params[i];
      ParamPlan p = plan_param(param, arch);
      p.spec = shapes;  // whose variants shape_of() chooses from
      for (const auto& variant : shapes->variants) p.variants.push_back(plan_param(variant.shape, arch));
      if (param.kind == ArgKind::path || param.kind == ArgKind::string) sp.path_params = true;
      d.table_labels[s.nr].push_back(fmt::format(", {}=", p.name));
      sp.params.push_back(std::move(p));
    }
  }
}

Decoder::~Decoder() = default;
Decoder::Decoder(Decoder&&) noexcept = default;
Decoder& Decoder::operator=(Decoder&&) noexcept = default;

const format::Catalogue& Decoder::catalogue() const { return *impl_->catalogue; }
const DecodeOptions& Decoder::options() const { return impl_->options; }

const format::SyscallSpec* Decoder::spec(const Event& event) const {
  const auto* p = impl_->plan(event.nr);
  return p ? p->spec : impl_->catalogue->find(event.nr);
}

std::string_view Decoder::syscall_name(uint32_t nr) const {
  auto& d = *impl_;
  if (nr < d.names.size()) return d.names[nr];
  if (const auto* s = d.catalogue->find(nr)) return s->name;
  auto it = d.extra_names.find(nr);
  if (it != d.extra_names.end()) return it->second;
  if (d.extra_names.size() >= 4096) return d.unknown_name;
  return d.extra_names.emplace(nr, fmt::format("syscall_{}", nr)).first->second;
}

std::string_view Decoder::syscall_name(const Event& event) const { return syscall_name(event.nr); }

size_t Decoder::param_count(const Event& event) const {
  const auto* p = impl_->plan(event.nr);
  return p ? p->params.size() : std::min<size_t>(event.arg_count, 6);
}

std::string_view Decoder::param_name(const Event& event, size_t index) const {
  static constexpr std::array<std::string_view, 6> kArgNames = {"arg0", "arg1", "arg2", "arg3", "arg4", "arg5"};
  const auto* p = impl_->plan(event.nr);
  if (p && index < p->params.size()) return p->params[index].name;
  return index < 6 ? kArgNames[index] : std::string_view{};
}

void Decoder::describe_arg(ValueSink& sink, const Event& event, size_t index) const {
  const auto* sp = impl_->plan(event.nr);
  if (sp && index < sp->params.size() && index < 6)
    impl_->describe_arg(sink, event, *sp, index);
  else if (index < 6)
    sink.hex_integer(event.args[index], Meaning::none);
}

void Decoder::append_arg(std::string& out, const Event& event, size_t index) const {
  const FdContext fds = impl_->options.fds_of(event);
  TextValueWriter writer(out, TextValueWriter::Position::argument, impl_->options.strings_in_hex,
                         fds.lookup ? &fds : nullptr, impl_->options.verbose, &impl_->flag_texts, &impl_->fd_texts);
  describe_arg(writer, event, index);
}

void Decoder::append_args(std::string& out, const Event& event, ArgStyle style) const {
  StagedAppend staged(out);
  append_args(staged, out, event, style);
  staged.flush();
}

void Decoder::append_args(StagedAppend& staged, std::string& out, const Event& event, ArgStyle style) const {
  const auto* sp = impl_->plan(event.nr);
  if (!sp) {
    const size_t n = std::min<size_t>(event.arg_count, 6);
    TextValueWriter writer(staged, out);
    for (size_t i = 0; i < n; ++i) {
      if (i) staged.append(", ");
      if (style == ArgStyle::table) {
        staged.append("arg");
        staged.put(static_cast<char>('0' + i));
        staged.put('=');
      }
      writer.hex_integer(event.args[i], Meaning::none);
    }
    return;
  }
  const FdContext fds = impl_->options.fds_of(event);
  // One writer for the row's values: each leaves it as it found it (no
  // structure open, no field pending), so the next starts afresh.
  TextValueWriter writer(staged, out, TextValueWriter::Position::argument, impl_->options.strings_in_hex,
                         fds.lookup ? &fds : nullptr, impl_->options.verbose, &impl_->flag_texts, &impl_->fd_texts);
  const auto append_value = [&](size_t i) { impl_->describe_arg(writer, event, *sp, i); };
  bool first = true;
  const auto append_one = [&](size_t i, std::string_view name) {
    if (!first) staged.append(", ");
    first = false;
    if (!name.empty()) {
      staged.append(name);
      staged.put('=');
    }
    append_value(i);
  };
  if (style == ArgStyle::strace && sp->hooks && sp->hooks->strace_args) {
    std::array<ShownArg, 6> shown;
    const GenericDescriber generic(impl_->ctx, impl_->counted_runs);
    // strace_args only chooses arguments; it describes none to the sink.
    const size_t n = sp->hooks->strace_args(HookCall{event, *sp, generic, writer, impl_->ctx.arch}, shown);
    for (size_t k = 0; k < n; ++k) {
      const size_t i = shown[k].index;
      if (i >= sp->params.size() || i >= 6) continue;  // a file's catalogue may declare fewer
      append_one(i, shown[k].name);
    }
    return;
  }
  // Every parameter in order (no array of them to fill: this is most rows).
  const size_t n = std::min<size_t>(sp->params.size(), 6);
  if (style == ArgStyle::table) {
    const std::vector<std::string>& labels = impl_->table_labels[event.nr];
    for (size_t i = 0; i < n; ++i) {
      staged.append(std::string_view(labels[i]).substr(i == 0 ? 2 : 0));
      append_value(i);
    }
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    if (i != 0) staged.append(", ");
    append_value(i);
  }
}

bool Decoder::describe_return(ValueSink& sink, const Event& event) const {
  if (event.state != CallState::returned) return false;
  const auto* sp = impl_->plan(event.nr);
  const auto kind = sp ? sp->spec->returns : format::ReturnKind::integer;
  if (kind == format::ReturnKind::none) return false;
  const int64_t ret = event.ret;
  if (ret < 0 && ret >= -4095) {
    sink.error(static_cast<int>(-ret));
    return true;
  }
  if (sp && sp->hooks && sp->hooks->describe_return) {
    const GenericDescriber generic(impl_->ctx, impl_->counted_runs);
    if (sp->hooks->describe_return(HookCall{event, *sp, generic, sink, impl_->ctx.arch})) return true;
  }
  switch (kind) {
    case format::ReturnKind::hex:  // mmap, brk: an address, though 0 is no NULL here
      sink.hex_integer(static_cast<uint64_t>(ret), ret == 0 ? Meaning::none : Meaning::address);
      break;
    case format::ReturnKind::unsigned_int:
      sink.unsigned_integer(static_cast<uint64_t>(ret), Meaning::none);
      break;
    case format::ReturnKind::fd:
      sink.signed_integer(ret, Meaning::fd);
      break;
    case format::ReturnKind::pid:
      sink.signed_integer(ret, Meaning::pid);
      break;
    default:
      sink.signed_integer(ret, Meaning::none);
      break;
  }
  return true;
}

void Decoder::append_return(std::string& out, const Event& event) const {
  StagedAppend staged(out);
  append_return(staged, out, event);
  staged.flush();
}

void Decoder::append_return(StagedAppend& staged, std::string& out, const Event& event) const {
  if (event.state == CallState::never_returned) {
    staged.put('X');
    return;
  }
  if (event.state == CallState::unfinished) {
    staged.append("unfinished");  // the strace renderer says <unfinished ...>
    return;
  }
  const FdContext fds = impl_->options.fds_of(event);
  TextValueWriter writer(staged, out, TextValueWriter::Position::return_value, StringHex::none,
                         fds.lookup ? &fds : nullptr, impl_->options.verbose, &impl_->flag_texts, &impl_->fd_texts);
  if (!describe_return(writer, event)) staged.put('X');
}

Decoder::Field::Field(std::string_view name) : name_(name), kind_(Kind::param) {
  static constexpr std::pair<std::string_view, Kind> kNamed[] = {
      {"syscall", Kind::syscall}, {"comm", Kind::comm}, {"pid", Kind::pid},     {"tid", Kind::tid},
      {"cpu", Kind::cpu},         {"ret", Kind::ret},   {"errno", Kind::errno_name}, {"args", Kind::args},
      {"path", Kind::path}};
  for (const auto& [text, kind] : kNamed)
    if (text == name) kind_ = kind;
}

bool Decoder::field(std::string& out, const Event& event, const Field& field) const {
  switch (field.kind_) {
    case Field::Kind::syscall:
      out.append(syscall_name(event));
      return true;
    case Field::Kind::comm:
      out.append(event.comm);
      return true;
    case Field::Kind::pid:
      append_decimal(out, uint64_t{event.pid});
      return true;
    case Field::Kind::tid:
      append_decimal(out, uint64_t{event.tid});
      return true;
    case Field::Kind::cpu:
      append_decimal(out, uint64_t{event.cpu});
      return true;
    case Field::Kind::ret:
      append_return(out, event);
      return true;
    case Field::Kind::errno_name:
      if (event.failed()) out.append(errno_name(static_cast<int>(-event.ret)));
      return true;
    case Field::Kind::args:
      append_args(out, event, ArgStyle::strace);
      return true;
    case Field::Kind::path: {
      const auto* sp = impl_->plan(event.nr);
      if (!sp || !sp->path_params) return false;
      for (size_t i = 0; i < sp->params.size(); ++i) {
        if (sp->params[i].kind != ArgKind::path) continue;
        const auto* cap = event.capture_for(static_cast<unsigned>(i));
        if (!cap) continue;
        out.append(cap->bytes.substr(0, cap->bytes.find('\0')));
        return true;
      }
      return false;
    }
    case Field::Kind::param:
      break;
  }
  const auto* sp = impl_->plan(event.nr);
  if (!sp) return false;
  auto& index = field.param_index_;
  if (event.nr >= index.size()) index.resize(event.nr + 1, -2);
  if (index[event.nr] == -2) {
    index[event.nr] = -1;
    for (size_t i = 0; i < sp->params.size() && i < 6; ++i)
      if (sp->params[i].name == field.name_) index[event.nr] = static_cast<int8_t>(i);
  }
  if (index[event.nr] < 0) return false;
  const FdContext fds = impl_->options.fds_of(event);
  TextValueWriter writer(out, TextValueWriter::Position::argument, impl_->options.strings_in_hex,
                         fds.lookup ? &fds : nullptr, impl_->options.verbose, &impl_->flag_texts, &impl_->fd_texts);
  impl_->describe_arg(writer, event, *sp, static_cast<size_t>(index[event.nr]));
  return true;
}

}  // namespace traceloop::tools
