// Structures read from user memory, for x86_64 and aarch64 (both little
// endian). Every offset and size is the trace's architecture's, from the
// layouts the generator compiles from that architecture's headers
// (format/syscalls/struct_layouts.h); every named value is from the generated
// tables. Nothing here depends on the reading host's ABI.

#include "tools/lib/decoder/struct_decode.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bpf/traceloop_events.h"
#include "format/syscalls/struct_layouts.h"
#include "format/syscalls/uapi_constants.h"
#include "tools/lib/decoder/decode.h"
#include "tools/lib/decoder/flag_sets.h"
#include "tools/lib/decoder/value_text.h"

namespace traceloop::tools {
namespace {

using uapi::LayoutField;

static_assert(std::string_view(uapi::kLayoutArchs[0]) == "x86_64" &&
              std::string_view(uapi::kLayoutArchs[1]) == "aarch64");

// The entry of a generated layout for the trace's architecture.
template <typename L>
constexpr const L& layout(const L (&per_arch)[2], format::Arch arch) {
  return per_arch[arch == format::Arch::aarch64 ? 1 : 0];
}

constexpr size_t end_of(LayoutField f) { return size_t{f.offset} + f.size; }

// Bounds-checked little-endian reads of a field, as wide as the layout says;
// callers check the total size first, so an out-of-range read (a bug) yields
// 0 rather than garbage.
class Bytes {
 public:
  explicit Bytes(std::string_view b) : b_(b) {}
  size_t size() const { return b_.size(); }
  bool holds(size_t n) const { return n <= b_.size(); }
  // The bytes from `offset` on: a structure inside this one.
  Bytes at(size_t offset) const { return Bytes(offset <= b_.size() ? b_.substr(offset) : std::string_view{}); }
  uint64_t u(LayoutField f) const {
    if (f.size == 0 || f.size > 8 || end_of(f) > b_.size()) return 0;
    uint64_t v = 0;
    for (size_t i = f.size; i-- > 0;) v = (v << 8) | static_cast<uint8_t>(b_[f.offset + i]);
    return v;
  }
  // Sign-extended from the field's width.
  int64_t i(LayoutField f) const {
    const uint64_t v = u(f);
    if (f.size == 0 || f.size >= 8) return static_cast<int64_t>(v);
    const unsigned shift = 64 - 8 * f.size;
    return static_cast<int64_t>(v << shift) >> shift;
  }
  // A field kept in network byte order, in host order.
  uint64_t big_endian(LayoutField f) const {
    if (f.size == 0 || f.size > 8 || end_of(f) > b_.size()) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < f.size; ++i) v = (v << 8) | static_cast<uint8_t>(b_[f.offset + i]);
    return v;
  }
  std::string_view raw(LayoutField f) const { return f.offset < b_.size() ? b_.substr(f.offset, f.size) : ""; }
  // NUL-terminated string inside a fixed field.
  std::string_view cstr(size_t offset, size_t max) const {
    if (offset >= b_.size()) return {};
    auto field = b_.substr(offset, max);
    auto nul = field.find('\0');
    return nul == std::string_view::npos ? field : field.substr(0, nul);
  }
  std::string_view cstr(LayoutField f) const { return cstr(f.offset, f.size); }

 private:
  std::string_view b_;
};

// Field writers: a name, then one value.
void int_field(ValueSink& s, std::string_view name, int64_t v, Meaning m = Meaning::none) {
  s.field(name);
  s.signed_integer(v, m);
}
void uint_field(ValueSink& s, std::string_view name, uint64_t v, Meaning m = Meaning::none) {
  s.field(name);
  s.unsigned_integer(v, m);
}
void hex_field(ValueSink& s, std::string_view name, uint64_t v, Meaning m = Meaning::none) {
  s.field(name);
  s.hex_integer(v, m);
}
void flags_field(ValueSink& s, std::string_view name, std::string_view set_name, format::Arch arch, uint64_t v) {
  s.field(name);
  if (const FlagSet* set = find_flag_set(set_name, arch))
    s.flags(*set, v);
  else
    s.hex_integer(v, Meaning::none);
}

// The name one of the decoders' generated enum sets (format/syscalls/
// annotations.txt) gives `key`, written as that constant with its raw value;
// false when the set names no such value.
bool named_constant(ValueSink& s, std::string_view set_name, format::Arch arch, uint64_t key, int64_t raw) {
  if (const FlagSet* set = find_flag_set(set_name, arch)) {
    for (const auto& n : set->values) {
      if (n.value == key) {
        s.constant(n.name, raw);
        return true;
      }
    }
  }
  return false;
}

// Linux's new_encode_dev layout of a 64-bit dev_t.
void device_field(ValueSink& s, std::string_view name, uint64_t dev) {
  s.field(name);
  s.device(((dev >> 8) & 0xfff) | ((dev >> 32) & ~uint64_t{0xfff}), (dev & 0xff) | ((dev >> 12) & ~uint64_t{0xff}));
}

// A struct timespec / timeval at the start of `b`.
void timespec_at(ValueSink& s, Bytes b, format::Arch arch) {
  const auto& L = layout(uapi::kTimespecLayout, arch);
  const int64_t nsec = b.i(L.tv_nsec);
  s.begin_struct();
  int_field(s, "tv_sec", b.i(L.tv_sec), Meaning::time);
  s.field("tv_nsec");
  if (!named_constant(s, "utime_special", arch, static_cast<uint64_t>(nsec), nsec))
    s.signed_integer(nsec, Meaning::time);
  s.end_struct(false);
}
size_t timespec_size(format::Arch arch) { return layout(uapi::kTimespecLayout, arch).size; }

void timeval_at(ValueSink& s, Bytes b, format::Arch arch) {
  const auto& L = layout(uapi::kTimevalLayout, arch);
  s.begin_struct();
  int_field(s, "tv_sec", b.i(L.tv_sec), Meaning::time);
  int_field(s, "tv_usec", b.i(L.tv_usec), Meaning::time);
  s.end_struct(false);
}
size_t timeval_size(format::Arch arch) { return layout(uapi::kTimevalLayout, arch).size; }

void rlim_field(ValueSink& s, std::string_view name, uint64_t v) {
  s.field(name);
  if (v == static_cast<uint64_t>(uapi::kRlim64Infinity))
    s.constant("RLIM64_INFINITY", uapi::kRlim64Infinity);
  else
    s.unsigned_integer(v, Meaning::rlimit);
}

bool is_device(uint64_t mode) {
  const uint64_t type = mode & uapi::kSIfmt;
  return type == uapi::kSIfchr || type == uapi::kSIfblk;
}

bool describe_stat(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kStatLayout, ctx.arch);
  if (!b.holds(L.size)) return false;
  const uint64_t mode = b.u(L.st_mode);
  s.begin_struct();
  s.field("st_mode");
  s.mode(mode);
  if (is_device(mode))
    device_field(s, "st_rdev", b.u(L.st_rdev));
  else
    int_field(s, "st_size", b.i(L.st_size));
  s.end_struct(true);
  return true;
}

bool describe_statx(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kStatxLayout, ctx.arch);
  if (!b.holds(L.size)) return false;
  s.begin_struct();
  flags_field(s, "stx_mask", "statx_mask", ctx.arch, b.u(L.stx_mask));
  flags_field(s, "stx_attributes", "statx_attributes", ctx.arch, b.u(L.stx_attributes));
  const uint64_t mode = b.u(L.stx_mode);
  s.field("stx_mode");
  s.mode(mode);
  if (is_device(mode)) {
    s.field("stx_rdev");
    s.device(b.u(L.stx_rdev_major), b.u(L.stx_rdev_minor));
  } else {
    uint_field(s, "stx_size", b.u(L.stx_size));
  }
  s.end_struct(true);
  return true;
}

bool describe_statfs(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kStatfsLayout, ctx.arch);
  if (!b.holds(L.size)) return false;
  const uint64_t type = b.u(L.f_type);
  s.begin_struct();
  s.field("f_type");
  if (!named_constant(s, "fs_magic", ctx.arch, type, static_cast<int64_t>(type))) s.hex_integer(type, Meaning::none);
  int_field(s, "f_bsize", b.i(L.f_bsize));
  uint_field(s, "f_blocks", b.u(L.f_blocks));
  uint_field(s, "f_bfree", b.u(L.f_bfree));
  uint_field(s, "f_bavail", b.u(L.f_bavail));
  uint_field(s, "f_files", b.u(L.f_files));
  uint_field(s, "f_ffree", b.u(L.f_ffree));
  s.field("f_fsid");
  s.begin_struct();
  s.field("val");
  s.begin_array();
  s.hex_integer(b.u(L.f_fsid0), Meaning::none);
  s.hex_integer(b.u(L.f_fsid1), Meaning::none);
  s.end_array(false);
  s.end_struct(false);
  int_field(s, "f_namelen", b.i(L.f_namelen));
  int_field(s, "f_frsize", b.i(L.f_frsize));
  hex_field(s, "f_flags", b.u(L.f_flags));
  s.end_struct(false);
  return true;
}

bool describe_utsname(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kUtsnameLayout, ctx.arch);
  if (!b.holds(end_of(L.nodename))) return false;  // the fields shown; the rest is abbreviated
  s.begin_struct();
  s.field("sysname");
  s.string({b.cstr(L.sysname), ctx.string_limit});
  s.field("nodename");
  s.string({b.cstr(L.nodename), ctx.string_limit});
  s.end_struct(true);
  return true;
}

bool describe_sysinfo(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kSysinfoLayout, ctx.arch);
  if (!b.holds(L.size)) return false;
  s.begin_struct();
  int_field(s, "uptime", b.i(L.uptime), Meaning::time);
  s.field("loads");
  s.begin_array();
  for (LayoutField load : {L.loads0, L.loads1, L.loads2}) s.unsigned_integer(b.u(load), Meaning::none);
  s.end_array(false);
  uint_field(s, "totalram", b.u(L.totalram));
  uint_field(s, "freeram", b.u(L.freeram));
  uint_field(s, "sharedram", b.u(L.sharedram));
  uint_field(s, "bufferram", b.u(L.bufferram));
  uint_field(s, "totalswap", b.u(L.totalswap));
  uint_field(s, "freeswap", b.u(L.freeswap));
  uint_field(s, "procs", b.u(L.procs));
  uint_field(s, "totalhigh", b.u(L.totalhigh));
  uint_field(s, "freehigh", b.u(L.freehigh));
  uint_field(s, "mem_unit", b.u(L.mem_unit));
  s.end_struct(false);
  return true;
}

bool describe_sigaction(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kSigactionLayout, ctx.arch);
  if (!b.holds(L.size)) return false;
  const uint64_t handler = b.u(L.handler);
  const uint64_t flags = b.u(L.flags);
  s.begin_struct();
  s.field("sa_handler");
  if (handler == uapi::kSigDfl)
    s.constant("SIG_DFL", uapi::kSigDfl);
  else if (handler == uapi::kSigIgn)
    s.constant("SIG_IGN", uapi::kSigIgn);
  else
    s.hex_integer(handler, Meaning::address);
  s.field("sa_mask");
  s.signal_set(b.u(L.mask));
  flags_field(s, "sa_flags", "sa_flags", ctx.arch, flags);
  if (flags & uapi::kSaRestorer) hex_field(s, "sa_restorer", b.u(L.restorer), Meaning::address);
  s.end_struct(false);
  return true;
}

// si_code: the generic codes first, then those of the signal (strace's order:
// SI_KERNEL is 0x80 whatever the signal).
void si_code_value(ValueSink& s, int64_t signo, int64_t code, format::Arch arch) {
  if (named_constant(s, "si_code", arch, static_cast<uint32_t>(code), code)) return;
  const auto sig = static_cast<uint64_t>(signo);
  const std::string_view set = sig == uapi::kSigchld  ? "sigchld_code"
                               : sig == uapi::kSigill  ? "sigill_code"
                               : sig == uapi::kSigfpe  ? "sigfpe_code"
                               : sig == uapi::kSigsegv ? "sigsegv_code"
                               : sig == uapi::kSigbus  ? "sigbus_code"
                               : sig == uapi::kSigtrap ? "sigtrap_code"
                               : sig == uapi::kSigpoll ? "sigpoll_code"
                               : sig == uapi::kSigsys  ? "sigsys_code"
                                                       : "";
  if (set.empty() || !named_constant(s, set, arch, static_cast<uint64_t>(code), code)) s.signed_integer(code, Meaning::none);
}

// The sender of a signal: si_pid, si_uid.
void sig_source(ValueSink& s, const Bytes& b, const uapi::SiginfoLayout& L) {
  int_field(s, "si_pid", b.i(L.pid), Meaning::pid);
  uint_field(s, "si_uid", b.u(L.uid), Meaning::id);
}

// si_value as strace writes it: si_int, then si_ptr (the same bytes).
void sig_value(ValueSink& s, const Bytes& b, const uapi::SiginfoLayout& L) {
  int_field(s, "si_int", b.i(L.value_int));
  hex_field(s, "si_ptr", b.u(L.value_ptr), Meaning::address);
}

// SIGSYS's syscall as strace writes it: "__NR_getpid" in the table of the
// architecture si_arch names (the trace's own when it is the trace's), else
// the number.
void syscall_number(ValueSink& s, int64_t nr, uint64_t audit_arch, const StructContext& ctx) {
  std::optional<format::Arch> arch;
  if (audit_arch == uapi::kAuditArchX8664) arch = format::Arch::x86_64;
  if (audit_arch == uapi::kAuditArchAarch64) arch = format::Arch::aarch64;
  if (arch && nr >= 0 && nr <= UINT32_MAX) {
    const format::Catalogue& table = ctx.catalogue != nullptr && ctx.catalogue->arch() == *arch
                                         ? *ctx.catalogue
                                         : format::builtin_catalogue(*arch);
    if (const auto* spec = table.find(static_cast<uint32_t>(nr))) {
      s.constant("__NR_" + spec->name, nr);
      return;
    }
  }
  s.signed_integer(nr, Meaning::none);
}

// The fields strace shows for a siginfo depend on who sent the signal (a
// process: si_code <= 0) and else on the signal; its choice, field by field.
bool describe_siginfo(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kSiginfoLayout, ctx.arch);
  if (!b.holds(end_of(L.stime))) return false;  // the common fields and the largest union member shown
  const int64_t signo = b.i(L.si_signo);
  const int64_t code = b.i(L.si_code);
  s.begin_struct();
  if (signo == 0) {  // nothing pending (rt_sigtimedwait's timeout, waitid's WNOHANG): strace writes {}
    s.end_struct(false);
    return true;
  }
  s.field("si_signo");
  s.signal(signo);
  s.field("si_code");
  si_code_value(s, signo, code, ctx.arch);
  if (const int64_t err = b.i(L.error); err != 0) {
    s.field("si_errno");
    const auto name = errno_name(static_cast<int>(err));
    if (name.empty())
      s.signed_integer(err, Meaning::none);
    else
      s.constant(name, err);
  }
  const auto sig = static_cast<uint64_t>(signo);
  if (code <= 0) {  // sent by a process
    if (code == static_cast<int64_t>(uapi::kSiTimer)) {
      hex_field(s, "si_timerid", b.u(L.timerid));
      int_field(s, "si_overrun", b.i(L.overrun));
      sig_value(s, b, L);
    } else {
      sig_source(s, b, L);
      if (code != static_cast<int64_t>(uapi::kSiUser) && code != static_cast<int64_t>(uapi::kSiTkill) &&
          b.u(L.value_ptr) != 0)
        sig_value(s, b, L);
    }
  } else if (sig == uapi::kSigchld) {
    sig_source(s, b, L);
    const int64_t status = b.i(L.status);
    s.field("si_status");
    if (static_cast<uint64_t>(code) == uapi::kCldExited)
      s.signed_integer(status, Meaning::none);
    else
      s.signal(status);
    int_field(s, "si_utime", b.i(L.utime), Meaning::clock_ticks);
    int_field(s, "si_stime", b.i(L.stime), Meaning::clock_ticks);
  } else if (sig == uapi::kSigill || sig == uapi::kSigfpe || sig == uapi::kSigsegv || sig == uapi::kSigbus) {
    hex_field(s, "si_addr", b.u(L.addr), Meaning::address);
  } else if (sig == uapi::kSigpoll) {
    const auto c = static_cast<uint64_t>(code);
    if (c == uapi::kPollIn || c == uapi::kPollOut || c == uapi::kPollMsg) {
      int_field(s, "si_band", b.i(L.band));
      int_field(s, "si_fd", b.i(L.fd), Meaning::fd);
    }
  } else if (sig == uapi::kSigsys) {
    hex_field(s, "si_call_addr", b.u(L.call_addr), Meaning::address);
    const uint64_t arch = b.u(L.audit_arch);
    s.field("si_syscall");
    syscall_number(s, b.i(L.call_nr), arch, ctx);
    s.field("si_arch");
    if (!named_constant(s, "audit_arch", ctx.arch, arch, static_cast<int64_t>(arch))) s.hex_integer(arch, Meaning::none);
  } else {
    if (b.u(L.pid) != 0 || b.u(L.uid) != 0) sig_source(s, b, L);
    if (b.u(L.value_ptr) != 0) sig_value(s, b, L);
  }
  s.end_struct(false);
  return true;
}

bool describe_clone_args(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kCloneArgsLayout, ctx.arch);
  if (!b.holds(uapi::kCloneArgsSizeVer0)) return false;  // clone3's oldest size; later fields are optional
  s.begin_struct();
  flags_field(s, "flags", "unshare_flags", ctx.arch, b.u(L.flags));
  if (auto pidfd = b.u(L.pidfd)) hex_field(s, "pidfd", pidfd, Meaning::address);
  if (auto child_tid = b.u(L.child_tid)) hex_field(s, "child_tid", child_tid, Meaning::address);
  if (auto parent_tid = b.u(L.parent_tid)) hex_field(s, "parent_tid", parent_tid, Meaning::address);
  s.field("exit_signal");
  s.signal(static_cast<int64_t>(b.u(L.exit_signal)));
  hex_field(s, "stack", b.u(L.stack));
  hex_field(s, "stack_size", b.u(L.stack_size));
  if (auto tls = b.u(L.tls)) hex_field(s, "tls", tls, Meaning::address);
  s.end_struct(false);
  return true;
}

bool describe_open_how(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kOpenHowLayout, ctx.arch);
  if (!b.holds(L.size)) return false;
  s.begin_struct();
  flags_field(s, "flags", "open_flags", ctx.arch, b.u(L.flags));
  s.field("mode");
  s.mode(b.u(L.mode));
  flags_field(s, "resolve", "resolve_flags", ctx.arch, b.u(L.resolve));
  s.end_struct(false);
  return true;
}

bool describe_rlimit(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kRlimitLayout, ctx.arch);
  if (!b.holds(L.size)) return false;
  s.begin_struct();
  rlim_field(s, "rlim_cur", b.u(L.rlim_cur));
  rlim_field(s, "rlim_max", b.u(L.rlim_max));
  s.end_struct(false);
  return true;
}

bool describe_fd_pair(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const uint32_t size = layout(uapi::kFdPairLayout, ctx.arch).size;  // int[2]
  if (!b.holds(size)) return false;
  s.begin_array();
  s.signed_integer(b.i({0, size / 2}), Meaning::fd);
  s.signed_integer(b.i({size / 2, size / 2}), Meaning::fd);
  s.end_array(false);
  return true;
}

bool describe_wait_status(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const uint32_t size = layout(uapi::kWaitStatusLayout, ctx.arch).size;  // int
  if (!b.holds(size)) return false;
  s.begin_array();
  s.wait_status(static_cast<int>(b.i({0, size})));
  s.end_array(false);
  return true;
}

bool describe_rusage(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kRusageLayout, ctx.arch);
  if (!b.holds(end_of(L.ru_stime))) return false;  // the fields shown
  s.begin_struct();
  s.field("ru_utime");
  timeval_at(s, b.at(L.ru_utime.offset), ctx.arch);
  s.field("ru_stime");
  timeval_at(s, b.at(L.ru_stime.offset), ctx.arch);
  s.end_struct(true);
  return true;
}

bool describe_timespec(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  if (!Bytes(bytes).holds(timespec_size(ctx.arch))) return false;
  timespec_at(s, Bytes(bytes), ctx.arch);
  return true;
}

bool describe_timeval(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  if (!Bytes(bytes).holds(timeval_size(ctx.arch))) return false;
  timeval_at(s, Bytes(bytes), ctx.arch);
  return true;
}

using TimeWriter = void (*)(ValueSink&, Bytes, format::Arch);

// utimensat's and utimes' times[2].
bool describe_time_pair(ValueSink& s, Bytes b, size_t pair_size, size_t element_size, TimeWriter time,
                        format::Arch arch) {
  if (!b.holds(pair_size)) return false;
  s.begin_array();
  time(s, b, arch);
  time(s, b.at(element_size), arch);
  s.end_array(false);
  return true;
}
bool describe_timespec_pair(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  return describe_time_pair(s, Bytes(bytes), layout(uapi::kTimespecPairLayout, ctx.arch).size,
                            timespec_size(ctx.arch), timespec_at, ctx.arch);
}
bool describe_timeval_pair(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  return describe_time_pair(s, Bytes(bytes), layout(uapi::kTimevalPairLayout, ctx.arch).size,
                            timeval_size(ctx.arch), timeval_at, ctx.arch);
}

template <typename L>
bool describe_itimer(ValueSink& s, Bytes b, const L& l, TimeWriter time, format::Arch arch) {
  if (!b.holds(l.size)) return false;
  s.begin_struct();
  s.field("it_interval");
  time(s, b.at(l.it_interval.offset), arch);
  s.field("it_value");
  time(s, b.at(l.it_value.offset), arch);
  s.end_struct(false);
  return true;
}
bool describe_itimerspec(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  return describe_itimer(s, Bytes(bytes), layout(uapi::kItimerspecLayout, ctx.arch), timespec_at, ctx.arch);
}
bool describe_itimerval(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  return describe_itimer(s, Bytes(bytes), layout(uapi::kItimervalLayout, ctx.arch), timeval_at, ctx.arch);
}

bool describe_timezone(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kTimezoneLayout, ctx.arch);
  if (!b.holds(L.size)) return false;
  s.begin_struct();
  int_field(s, "tz_minuteswest", b.i(L.tz_minuteswest));
  int_field(s, "tz_dsttime", b.i(L.tz_dsttime));
  s.end_struct(false);
  return true;
}

bool describe_utimbuf(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kUtimbufLayout, ctx.arch);
  if (!b.holds(L.size)) return false;
  s.begin_struct();
  int_field(s, "actime", b.i(L.actime), Meaning::time);
  int_field(s, "modtime", b.i(L.modtime), Meaning::time);
  s.end_struct(false);
  return true;
}

bool describe_tms(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kTmsLayout, ctx.arch);
  if (!b.holds(L.size)) return false;
  s.begin_struct();
  int_field(s, "tms_utime", b.i(L.tms_utime), Meaning::clock_ticks);
  int_field(s, "tms_stime", b.i(L.tms_stime), Meaning::clock_ticks);
  int_field(s, "tms_cutime", b.i(L.tms_cutime), Meaning::clock_ticks);
  int_field(s, "tms_cstime", b.i(L.tms_cstime), Meaning::clock_ticks);
  s.end_struct(false);
  return true;
}

bool describe_sigset(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const uint32_t size = layout(uapi::kSigsetLayout, ctx.arch).size;
  if (!Bytes(bytes).holds(size)) return false;
  s.signal_set(Bytes(bytes).u({0, size}));
  return true;
}

bool describe_stack_t(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kStackTLayout, ctx.arch);
  if (!b.holds(L.size)) return false;
  s.begin_struct();
  hex_field(s, "ss_sp", b.u(L.ss_sp), Meaning::address);
  const int64_t flags = b.i(L.ss_flags);
  s.field("ss_flags");
  if (flags == 0)
    s.signed_integer(0, Meaning::none);
  else if (!named_constant(s, "ss_flags", ctx.arch, b.u(L.ss_flags), flags))
    s.hex_integer(b.u(L.ss_flags), Meaning::none);
  uint_field(s, "ss_size", b.u(L.ss_size));
  s.end_struct(false);
  return true;
}

bool describe_sched_param(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kSchedParamLayout, ctx.arch);
  if (!b.holds(L.size)) return false;
  s.begin_struct();
  int_field(s, "sched_priority", b.i(L.sched_priority));
  s.end_struct(false);
  return true;
}

bool describe_mount_attr(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kMountAttrLayout, ctx.arch);
  if (!b.holds(L.size)) return false;
  s.begin_struct();
  hex_field(s, "attr_set", b.u(L.attr_set));
  hex_field(s, "attr_clr", b.u(L.attr_clr));
  hex_field(s, "propagation", b.u(L.propagation));
  uint_field(s, "userns_fd", b.u(L.userns_fd), Meaning::fd);
  s.end_struct(false);
  return true;
}

bool describe_xattr_args(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kXattrArgsLayout, ctx.arch);
  if (!b.holds(L.size)) return false;
  s.begin_struct();
  hex_field(s, "value", b.u(L.value), Meaning::address);
  uint_field(s, "size", b.u(L.value_size));
  flags_field(s, "flags", "xattr_flags", ctx.arch, b.u(L.flags));
  s.end_struct(false);
  return true;
}

// Types that are also array elements: each describes exactly one element,
// whose size is the layout's.
template <const auto& kLayout>
size_t element_size(format::Arch arch) {
  return layout(kLayout, arch).size;
}

bool describe_pollfd(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kPollfdLayout, ctx.arch);
  if (!b.holds(L.size)) return false;
  s.begin_struct();
  int_field(s, "fd", b.i(L.fd), Meaning::fd);
  flags_field(s, "events", "poll_events", ctx.arch, b.u(L.events));
  if (const uint64_t revents = b.u(L.revents)) flags_field(s, "revents", "poll_events", ctx.arch, revents);
  s.end_struct(false);
  return true;
}

// Packed on x86_64 (data at offset 4), aligned on aarch64 (offset 8): the layout says.
bool describe_epoll_event(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kEpollEventLayout, ctx.arch);
  if (!b.holds(L.size)) return false;
  const uint64_t data = b.u(L.data);
  s.begin_struct();
  flags_field(s, "events", "epoll_events", ctx.arch, b.u(L.events));
  s.field("data");
  s.begin_struct();
  uint_field(s, "u32", static_cast<uint32_t>(data));
  uint_field(s, "u64", data);
  s.end_struct(false);
  s.end_struct(false);
  return true;
}

bool describe_iovec(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& L = layout(uapi::kIovecLayout, ctx.arch);
  if (!b.holds(L.size)) return false;
  s.begin_struct();
  hex_field(s, "iov_base", b.u(L.iov_base), Meaning::address);
  uint_field(s, "iov_len", b.u(L.iov_len));
  s.end_struct(false);
  return true;
}

// One uid or gid: alone, strace shows it as a list of one ([1000]).
template <const auto& kLayout>
bool describe_id_element(ValueSink& s, std::string_view bytes, format::Arch arch) {
  const uint32_t size = layout(kLayout, arch).size;
  if (!Bytes(bytes).holds(size)) return false;
  s.unsigned_integer(Bytes(bytes).u({0, size}), Meaning::id);
  return true;
}
template <const auto& kLayout>
bool describe_id(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  if (!Bytes(bytes).holds(layout(kLayout, ctx.arch).size)) return false;
  s.begin_array();
  describe_id_element<kLayout>(s, bytes, ctx.arch);
  s.end_array(false);
  return true;
}

// ---- sendmsg, recvmsg: the message header and what it points to, as the
// recorder keeps them (struct tl_msghdr_head): every length in it is
// checked against the bytes, which a hostile file may cut anywhere.

// The parts of a message header capture; nullopt when its lengths do not fit
// its bytes.
struct MessageParts {
  Bytes header{{}};
  std::string_view name, iovecs, control, data;
  uint8_t faults = 0;
  std::array<uint16_t, TL_MSGHDR_IOVS> iov_data{};
};

std::optional<MessageParts> message_parts(std::string_view bytes, format::Arch arch) {
  const Bytes b(bytes);
  constexpr auto field = [](size_t offset, size_t size) {
    return LayoutField{static_cast<uint32_t>(offset), static_cast<uint32_t>(size)};
  };
  using H = tl_msghdr_head;
  if (!b.holds(sizeof(H))) return std::nullopt;
  const uint64_t hdr_len = b.u(field(offsetof(H, hdr_len), sizeof(H::hdr_len)));
  const uint64_t name_len = b.u(field(offsetof(H, name_len), sizeof(H::name_len)));
  const uint64_t iov_count = b.u(field(offsetof(H, iov_count), sizeof(H::iov_count)));
  const uint64_t control_len = b.u(field(offsetof(H, control_len), sizeof(H::control_len)));
  MessageParts parts;
  parts.faults = static_cast<uint8_t>(b.u(field(offsetof(H, faults), sizeof(H::faults))));
  for (size_t i = 0; i < TL_MSGHDR_IOVS; ++i)
    parts.iov_data[i] = static_cast<uint16_t>(b.u(field(offsetof(H, iov_data) + i * sizeof(uint16_t), sizeof(uint16_t))));
  if (hdr_len < layout(uapi::kMsghdrLayout, arch).size || iov_count > TL_MSGHDR_IOVS) return std::nullopt;
  const uint64_t iovecs_len = iov_count * layout(uapi::kIovecLayout, arch).size;
  size_t at = sizeof(H);
  auto take = [&](uint64_t n) -> std::optional<std::string_view> {
    if (n > bytes.size() - at) return std::nullopt;
    const auto part = bytes.substr(at, n);
    at += n;
    return part;
  };
  const auto header = take(hdr_len), name = take(name_len), iovecs = take(iovecs_len), control = take(control_len);
  if (!header || !name || !iovecs || !control) return std::nullopt;
  parts.header = Bytes(*header);
  parts.name = *name;
  parts.iovecs = *iovecs;
  parts.control = *control;
  parts.data = bytes.substr(at);
  return parts;
}

// The iovecs and their data, as strace's tprint_iov_upto: each iovec's
// string is what the call moved into it (`moved` bytes in all, -1: every
// iovec whole), cut where the recorder's limit cut it.
void describe_message_iovecs(ValueSink& s, const MessageParts& m, uint64_t iovlen, int64_t moved,
                             const StructContext& ctx) {
  const auto& L = layout(uapi::kIovecLayout, ctx.arch);
  const size_t kept = m.iovecs.size() / L.size;
  const size_t shown = ctx.array_limit == 0 ? kept : std::min(kept, ctx.array_limit);
  uint64_t left = moved < 0 ? UINT64_MAX : static_cast<uint64_t>(moved);
  std::string_view data = m.data;
  s.begin_array();
  for (size_t i = 0; i < shown; ++i) {
    const Bytes v(m.iovecs.substr(i * L.size, L.size));
    const uint64_t base = v.u(L.iov_base), len = v.u(L.iov_len);
    const uint64_t wanted = std::min(len, left);
    if (moved >= 0) left -= wanted;
    const uint16_t got = m.iov_data[i];
    s.begin_struct();
    s.field("iov_base");
    if (base == 0 || got == TL_MSGHDR_UNREAD || got > data.size()) {
      s.hex_integer(base, Meaning::address);
    } else {
      s.string({data.substr(0, got), ctx.string_limit, got < wanted});
      data.remove_prefix(got);
    }
    uint_field(s, "iov_len", len);
    s.end_struct(false);
  }
  s.end_array(shown < iovlen);
}

// cmsg_data of a control message at level SOL_SOCKET, as strace's
// print_cmsg_type_data: SCM_RIGHTS' fds, SCM_CREDENTIALS' sender, SCM_PIDFD's
// fd; nothing for the others.
void describe_cmsg_data(ValueSink& s, uint64_t type, std::string_view data, const StructContext& ctx) {
  const uint32_t fd_size = layout(uapi::kScmFdLayout, ctx.arch).size;
  const auto& cred = layout(uapi::kUcredLayout, ctx.arch);
  if (type == uapi::kScmRights && data.size() >= fd_size) {
    const size_t n = data.size() / fd_size;
    const size_t shown = ctx.array_limit == 0 ? n : std::min(n, ctx.array_limit);
    s.field("cmsg_data");
    s.begin_array();
    for (size_t i = 0; i < shown; ++i) s.signed_integer(Bytes(data).i({static_cast<uint32_t>(i * fd_size), fd_size}), Meaning::fd);
    s.end_array(shown < n);
  } else if (type == uapi::kScmCredentials && data.size() >= cred.size) {
    const Bytes b(data);
    s.field("cmsg_data");
    s.begin_struct();
    int_field(s, "pid", b.i(cred.pid), Meaning::pid);
    uint_field(s, "uid", b.u(cred.uid), Meaning::id);
    uint_field(s, "gid", b.u(cred.gid), Meaning::id);
    s.end_struct(false);
  } else if (type == uapi::kScmPidfd && data.size() >= fd_size) {
    s.field("cmsg_data");
    s.signed_integer(Bytes(data).i({0, fd_size}), Meaning::fd);
  }
}

// msg_control as strace's decode_msg_control: the control messages the
// bytes hold, each {cmsg_len, cmsg_level, cmsg_type[, cmsg_data]}, walked
// by cmsg_len aligned to the word; a header that does not fit ends the walk.
void describe_control(ValueSink& s, const MessageParts& m, uint64_t address, uint64_t controllen,
                      const StructContext& ctx) {
  const auto& L = layout(uapi::kCmsghdrLayout, ctx.arch);
  const size_t word = L.cmsg_len.size;  // the architecture's long: the alignment of a message
  std::string_view rest = m.control;
  // Not read (a fault), or too short for one header: the address.
  if (rest.size() < L.size || (m.faults & TL_MSGHDR_FAULT_CONTROL) != 0) {
    s.hex_integer(address, Meaning::address);
    return;
  }
  s.begin_array();
  size_t shown = 0;
  bool cut = rest.size() < controllen;
  while (rest.size() >= L.size) {
    if (ctx.array_limit != 0 && shown == ctx.array_limit) {
      cut = true;
      break;
    }
    const Bytes h(rest);
    const uint64_t len = h.u(L.cmsg_len);
    const int64_t level = h.i(L.cmsg_level);
    const int64_t type = h.i(L.cmsg_type);
    s.begin_struct();
    uint_field(s, "cmsg_len", len);
    s.field("cmsg_level");
    if (!named_constant(s, "socket_level", ctx.arch, static_cast<uint32_t>(level), level))
      s.hex_integer(static_cast<uint32_t>(level), Meaning::none);
    s.field("cmsg_type");
    if (static_cast<uint64_t>(level) == uapi::kSolSocket) {
      if (!named_constant(s, "scm_type", ctx.arch, static_cast<uint32_t>(type), type))
        s.hex_integer(static_cast<uint32_t>(type), Meaning::none);
      // the data the message claims, within the bytes kept
      const uint64_t claimed = len > L.size ? len - L.size : 0;
      describe_cmsg_data(s, static_cast<uint32_t>(type), rest.substr(L.size, std::min<uint64_t>(claimed, rest.size() - L.size)), ctx);
    } else {
      s.hex_integer(static_cast<uint32_t>(type), Meaning::none);
    }
    s.end_struct(false);
    ++shown;
    if (len < L.size) {  // a length that cannot be walked: strace stops here
      cut = true;
      break;
    }
    const uint64_t step = (len + word - 1) & ~uint64_t{word - 1};
    if (step >= rest.size() || step < len) {
      rest = {};
      break;
    }
    rest.remove_prefix(step);
  }
  s.end_array(cut || !rest.empty());
}

bool describe_message(ValueSink& s, std::string_view bytes, int64_t moved, const StructContext& ctx) {
  const auto parts = message_parts(bytes, ctx.arch);
  if (!parts) return false;
  const MessageParts& m = *parts;
  const auto& L = layout(uapi::kMsghdrLayout, ctx.arch);
  const Bytes& h = m.header;
  const uint64_t name = h.u(L.msg_name), iov = h.u(L.msg_iov), control = h.u(L.msg_control);
  const int64_t namelen = h.i(L.msg_namelen);
  const uint64_t iovlen = h.u(L.msg_iovlen), controllen = h.u(L.msg_controllen);
  s.begin_struct();
  s.field("msg_name");
  // strace's decode_sockaddr: fewer than a family's bytes, or unread, is the address
  if (name == 0 || namelen < 2 || m.name.size() < 2)
    s.hex_integer(name, Meaning::address);
  else
    describe_sockaddr(s, m.name, ctx);
  int_field(s, "msg_namelen", namelen);
  s.field("msg_iov");
  if (iov == 0 || (m.faults & TL_MSGHDR_FAULT_IOV) != 0 || (iovlen != 0 && m.iovecs.empty()))
    s.hex_integer(iov, Meaning::address);
  else
    describe_message_iovecs(s, m, iovlen, moved, ctx);
  uint_field(s, "msg_iovlen", iovlen);
  if (controllen != 0) {
    s.field("msg_control");
    if (control == 0)
      s.hex_integer(control, Meaning::address);
    else
      describe_control(s, m, control, controllen, ctx);
  }
  uint_field(s, "msg_controllen", controllen);
  flags_field(s, "msg_flags", "send_flags", ctx.arch, h.u(L.msg_flags));
  s.end_struct(false);
  return true;
}

// As sendmsg sends it: every iovec whole.
bool describe_msghdr(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  return describe_message(s, bytes, -1, ctx);
}

constexpr StructDecoder kStructDecoders[] = {
    {"stat", describe_stat, nullptr},
    {"statx", describe_statx, nullptr},
    {"statfs", describe_statfs, nullptr},
    {"utsname", describe_utsname, nullptr},
    {"sysinfo", describe_sysinfo, nullptr},
    {"sigaction", describe_sigaction, nullptr},
    {"siginfo", describe_siginfo, nullptr},
    {"clone_args", describe_clone_args, nullptr},
    {"open_how", describe_open_how, nullptr},
    {"rlimit", describe_rlimit, nullptr},
    {"fd_pair", describe_fd_pair, nullptr},
    {"wait_status", describe_wait_status, nullptr},
    {"rusage", describe_rusage, nullptr},
    {"timespec", describe_timespec, element_size<uapi::kTimespecLayout>},
    {"timeval", describe_timeval, element_size<uapi::kTimevalLayout>},
    {"timespec_pair", describe_timespec_pair, nullptr},
    {"timeval_pair", describe_timeval_pair, nullptr},
    {"itimerspec", describe_itimerspec, nullptr},
    {"itimerval", describe_itimerval, nullptr},
    {"timezone", describe_timezone, nullptr},
    {"utimbuf", describe_utimbuf, nullptr},
    {"tms", describe_tms, nullptr},
    {"sigset", describe_sigset, nullptr},
    {"stack_t", describe_stack_t, nullptr},
    {"sched_param", describe_sched_param, nullptr},
    {"mount_attr", describe_mount_attr, nullptr},
    {"xattr_args", describe_xattr_args, nullptr},
    {"pollfd", describe_pollfd, element_size<uapi::kPollfdLayout>},
    {"epoll_event", describe_epoll_event, element_size<uapi::kEpollEventLayout>},
    {"iovec", describe_iovec, element_size<uapi::kIovecLayout>},
    {"uid", describe_id<uapi::kUidLayout>, element_size<uapi::kUidLayout>},
    {"gid", describe_id<uapi::kGidLayout>, element_size<uapi::kGidLayout>},
    {"msghdr", describe_msghdr, nullptr},
};

}  // namespace

const StructDecoder* find_struct_decoder(std::string_view type) {
  for (const auto& d : kStructDecoders)
    if (d.type == type) return &d;
  return nullptr;
}

bool describe_struct_array(ValueSink& sink, const StructDecoder& decoder, size_t size, size_t count,
                           std::string_view bytes, bool truncated, const StructContext& ctx) {
  if (decoder.element_size == nullptr) return false;
  const size_t own = decoder.element_size(ctx.arch);
  if (size == 0) size = own;
  if (size == 0) return false;
  const size_t available = bytes.size() / size;
  const size_t shown_max = ctx.array_limit == 0 ? available : std::min(available, ctx.array_limit);
  const size_t shown = std::min(count, shown_max);
  sink.begin_array();
  for (size_t i = 0; i < shown; ++i) {
    const auto element = bytes.substr(i * size, size);
    if (decoder.describe == describe_id<uapi::kUidLayout>)
      describe_id_element<uapi::kUidLayout>(sink, element, ctx.arch);
    else if (decoder.describe == describe_id<uapi::kGidLayout>)
      describe_id_element<uapi::kGidLayout>(sink, element, ctx.arch);
    else
      decoder.describe(sink, element, ctx);
  }
  sink.end_array(shown < count || truncated);
  return true;
}

uint64_t count_dirents(std::string_view bytes, bool is64, format::Arch arch, size_t* whole_bytes) {
  const auto& d64 = layout(uapi::kLinuxDirent64Layout, arch);
  const auto& d = layout(uapi::kLinuxDirentLayout, arch);
  const LayoutField reclen_field = is64 ? d64.d_reclen : d.d_reclen;
  const size_t header = is64 ? d64.d_name.offset : d.d_name.offset;
  const Bytes all(bytes);
  uint64_t n = 0;
  size_t off = 0;
  for (; off + header <= bytes.size(); ++n) {
    const uint64_t reclen = all.at(off).u(reclen_field);
    if (reclen < header || off + reclen > bytes.size()) break;
    off += reclen;
  }
  if (whole_bytes) *whole_bytes = off;
  return n;
}

void describe_dirents(ValueSink& s, std::string_view bytes, bool is64, bool truncated, const StructContext& ctx,
                      const ArrayCount* count) {
  const auto& d64 = layout(uapi::kLinuxDirent64Layout, ctx.arch);
  const auto& d = layout(uapi::kLinuxDirentLayout, ctx.arch);
  const LayoutField ino = is64 ? d64.d_ino : d.d_ino;
  const LayoutField off_field = is64 ? d64.d_off : d.d_off;
  const LayoutField reclen_field = is64 ? d64.d_reclen : d.d_reclen;
  const size_t header = is64 ? d64.d_name.offset : d.d_name.offset;  // bytes before d_name
  const Bytes all(bytes);
  if (count)
    s.begin_counted_array(*count);
  else
    s.begin_array();
  size_t off = 0;
  size_t shown = 0;
  bool cut = truncated;
  while (off + header <= bytes.size()) {
    const Bytes rec = all.at(off);
    const uint64_t reclen = rec.u(reclen_field);
    if (reclen < header || off + reclen > bytes.size()) {
      cut = true;  // a malformed or cut record ends the list
      break;
    }
    if (ctx.array_limit != 0 && shown == ctx.array_limit) {
      cut = true;
      break;
    }
    // linux_dirent has no d_type field: the kernel puts it in the record's last byte.
    const uint64_t type = is64 ? rec.u(d64.d_type) : rec.u({static_cast<uint32_t>(reclen - 1), 1});
    s.begin_struct();
    uint_field(s, "d_ino", rec.u(ino));
    int_field(s, "d_off", rec.i(off_field));
    uint_field(s, "d_reclen", reclen);
    s.field("d_type");
    if (!named_constant(s, "dirent_type", ctx.arch, type, static_cast<int64_t>(type)))
      s.unsigned_integer(type, Meaning::none);
    s.field("d_name");
    s.string({rec.cstr(header, reclen - header), ctx.string_limit});
    s.end_struct(false);
    ++shown;
    off += reclen;
  }
  if (off < bytes.size()) cut = true;
  s.end_array(cut);
}

void describe_sockaddr(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const auto& sa = layout(uapi::kSockaddrLayout, ctx.arch);
  s.begin_struct();
  if (!b.holds(end_of(sa.family))) {
    s.end_struct(false);
    return;
  }
  const uint64_t family = b.u(sa.family);
  const size_t data = end_of(sa.family);  // what follows the family
  flags_field(s, "sa_family", "socket_domain", ctx.arch, family);
  if (family == uapi::kAfUnix) {
    const auto& L = layout(uapi::kSockaddrUnLayout, ctx.arch);
    if (bytes.size() > L.sun_path.offset) {
      auto path = bytes.substr(L.sun_path.offset);
      s.field("sun_path");
      if (path[0] == '\0')  // abstract: the name is every byte after the NUL, NULs included
        s.string({path.substr(1), ctx.string_limit, false, StringForm::abstract});
      else
        s.string({b.cstr(L.sun_path.offset, path.size()), ctx.string_limit});
    }
  } else if (const auto& in = layout(uapi::kSockaddrInLayout, ctx.arch);
             family == uapi::kAfInet && b.holds(end_of(in.sin_addr))) {
    s.field("sin_port");
    s.network_integer(b.big_endian(in.sin_port), in.sin_port.size);
    s.field("sin_addr");
    s.ip_address(static_cast<int>(uapi::kAfInet), b.raw(in.sin_addr));
  } else if (const auto& in6 = layout(uapi::kSockaddrIn6Layout, ctx.arch);
             family == uapi::kAfInet6 && b.holds(end_of(in6.sin6_addr))) {
    s.field("sin6_port");
    s.network_integer(b.big_endian(in6.sin6_port), in6.sin6_port.size);
    s.field("sin6_flowinfo");
    s.network_integer(b.big_endian(in6.sin6_flowinfo), in6.sin6_flowinfo.size);
    s.field("sin6_addr");
    s.ip_address(static_cast<int>(uapi::kAfInet6), b.raw(in6.sin6_addr));
    if (b.holds(end_of(in6.sin6_scope_id))) uint_field(s, "sin6_scope_id", b.u(in6.sin6_scope_id));
  } else if (const auto& nl = layout(uapi::kSockaddrNlLayout, ctx.arch);
             family == uapi::kAfNetlink && b.holds(end_of(nl.nl_groups))) {
    uint_field(s, "nl_pid", b.u(nl.nl_pid), Meaning::pid);
    hex_field(s, "nl_groups", b.u(nl.nl_groups), Meaning::hex_word);
  } else if (bytes.size() > data) {
    s.field("sa_data");
    s.string({bytes.substr(data), ctx.string_limit});
  }
  s.end_struct(false);
}

bool describe_msghdr(ValueSink& sink, std::string_view bytes, int64_t moved, const StructContext& ctx) {
  return describe_message(sink, bytes, moved, ctx);
}

std::optional<PassedFds> scm_rights_fds(std::string_view bytes, format::Arch arch) {
  const auto parts = message_parts(bytes, arch);
  if (!parts || (parts->faults & TL_MSGHDR_FAULT_CONTROL) != 0) return std::nullopt;
  const auto& L = layout(uapi::kCmsghdrLayout, arch);
  const auto& M = layout(uapi::kMsghdrLayout, arch);
  const uint32_t fd_size = layout(uapi::kScmFdLayout, arch).size;
  const size_t word = L.cmsg_len.size;
  PassedFds out;
  out.complete = parts->control.size() >= parts->header.u(M.msg_controllen);
  std::string_view rest = parts->control;
  while (rest.size() >= L.size) {
    const Bytes h(rest);
    const uint64_t len = h.u(L.cmsg_len);
    if (len < L.size) break;
    if (static_cast<uint64_t>(h.i(L.cmsg_level)) == uapi::kSolSocket &&
        static_cast<uint64_t>(static_cast<uint32_t>(h.i(L.cmsg_type))) == uapi::kScmRights) {
      if (len > rest.size()) out.complete = false;
      const auto data = rest.substr(L.size, std::min<uint64_t>(len, rest.size()) - L.size);
      for (size_t at = 0; at + fd_size <= data.size(); at += fd_size)
        out.fds.push_back(static_cast<int32_t>(Bytes(data).i({static_cast<uint32_t>(at), fd_size})));
    }
    const uint64_t step = (len + word - 1) & ~uint64_t{word - 1};
    if (step >= rest.size() || step < len) break;
    rest.remove_prefix(step);
  }
  return out;
}

bool append_msghdr(std::string& out, std::string_view bytes, int64_t moved, const StructContext& ctx) {
  const size_t mark = out.size();
  TextValueWriter writer(out);
  if (describe_msghdr(writer, bytes, moved, ctx)) return true;
  out.resize(mark);
  return false;
}

bool append_struct(std::string& out, std::string_view type, std::string_view bytes, const StructContext& ctx) {
  const StructDecoder* decoder = find_struct_decoder(type);
  if (decoder == nullptr) return false;
  const size_t mark = out.size();
  TextValueWriter writer(out);
  if (decoder->describe(writer, bytes, ctx)) return true;
  out.resize(mark);
  return false;
}

bool append_struct_array(std::string& out, std::string_view type, size_t size, size_t count,
                         std::string_view bytes, bool truncated, const StructContext& ctx) {
  const StructDecoder* decoder = find_struct_decoder(type);
  if (decoder == nullptr) return false;
  TextValueWriter writer(out);
  return describe_struct_array(writer, *decoder, size, count, bytes, truncated, ctx);
}

void append_dirents(std::string& out, std::string_view bytes, bool is64, bool truncated, const StructContext& ctx) {
  TextValueWriter writer(out);
  describe_dirents(writer, bytes, is64, truncated, ctx);
}

void append_sockaddr(std::string& out, std::string_view bytes, const StructContext& ctx) {
  TextValueWriter writer(out);
  describe_sockaddr(writer, bytes, ctx);
}

void append_wait_status(std::string& out, int status) {
  TextValueWriter writer(out);
  writer.wait_status(status);
}

}  // namespace traceloop::tools
