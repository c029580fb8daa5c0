// The decoder: a per-syscall plan computed once from the file's catalogue
// (flag sets resolved, integer widths known), then applied per event with
// appends into the caller's buffer. Special cases follow strace where its
// output is the reference users know (open's mode, fcntl, socket protocol,
// clone, statx flags).

#include "tools/lib/decoder/decode.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <unordered_map>

#include "format/syscalls/uapi_constants.h"
#include "tools/lib/decoder/flag_sets.h"
#include "tools/lib/decoder/struct_decode.h"
#include "tools/lib/decoder/text_append.h"

namespace traceloop::tools {
namespace {

using format::ArgKind;
using format::CallState;
using format::Event;

enum class Special : uint8_t {
  none,
  open_mode,        // open/openat mode: only with O_CREAT/O_TMPFILE (strace style)
  fcntl_arg,        // depends on the command
  socket_protocol,  // depends on the domain
  socket_option,    // setsockopt/getsockopt optname: depends on the level
  statx_flags,      // AT_STATX_SYNC_AS_STAT shown when no sync bit is set
  random_bytes,     // getrandom: hex escapes
  dirents,          // getdents/getdents64 buffer
  cstring_out,      // getcwd: the buffer holds a NUL-terminated string
};

struct ParamPlan {
  std::string_view name;
  ArgKind kind = ArgKind::integer;
  int8_t len_arg = format::kNoLenArg;
  const FlagSet* set = nullptr;
  std::string_view set_name;
  std::string_view struct_type;
  uint32_t struct_size = 0;
  bool is32 = false;
  bool address_like = false;  // 0 prints as NULL
  Special special = Special::none;
};

struct SyscallPlan {
  const format::SyscallSpec* spec = nullptr;
  std::vector<ParamPlan> params;
  bool is_futex = false;
  bool is_clone = false;
  bool is_fcntl = false;
  bool path_params = false;
};

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

template <typename... Args>
void put(std::string& out, fmt::format_string<Args...> format, Args&&... args) {
  fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
}

void append_pointer(std::string& out, uint64_t v) {
  if (v == 0)
    out.append("NULL");
  else
    append_hex(out, v);
}

bool returned_ok(const Event& e) { return e.state == CallState::returned && !e.failed(); }

}  // namespace

struct Decoder::Impl {
  const format::TraceMetadata* metadata;
  const format::Catalogue* catalogue;
  DecodeOptions options;
  StructContext ctx;
  std::vector<SyscallPlan> plans;  // by nr
  std::vector<std::string> names;  // by nr, "syscall_N" for unknown
  // Names of numbers beyond the table (hostile input): bounded cache.
  mutable std::unordered_map<uint32_t, std::string> extra_names;
  std::string unknown_name = "syscall_unknown";

  const SyscallPlan* plan(uint32_t nr) const {
    return nr < plans.size() && plans[nr].spec ? &plans[nr] : nullptr;
  }
  void append_arg(std::string& out, const Event& e, const SyscallPlan& sp, size_t i) const;
  void append_value(std::string& out, const Event& e, const ParamPlan& p, uint64_t v) const;
  void append_data(std::string& out, const Event& e, const ParamPlan& p, size_t i) const;
};

Decoder::Decoder(const format::TraceMetadata& metadata, DecodeOptions options) : impl_(std::make_unique<Impl>()) {
  auto& d = *impl_;
  d.metadata = &metadata;
  d.catalogue = &metadata.catalogue;
  d.options = options;
  d.ctx = StructContext{metadata.catalogue.arch(), options.string_limit, options.array_limit};
  const auto arch = metadata.catalogue.arch();
  uint32_t max_nr = 0;
  for (const auto& s : metadata.catalogue.syscalls()) max_nr = std::max(max_nr, s.nr);
  // A hostile catalogue could claim huge numbers: such entries stay reachable
  // through find(), only the dense tables are bounded.
  const size_t table = std::min<size_t>(std::max<size_t>(max_nr + 1, 1024), 1u << 16);
  d.plans.resize(table);
  d.names.resize(table);
  for (size_t nr = 0; nr < table; ++nr) d.names[nr] = fmt::format("syscall_{}", nr);
  for (const auto& s : metadata.catalogue.syscalls()) {
    if (s.nr >= table) continue;
    auto& sp = d.plans[s.nr];
    sp.spec = &s;
    d.names[s.nr] = s.name;
    sp.is_clone = s.name == "clone";
    sp.is_futex = s.name == "futex";
    sp.is_fcntl = s.name == "fcntl";
    const bool opens = s.name == "open" || s.name == "openat" || s.name == "mq_open" ||
                       s.name == "open_by_handle_at" || s.name == "creat";
    for (const auto& param : s.params) {
      ParamPlan p;
      p.name = param.name;
      p.kind = param.kind;
      p.len_arg = param.len_arg;
      p.struct_type = param.struct_type;
      p.struct_size = param.struct_size;
      p.is32 = is_32bit_type(param.c_type);
      p.address_like = is_address_name(param.name);
      // The catalogue's annotations name the set; nothing here overrides them.
      p.set_name = param.flag_set;
      if (!p.set_name.empty()) p.set = find_flag_set(p.set_name, arch);
      if (param.kind == ArgKind::path || param.kind == ArgKind::string) sp.path_params = true;
      if (opens && param.kind == ArgKind::mode) p.special = Special::open_mode;
      if (sp.is_fcntl && param.name == "arg") p.special = Special::fcntl_arg;
      if (s.name == "socket" && param.name == "protocol") p.special = Special::socket_protocol;
      if ((s.name == "setsockopt" || s.name == "getsockopt") && param.name == "optname")
        p.special = Special::socket_option;
      if (s.name == "statx" && param.name == "flags") p.special = Special::statx_flags;
      if (s.name == "getrandom" && param.kind == ArgKind::buffer_out) p.special = Special::random_bytes;
      if (s.name == "rseq" && (param.name == "rseq_len" || param.name == "sig")) p.kind = ArgKind::hex;
      if (s.name == "getcwd" && param.kind == ArgKind::buffer_out) p.special = Special::cstring_out;
      if (param.struct_type == "linux_dirent64" || param.struct_type == "linux_dirent") p.special = Special::dirents;
      sp.params.push_back(p);
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

void Decoder::Impl::append_value(std::string& out, const Event& e, const ParamPlan& p, uint64_t v) const {
  const uint64_t u = p.is32 ? static_cast<uint32_t>(v) : v;
  const int64_t s = p.is32 ? static_cast<int32_t>(v) : static_cast<int64_t>(v);
  switch (p.kind) {
    case ArgKind::integer:
    case ArgKind::fd:
    case ArgKind::pid:
    case ArgKind::uid:
    case ArgKind::gid:
      append_decimal(out, p.kind == ArgKind::integer ? s : static_cast<int64_t>(static_cast<int32_t>(v)));
      return;
    case ArgKind::unsigned_int:
      append_decimal(out, u);
      return;
    case ArgKind::hex:
      if (u == 0)
        out.append(p.address_like ? "NULL" : "0");
      else
        append_hex(out, u);
      return;
    case ArgKind::dirfd:
      if (static_cast<int32_t>(v) == uapi::kAtFdcwd)
        out.append("AT_FDCWD");
      else
        append_decimal(out, static_cast<int64_t>(static_cast<int32_t>(v)));
      return;
    case ArgKind::flags:
    case ArgKind::enum_value:
      if (p.special == Special::statx_flags && (u & uapi::kAtStatxSyncType) == 0) {
        out.append("AT_STATX_SYNC_AS_STAT");
        if (u != 0) {
          out.push_back('|');
          if (p.set)
            append_flags(out, *p.set, u);
          else  // a catalogue (from the file) naming a set this decoder lacks
            put(out, "{:#x}", u);
        }
        return;
      }
      if (p.set)
        append_flags(out, *p.set, u);
      else if (p.kind == ArgKind::enum_value)
        put(out, "{}", s);
      else
        put(out, "{:#x}", u);
      return;
    case ArgKind::signal: {
      const auto sig = static_cast<int32_t>(v);
      if (sig == 0)
        out.push_back('0');
      else
        append_signal(out, sig);
      return;
    }
    case ArgKind::mode:
      append_mode(out, u);
      return;
    default:
      (void)e;
      append_pointer(out, v);
      return;
  }
}

void Decoder::Impl::append_data(std::string& out, const Event& e, const ParamPlan& p, size_t i) const {
  const uint64_t v = e.args[i];
  const auto* cap = e.capture_for(static_cast<unsigned>(i));
  const bool out_param = p.kind == ArgKind::buffer_out || p.kind == ArgKind::struct_out ||
                         p.kind == ArgKind::sockaddr_out || p.kind == ArgKind::struct_array_out;
  // A successful read of 0 bytes: strace shows "".
  if (cap == nullptr && v != 0 && p.kind == ArgKind::buffer_out && p.len_arg == format::kLenFromReturn &&
      p.special == Special::none && returned_ok(e) && e.ret == 0) {
    out.append("\"\"");
    return;
  }
  // Output data of a call that failed (or never finished) holds nothing: the pointer.
  if (v == 0 || cap == nullptr || (out_param && !returned_ok(e))) {
    append_pointer(out, v);
    return;
  }
  const size_t limit = options.string_limit;
  switch (p.kind) {
    case ArgKind::path:
      append_quoted(out, cap->bytes.substr(0, cap->bytes.find('\0')), 0, cap->truncated());
      return;
    case ArgKind::string:
      append_quoted(out, cap->bytes.substr(0, cap->bytes.find('\0')), limit, cap->truncated());
      return;
    case ArgKind::buffer_in:
    case ArgKind::buffer_out:
      if (p.special == Special::dirents) {
        append_dirents(out, cap->bytes, p.struct_type == "linux_dirent64", cap->truncated(), ctx);
      } else if (p.special == Special::cstring_out) {
        append_quoted(out, cap->bytes.substr(0, cap->bytes.find('\0')), 0, cap->truncated());
      } else if (p.special == Special::random_bytes) {
        append_quoted_hex(out, cap->bytes, limit, cap->truncated());
      } else {
        append_quoted(out, cap->bytes, limit, cap->truncated());
      }
      return;
    case ArgKind::string_array: {
      out.push_back('[');
      std::string_view rest = cap->bytes;
      size_t n = 0;
      bool cut = cap->truncated();
      while (!rest.empty()) {
        if (options.array_limit != 0 && n == options.array_limit) {
          cut = true;
          break;
        }
        const auto nul = rest.find('\0');
        const bool complete = nul != std::string_view::npos;
        if (n) out.append(", ");
        append_quoted(out, rest.substr(0, complete ? nul : rest.size()), limit, !complete);
        ++n;
        if (!complete) {
          cut = false;  // the element's own "..." says it
          break;
        }
        rest.remove_prefix(nul + 1);
      }
      if (cut) out.append(n ? ", ..." : "...");
      out.push_back(']');
      return;
    }
    case ArgKind::struct_in:
    case ArgKind::struct_out:
      if (!append_struct(out, p.struct_type, cap->bytes, ctx)) append_pointer(out, v);
      return;
    case ArgKind::struct_array_in:
    case ArgKind::struct_array_out: {
      uint64_t count = 0;
      if (p.len_arg == format::kLenFromReturn)
        count = e.ret > 0 ? static_cast<uint64_t>(e.ret) : 0;
      else if (p.len_arg >= 0 && p.len_arg < 6)
        count = static_cast<uint32_t>(e.args[static_cast<size_t>(p.len_arg)]);
      if (!append_struct_array(out, p.struct_type, p.struct_size, count, cap->bytes, cap->truncated(), ctx))
        append_pointer(out, v);
      return;
    }
    case ArgKind::sockaddr_in:
    case ArgKind::sockaddr_out:
      append_sockaddr(out, cap->bytes, ctx);
      return;
    default:
      append_pointer(out, v);
      return;
  }
}

void Decoder::Impl::append_arg(std::string& out, const Event& e, const SyscallPlan& sp, size_t i) const {
  const ParamPlan& p = sp.params[i];
  const uint64_t v = e.args[i];
  switch (p.special) {
    case Special::fcntl_arg: {
      switch (static_cast<uint32_t>(e.args[1])) {
        case uapi::kFSetfd:
          append_flags(out, "fd_flags", ctx.arch, v);
          return;
        case uapi::kFSetfl:
          append_flags(out, "open_flags", ctx.arch, static_cast<uint32_t>(v));
          return;
        case uapi::kFDupfd:
        case uapi::kFDupfdCloexec:
        case uapi::kFSetsig:
        case uapi::kFSetown:
        case uapi::kFSetpipeSz:  // fds, signals, pids, sizes
          put(out, "{}", static_cast<int32_t>(v));
          return;
        default:
          break;
      }
      break;
    }
    case Special::socket_protocol: {
      const auto domain = static_cast<uint32_t>(e.args[0]);
      const auto proto = static_cast<uint32_t>(v);
      if (domain == uapi::kAfInet || domain == uapi::kAfInet6) {
        append_flags(out, "ip_protocol", ctx.arch, proto);
        return;
      }
      if (domain == uapi::kAfNetlink) {
        append_flags(out, "netlink_protocol", ctx.arch, proto);
        return;
      }
      put(out, "{}", static_cast<int32_t>(proto));
      return;
    }
    case Special::socket_option: {
      // Option names are per level; SOL_SOCKET's are the ones every program uses.
      if (static_cast<uint32_t>(e.args[1]) == uapi::kSolSocket) {
        append_flags(out, "socket_option", ctx.arch, static_cast<uint32_t>(v));
        return;
      }
      put(out, "{}", static_cast<int32_t>(v));
      return;
    }
    default:
      break;
  }
  switch (p.kind) {
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
      append_data(out, e, p, i);
      return;
    default:
      append_value(out, e, p, v);
      return;
  }
}

void Decoder::append_arg(std::string& out, const Event& event, size_t index) const {
  const auto* sp = impl_->plan(event.nr);
  if (sp && index < sp->params.size()) {
    impl_->append_arg(out, event, *sp, index);
  } else if (index < 6) {
    put(out, "{:#x}", event.args[index]);
  }
}

namespace {

// Which parameters strace prints for a call (it drops some that do not apply).
bool strace_shows(const SyscallPlan& sp, const Event& e, size_t i) {
  const auto& p = sp.params[i];
  if (sp.is_futex) {
    // strace prints only the arguments the operation uses.
    switch (static_cast<uint32_t>(e.args[1]) & static_cast<uint32_t>(uapi::kFutexCmdMask)) {
      case uapi::kFutexWake: return i < 3;
      case uapi::kFutexWait: return i < 4;
      default: return true;
    }
  }
  if (p.special == Special::open_mode) {
    const size_t flags_index = i > 0 ? i - 1 : 0;
    return (e.args[flags_index] & (uapi::kOCreat | uapi::kOTmpfileBit)) != 0;
  }
  if (p.special == Special::fcntl_arg) {
    switch (static_cast<uint32_t>(e.args[1])) {
      case uapi::kFGetfd: case uapi::kFGetfl: case uapi::kFGetown: case uapi::kFGetsig:
      case uapi::kFGetlease: case uapi::kFGetpipeSz: case uapi::kFGetSeals:  // no argument
        return false;
      default:
        return true;
    }
  }
  return true;
}

}  // namespace

void Decoder::append_args(std::string& out, const Event& event, ArgStyle style) const {
  const auto* sp = impl_->plan(event.nr);
  if (!sp) {
    const size_t n = std::min<size_t>(event.arg_count, 6);
    for (size_t i = 0; i < n; ++i) {
      if (i) out.append(", ");
      if (style == ArgStyle::table) put(out, "arg{}=", i);
      put(out, "{:#x}", event.args[i]);
    }
    return;
  }
  const size_t n = sp->params.size();
  // A catalogue is data from the file: its clone may declare no parameter.
  if (style == ArgStyle::strace && sp->is_clone && n >= 1) {
    // strace names clone's arguments and shows only those the flags use.
    const uint64_t flags = event.args[0];
    const bool arm = impl_->ctx.arch == format::Arch::aarch64;
    out.append("child_stack=");
    append_pointer(out, event.args[1]);
    out.append(", flags=");
    impl_->append_arg(out, event, *sp, 0);
    if (flags & uapi::kCloneParentSettid) {
      out.append(", parent_tid=");
      append_pointer(out, event.args[2]);
    }
    if (flags & (uapi::kCloneChildSettid | uapi::kCloneChildCleartid)) {
      out.append(", child_tidptr=");
      append_pointer(out, arm ? event.args[4] : event.args[3]);
    }
    if (flags & uapi::kCloneSettls) {
      out.append(", tls=");
      append_pointer(out, arm ? event.args[3] : event.args[4]);
    }
    return;
  }
  bool first = true;
  for (size_t i = 0; i < n && i < 6; ++i) {
    if (style == ArgStyle::strace && !strace_shows(*sp, event, i)) continue;
    if (!first) out.append(", ");
    first = false;
    if (style == ArgStyle::table) {
      out.append(sp->params[i].name);
      out.push_back('=');
    }
    impl_->append_arg(out, event, *sp, i);
  }
}

void Decoder::append_return(std::string& out, const Event& event) const {
  if (event.state == CallState::never_returned) {
    out.push_back('X');
    return;
  }
  if (event.state == CallState::unfinished) {
    out.append("unfinished");  // SPEC wording; the strace renderer says <unfinished ...>
    return;
  }
  const auto* sp = impl_->plan(event.nr);
  const auto kind = sp ? sp->spec->returns : format::ReturnKind::integer;
  if (kind == format::ReturnKind::none) {
    out.push_back('X');
    return;
  }
  const int64_t ret = event.ret;
  if (ret < 0 && ret >= -4095) {
    const int err = static_cast<int>(-ret);
    const auto name = errno_name(err);
    if (name.empty())
      put(out, "-1 ERRNO_{} (Unknown error {})", err, err);
    else
      put(out, "-1 {} ({})", name, errno_message(err));
    return;
  }
  if (kind == format::ReturnKind::hex) {
    append_hex(out, static_cast<uint64_t>(ret));
    return;
  }
  if (kind == format::ReturnKind::unsigned_int) {
    append_decimal(out, static_cast<uint64_t>(ret));
    return;
  }
  append_decimal(out, ret);
  if (sp && sp->is_fcntl) {
    // strace explains the flags F_GETFD / F_GETFL return.
    const auto cmd = static_cast<uint32_t>(event.args[1]);
    if (cmd == uapi::kFGetfd || cmd == uapi::kFGetfl) {
      out.resize(out.size() - fmt::formatted_size("{}", ret));
      put(out, "{:#x} (flags ", static_cast<uint64_t>(ret));
      append_flags(out, cmd == uapi::kFGetfd ? "fd_flags" : "open_flags", impl_->ctx.arch, static_cast<uint64_t>(ret));
      out.push_back(')');
    }
  }
}

bool Decoder::field(std::string& out, const Event& event, std::string_view name) const {
  if (name == "syscall") {
    out.append(syscall_name(event));
  } else if (name == "comm") {
    out.append(event.comm);
  } else if (name == "pid") {
    put(out, "{}", event.pid);
  } else if (name == "tid") {
    put(out, "{}", event.tid);
  } else if (name == "cpu") {
    put(out, "{}", event.cpu);
  } else if (name == "ret") {
    append_return(out, event);
  } else if (name == "errno") {
    if (event.failed()) out.append(errno_name(static_cast<int>(-event.ret)));
  } else if (name == "args") {
    append_args(out, event, ArgStyle::strace);
  } else if (name == "path") {
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
  } else {
    const auto* sp = impl_->plan(event.nr);
    if (!sp) return false;
    for (size_t i = 0; i < sp->params.size(); ++i) {
      if (sp->params[i].name == name) {
        impl_->append_arg(out, event, *sp, i);
        return true;
      }
    }
    return false;
  }
  return true;
}

}  // namespace traceloop::tools
