// Structure layouts from the Linux UAPI headers, for x86_64 and aarch64 (both
// little endian, LP64). Offsets are written out rather than taken from host
// headers: the trace's architecture decides, not the reader's.

#include "tools/lib/decoder/struct_decode.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "format/syscalls/uapi_constants.h"
#include "tools/lib/decoder/flag_sets.h"
#include "tools/lib/decoder/value_text.h"

namespace traceloop::tools {
namespace {

// Bounds-checked little-endian field reads; callers check the total size
// first, so an out-of-range read (a bug) yields 0 rather than garbage.
class Bytes {
 public:
  explicit Bytes(std::string_view b) : b_(b) {}
  template <typename T>
  T get(size_t offset) const {
    T value{};
    if (offset + sizeof(T) <= b_.size()) std::memcpy(&value, b_.data() + offset, sizeof(T));
    return value;
  }
  size_t size() const { return b_.size(); }
  // NUL-terminated string inside a fixed field.
  std::string_view cstr(size_t offset, size_t max) const {
    if (offset >= b_.size()) return {};
    auto field = b_.substr(offset, max);
    auto nul = field.find('\0');
    return nul == std::string_view::npos ? field : field.substr(0, nul);
  }

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

void timespec(ValueSink& s, int64_t sec, int64_t nsec, format::Arch arch) {
  s.begin_struct();
  int_field(s, "tv_sec", sec, Meaning::time);
  s.field("tv_nsec");
  if (!named_constant(s, "utime_special", arch, static_cast<uint64_t>(nsec), nsec))
    s.signed_integer(nsec, Meaning::time);
  s.end_struct(false);
}

void timeval(ValueSink& s, int64_t sec, int64_t usec) {
  s.begin_struct();
  int_field(s, "tv_sec", sec, Meaning::time);
  int_field(s, "tv_usec", usec, Meaning::time);
  s.end_struct(false);
}

void timespec_at(ValueSink& s, Bytes b, size_t off, format::Arch arch) {
  timespec(s, b.get<int64_t>(off), b.get<int64_t>(off + 8), arch);
}
void timeval_at(ValueSink& s, Bytes b, size_t off, format::Arch) {
  timeval(s, b.get<int64_t>(off), b.get<int64_t>(off + 8));
}

void rlim_field(ValueSink& s, std::string_view name, uint64_t v) {
  s.field(name);
  if (v == static_cast<uint64_t>(uapi::kRlim64Infinity))
    s.constant("RLIM64_INFINITY", uapi::kRlim64Infinity);
  else
    s.unsigned_integer(v, Meaning::rlimit);
}

bool is_device(uint32_t mode) {
  const uint64_t type = mode & uapi::kSIfmt;
  return type == uapi::kSIfchr || type == uapi::kSIfblk;
}

bool describe_stat(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  uint32_t mode = 0;
  uint64_t rdev = 0;
  int64_t size = 0;
  if (ctx.arch == format::Arch::aarch64) {
    if (b.size() < 128) return false;
    mode = b.get<uint32_t>(16);
    rdev = b.get<uint64_t>(32);
    size = b.get<int64_t>(48);
  } else {
    if (b.size() < 144) return false;
    mode = b.get<uint32_t>(24);
    rdev = b.get<uint64_t>(40);
    size = b.get<int64_t>(48);
  }
  s.begin_struct();
  s.field("st_mode");
  s.mode(mode);
  if (is_device(mode))
    device_field(s, "st_rdev", rdev);
  else
    int_field(s, "st_size", size);
  s.end_struct(true);
  return true;
}

bool describe_statx(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  if (b.size() < 256) return false;
  s.begin_struct();
  flags_field(s, "stx_mask", "statx_mask", ctx.arch, b.get<uint32_t>(0));
  flags_field(s, "stx_attributes", "statx_attributes", ctx.arch, b.get<uint64_t>(8));
  const uint16_t mode = b.get<uint16_t>(28);
  s.field("stx_mode");
  s.mode(mode);
  if (is_device(mode)) {
    s.field("stx_rdev");
    s.device(b.get<uint32_t>(128), b.get<uint32_t>(132));
  } else {
    uint_field(s, "stx_size", b.get<uint64_t>(40));
  }
  s.end_struct(true);
  return true;
}

bool describe_statfs(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  if (b.size() < 120) return false;
  const uint64_t type = b.get<uint64_t>(0);
  s.begin_struct();
  s.field("f_type");
  if (!named_constant(s, "fs_magic", ctx.arch, type, static_cast<int64_t>(type))) s.hex_integer(type, Meaning::none);
  int_field(s, "f_bsize", b.get<int64_t>(8));
  uint_field(s, "f_blocks", b.get<uint64_t>(16));
  uint_field(s, "f_bfree", b.get<uint64_t>(24));
  uint_field(s, "f_bavail", b.get<uint64_t>(32));
  uint_field(s, "f_files", b.get<uint64_t>(40));
  uint_field(s, "f_ffree", b.get<uint64_t>(48));
  s.field("f_fsid");
  s.begin_struct();
  s.field("val");
  s.begin_array();
  s.hex_integer(b.get<uint32_t>(56), Meaning::none);
  s.hex_integer(b.get<uint32_t>(60), Meaning::none);
  s.end_array(false);
  s.end_struct(false);
  int_field(s, "f_namelen", b.get<int64_t>(64));
  int_field(s, "f_frsize", b.get<int64_t>(72));
  hex_field(s, "f_flags", b.get<uint64_t>(80));
  s.end_struct(false);
  return true;
}

bool describe_utsname(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  if (b.size() < 130) return false;
  s.begin_struct();
  s.field("sysname");
  s.string({b.cstr(0, 65), ctx.string_limit});
  s.field("nodename");
  s.string({b.cstr(65, 65), ctx.string_limit});
  s.end_struct(true);
  return true;
}

bool describe_sysinfo(ValueSink& s, std::string_view bytes, const StructContext&) {
  const Bytes b(bytes);
  if (b.size() < 112) return false;
  s.begin_struct();
  int_field(s, "uptime", b.get<int64_t>(0), Meaning::time);
  s.field("loads");
  s.begin_array();
  for (size_t off : {8, 16, 24}) s.unsigned_integer(b.get<uint64_t>(off), Meaning::none);
  s.end_array(false);
  uint_field(s, "totalram", b.get<uint64_t>(32));
  uint_field(s, "freeram", b.get<uint64_t>(40));
  uint_field(s, "sharedram", b.get<uint64_t>(48));
  uint_field(s, "bufferram", b.get<uint64_t>(56));
  uint_field(s, "totalswap", b.get<uint64_t>(64));
  uint_field(s, "freeswap", b.get<uint64_t>(72));
  uint_field(s, "procs", b.get<uint16_t>(80));
  uint_field(s, "totalhigh", b.get<uint64_t>(88));
  uint_field(s, "freehigh", b.get<uint64_t>(96));
  uint_field(s, "mem_unit", b.get<uint32_t>(104));
  s.end_struct(false);
  return true;
}

bool describe_sigaction(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  if (b.size() < 32) return false;
  const uint64_t handler = b.get<uint64_t>(0);
  const uint64_t flags = b.get<uint64_t>(8);
  s.begin_struct();
  s.field("sa_handler");
  if (handler == uapi::kSigDfl)
    s.constant("SIG_DFL", uapi::kSigDfl);
  else if (handler == uapi::kSigIgn)
    s.constant("SIG_IGN", uapi::kSigIgn);
  else
    s.hex_integer(handler, Meaning::address);
  s.field("sa_mask");
  s.signal_set(b.get<uint64_t>(24));
  flags_field(s, "sa_flags", "sa_flags", ctx.arch, flags);
  if (flags & uapi::kSaRestorer) hex_field(s, "sa_restorer", b.get<uint64_t>(16), Meaning::address);
  s.end_struct(false);
  return true;
}

bool describe_siginfo(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  if (b.size() < 48) return false;
  const int32_t signo = b.get<int32_t>(0);
  const int32_t code = b.get<int32_t>(8);
  s.begin_struct();
  s.field("si_signo");
  s.signal(signo);
  s.field("si_code");
  if (static_cast<uint64_t>(signo) == uapi::kSigchld) {
    if (!named_constant(s, "sigchld_code", ctx.arch, static_cast<uint32_t>(code), code))
      s.signed_integer(code, Meaning::none);
    int_field(s, "si_pid", b.get<int32_t>(16), Meaning::pid);
    uint_field(s, "si_uid", b.get<uint32_t>(20), Meaning::id);
    const int32_t status = b.get<int32_t>(24);
    s.field("si_status");
    if (static_cast<uint64_t>(code) == uapi::kCldExited)
      s.signed_integer(status, Meaning::none);
    else
      s.signal(status);
    int_field(s, "si_utime", b.get<int64_t>(32), Meaning::time);
    int_field(s, "si_stime", b.get<int64_t>(40), Meaning::time);
    s.end_struct(false);
    return true;
  }
  if (!named_constant(s, "si_code", ctx.arch, static_cast<uint32_t>(code), code)) s.signed_integer(code, Meaning::none);
  int_field(s, "si_pid", b.get<int32_t>(16), Meaning::pid);
  uint_field(s, "si_uid", b.get<uint32_t>(20), Meaning::id);
  s.end_struct(false);
  return true;
}

bool describe_clone_args(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  if (b.size() < 64) return false;
  s.begin_struct();
  flags_field(s, "flags", "unshare_flags", ctx.arch, b.get<uint64_t>(0));
  if (auto pidfd = b.get<uint64_t>(8)) hex_field(s, "pidfd", pidfd, Meaning::address);
  if (auto child_tid = b.get<uint64_t>(16)) hex_field(s, "child_tid", child_tid, Meaning::address);
  if (auto parent_tid = b.get<uint64_t>(24)) hex_field(s, "parent_tid", parent_tid, Meaning::address);
  s.field("exit_signal");
  s.signal(static_cast<int64_t>(b.get<uint64_t>(32)));
  hex_field(s, "stack", b.get<uint64_t>(40));
  hex_field(s, "stack_size", b.get<uint64_t>(48));
  if (auto tls = b.get<uint64_t>(56)) hex_field(s, "tls", tls, Meaning::address);
  s.end_struct(false);
  return true;
}

bool describe_open_how(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  if (b.size() < 24) return false;
  s.begin_struct();
  flags_field(s, "flags", "open_flags", ctx.arch, b.get<uint64_t>(0));
  s.field("mode");
  s.mode(b.get<uint64_t>(8));
  flags_field(s, "resolve", "resolve_flags", ctx.arch, b.get<uint64_t>(16));
  s.end_struct(false);
  return true;
}

bool describe_rlimit(ValueSink& s, std::string_view bytes, const StructContext&) {
  const Bytes b(bytes);
  if (b.size() < 16) return false;
  s.begin_struct();
  rlim_field(s, "rlim_cur", b.get<uint64_t>(0));
  rlim_field(s, "rlim_max", b.get<uint64_t>(8));
  s.end_struct(false);
  return true;
}

bool describe_fd_pair(ValueSink& s, std::string_view bytes, const StructContext&) {
  const Bytes b(bytes);
  if (b.size() < 8) return false;
  s.begin_array();
  s.signed_integer(b.get<int32_t>(0), Meaning::fd);
  s.signed_integer(b.get<int32_t>(4), Meaning::fd);
  s.end_array(false);
  return true;
}

bool describe_wait_status(ValueSink& s, std::string_view bytes, const StructContext&) {
  const Bytes b(bytes);
  if (b.size() < 4) return false;
  s.begin_array();
  s.wait_status(b.get<int32_t>(0));
  s.end_array(false);
  return true;
}

bool describe_rusage(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  if (b.size() < 32) return false;
  s.begin_struct();
  s.field("ru_utime");
  timeval_at(s, b, 0, ctx.arch);
  s.field("ru_stime");
  timeval_at(s, b, 16, ctx.arch);
  s.end_struct(true);
  return true;
}

bool describe_timespec(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  if (bytes.size() < 16) return false;
  timespec_at(s, Bytes(bytes), 0, ctx.arch);
  return true;
}

bool describe_timeval(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  if (bytes.size() < 16) return false;
  timeval_at(s, Bytes(bytes), 0, ctx.arch);
  return true;
}

template <void (*kTime)(ValueSink&, Bytes, size_t, format::Arch)>
bool describe_time_pair(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  if (bytes.size() < 32) return false;
  s.begin_array();
  kTime(s, Bytes(bytes), 0, ctx.arch);
  kTime(s, Bytes(bytes), 16, ctx.arch);
  s.end_array(false);
  return true;
}

template <void (*kTime)(ValueSink&, Bytes, size_t, format::Arch)>
bool describe_itimer(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  if (bytes.size() < 32) return false;
  s.begin_struct();
  s.field("it_interval");
  kTime(s, Bytes(bytes), 0, ctx.arch);
  s.field("it_value");
  kTime(s, Bytes(bytes), 16, ctx.arch);
  s.end_struct(false);
  return true;
}

bool describe_timezone(ValueSink& s, std::string_view bytes, const StructContext&) {
  const Bytes b(bytes);
  if (b.size() < 8) return false;
  s.begin_struct();
  int_field(s, "tz_minuteswest", b.get<int32_t>(0));
  int_field(s, "tz_dsttime", b.get<int32_t>(4));
  s.end_struct(false);
  return true;
}

bool describe_utimbuf(ValueSink& s, std::string_view bytes, const StructContext&) {
  const Bytes b(bytes);
  if (b.size() < 16) return false;
  s.begin_struct();
  int_field(s, "actime", b.get<int64_t>(0), Meaning::time);
  int_field(s, "modtime", b.get<int64_t>(8), Meaning::time);
  s.end_struct(false);
  return true;
}

bool describe_tms(ValueSink& s, std::string_view bytes, const StructContext&) {
  const Bytes b(bytes);
  if (b.size() < 32) return false;
  s.begin_struct();
  int_field(s, "tms_utime", b.get<int64_t>(0), Meaning::time);
  int_field(s, "tms_stime", b.get<int64_t>(8), Meaning::time);
  int_field(s, "tms_cutime", b.get<int64_t>(16), Meaning::time);
  int_field(s, "tms_cstime", b.get<int64_t>(24), Meaning::time);
  s.end_struct(false);
  return true;
}

bool describe_sigset(ValueSink& s, std::string_view bytes, const StructContext&) {
  if (bytes.size() < 8) return false;
  s.signal_set(Bytes(bytes).get<uint64_t>(0));
  return true;
}

bool describe_stack_t(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  if (b.size() < 24) return false;
  s.begin_struct();
  hex_field(s, "ss_sp", b.get<uint64_t>(0), Meaning::address);
  const int32_t flags = b.get<int32_t>(8);
  s.field("ss_flags");
  if (flags == 0)
    s.signed_integer(0, Meaning::none);
  else if (!named_constant(s, "ss_flags", ctx.arch, static_cast<uint32_t>(flags), flags))
    s.hex_integer(static_cast<uint32_t>(flags), Meaning::none);
  uint_field(s, "ss_size", b.get<uint64_t>(16));
  s.end_struct(false);
  return true;
}

bool describe_sched_param(ValueSink& s, std::string_view bytes, const StructContext&) {
  if (bytes.size() < 4) return false;
  s.begin_struct();
  int_field(s, "sched_priority", Bytes(bytes).get<int32_t>(0));
  s.end_struct(false);
  return true;
}

bool describe_mount_attr(ValueSink& s, std::string_view bytes, const StructContext&) {
  const Bytes b(bytes);
  if (b.size() < 32) return false;
  s.begin_struct();
  hex_field(s, "attr_set", b.get<uint64_t>(0));
  hex_field(s, "attr_clr", b.get<uint64_t>(8));
  hex_field(s, "propagation", b.get<uint64_t>(16));
  uint_field(s, "userns_fd", b.get<uint64_t>(24), Meaning::fd);
  s.end_struct(false);
  return true;
}

bool describe_xattr_args(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  if (b.size() < 16) return false;
  s.begin_struct();
  hex_field(s, "value", b.get<uint64_t>(0), Meaning::address);
  uint_field(s, "size", b.get<uint32_t>(8));
  flags_field(s, "flags", "xattr_flags", ctx.arch, b.get<uint32_t>(12));
  s.end_struct(false);
  return true;
}

// Types that are also array elements: each describes exactly one element.
size_t pollfd_size(format::Arch) { return 8; }
bool describe_pollfd(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  if (b.size() < 8) return false;
  s.begin_struct();
  int_field(s, "fd", b.get<int32_t>(0), Meaning::fd);
  flags_field(s, "events", "poll_events", ctx.arch, b.get<uint16_t>(4));
  if (const uint16_t revents = b.get<uint16_t>(6)) flags_field(s, "revents", "poll_events", ctx.arch, revents);
  s.end_struct(false);
  return true;
}

// x86_64 packs the structure (data at offset 4); aarch64 aligns it (offset 8).
size_t epoll_event_size(format::Arch arch) { return arch == format::Arch::aarch64 ? 16 : 12; }
bool describe_epoll_event(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const size_t size = epoll_event_size(ctx.arch);
  if (b.size() < size) return false;
  const uint64_t data = b.get<uint64_t>(size == 12 ? 4 : 8);
  s.begin_struct();
  flags_field(s, "events", "epoll_events", ctx.arch, b.get<uint32_t>(0));
  s.field("data");
  s.begin_struct();
  uint_field(s, "u32", static_cast<uint32_t>(data));
  uint_field(s, "u64", data);
  s.end_struct(false);
  s.end_struct(false);
  return true;
}

size_t pair_of_words_size(format::Arch) { return 16; }
bool describe_iovec(ValueSink& s, std::string_view bytes, const StructContext&) {
  const Bytes b(bytes);
  if (b.size() < 16) return false;
  s.begin_struct();
  hex_field(s, "iov_base", b.get<uint64_t>(0), Meaning::address);
  uint_field(s, "iov_len", b.get<uint64_t>(8));
  s.end_struct(false);
  return true;
}

size_t id_size(format::Arch) { return 4; }
// One uid or gid: alone, strace shows it as a list of one ([1000]).
bool describe_id_element(ValueSink& s, std::string_view bytes) {
  if (bytes.size() < 4) return false;
  s.unsigned_integer(Bytes(bytes).get<uint32_t>(0), Meaning::id);
  return true;
}
bool describe_id(ValueSink& s, std::string_view bytes, const StructContext&) {
  if (bytes.size() < 4) return false;
  s.begin_array();
  describe_id_element(s, bytes);
  s.end_array(false);
  return true;
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
    {"timespec", describe_timespec, pair_of_words_size},
    {"timeval", describe_timeval, pair_of_words_size},
    {"timespec_pair", describe_time_pair<timespec_at>, nullptr},
    {"timeval_pair", describe_time_pair<timeval_at>, nullptr},
    {"itimerspec", describe_itimer<timespec_at>, nullptr},
    {"itimerval", describe_itimer<timeval_at>, nullptr},
    {"timezone", describe_timezone, nullptr},
    {"utimbuf", describe_utimbuf, nullptr},
    {"tms", describe_tms, nullptr},
    {"sigset", describe_sigset, nullptr},
    {"stack_t", describe_stack_t, nullptr},
    {"sched_param", describe_sched_param, nullptr},
    {"mount_attr", describe_mount_attr, nullptr},
    {"xattr_args", describe_xattr_args, nullptr},
    {"pollfd", describe_pollfd, pollfd_size},
    {"epoll_event", describe_epoll_event, epoll_event_size},
    {"iovec", describe_iovec, pair_of_words_size},
    {"uid", describe_id, id_size},
    {"gid", describe_id, id_size},
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
  const bool ids = decoder.describe == describe_id;
  sink.begin_array();
  for (size_t i = 0; i < shown; ++i) {
    const auto element = bytes.substr(i * size, size);
    if (ids)
      describe_id_element(sink, element);
    else
      decoder.describe(sink, element, ctx);
  }
  sink.end_array(shown < count || truncated);
  return true;
}

void describe_dirents(ValueSink& s, std::string_view bytes, bool is64, bool truncated, const StructContext& ctx) {
  const Bytes b(bytes);
  s.begin_array();
  size_t off = 0;
  size_t shown = 0;
  bool cut = truncated;
  const size_t header = is64 ? 19 : 18;  // bytes before d_name
  while (off + header <= bytes.size()) {
    const uint16_t reclen = b.get<uint16_t>(off + 16);
    if (reclen < header || off + reclen > bytes.size()) {
      cut = true;  // a malformed or cut record ends the list
      break;
    }
    if (ctx.array_limit != 0 && shown == ctx.array_limit) {
      cut = true;
      break;
    }
    const uint8_t type = is64 ? b.get<uint8_t>(off + 18) : b.get<uint8_t>(off + reclen - 1);
    s.begin_struct();
    uint_field(s, "d_ino", b.get<uint64_t>(off));
    int_field(s, "d_off", b.get<int64_t>(off + 8));
    uint_field(s, "d_reclen", reclen);
    s.field("d_type");
    if (!named_constant(s, "dirent_type", ctx.arch, type, type)) s.unsigned_integer(type, Meaning::none);
    s.field("d_name");
    s.string({b.cstr(off + header, reclen - header), ctx.string_limit});
    s.end_struct(false);
    ++shown;
    off += reclen;
  }
  if (off < bytes.size()) cut = true;
  s.end_array(cut);
}

void describe_sockaddr(ValueSink& s, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  s.begin_struct();
  if (bytes.size() < 2) {
    s.end_struct(false);
    return;
  }
  const uint16_t family = b.get<uint16_t>(0);
  flags_field(s, "sa_family", "socket_domain", ctx.arch, family);
  if (family == uapi::kAfUnix) {
    if (bytes.size() > 2) {
      auto path = bytes.substr(2);
      s.field("sun_path");
      if (path[0] == '\0')  // abstract: the name is every byte after the NUL, NULs included
        s.string({path.substr(1), ctx.string_limit, false, StringForm::abstract});
      else
        s.string({b.cstr(2, bytes.size() - 2), ctx.string_limit});
    }
  } else if (family == uapi::kAfInet && bytes.size() >= 8) {
    s.field("sin_port");
    s.network_integer(ntohs(b.get<uint16_t>(2)), 2);
    s.field("sin_addr");
    s.ip_address(static_cast<int>(uapi::kAfInet), bytes.substr(4, 4));
  } else if (family == uapi::kAfInet6 && bytes.size() >= 24) {
    s.field("sin6_port");
    s.network_integer(ntohs(b.get<uint16_t>(2)), 2);
    s.field("sin6_flowinfo");
    s.network_integer(ntohl(b.get<uint32_t>(4)), 4);
    s.field("sin6_addr");
    s.ip_address(static_cast<int>(uapi::kAfInet6), bytes.substr(8, 16));
    if (bytes.size() >= 28) uint_field(s, "sin6_scope_id", b.get<uint32_t>(24));
  } else if (family == uapi::kAfNetlink && bytes.size() >= 12) {
    uint_field(s, "nl_pid", b.get<uint32_t>(4), Meaning::pid);
    hex_field(s, "nl_groups", b.get<uint32_t>(8), Meaning::hex_word);
  } else if (bytes.size() > 2) {
    s.field("sa_data");
    s.string({bytes.substr(2), ctx.string_limit});
  }
  s.end_struct(false);
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
