// Structure layouts from the Linux UAPI headers, for x86_64 and aarch64 (both
// little endian, LP64). Offsets are written out rather than taken from host
// headers: the trace's architecture decides, not the reader's.

#include "tools/lib/decoder/struct_decode.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>

#include "tools/lib/decoder/decode.h"
#include "tools/lib/decoder/flag_sets.h"

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

template <typename... Args>
void put(std::string& out, fmt::format_string<Args...> format, Args&&... args) {
  fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
}

void append_hex_ptr(std::string& out, uint64_t v) {
  if (v == 0)
    out.append("NULL");
  else
    put(out, "{:#x}", v);
}

void append_dev(std::string& out, uint64_t major, uint64_t minor) {
  put(out, "makedev({:#x}, {:#x})", major, minor);
}

// Linux's new_encode_dev layout of a 64-bit dev_t.
void append_dev(std::string& out, uint64_t dev) {
  const uint64_t major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~uint64_t{0xfff});
  const uint64_t minor = (dev & 0xff) | ((dev >> 12) & ~uint64_t{0xff});
  append_dev(out, major, minor);
}

void append_timespec(std::string& out, int64_t sec, int64_t nsec) {
  put(out, "{{tv_sec={}, tv_nsec=", sec);
  if (nsec == 1073741823)
    out.append("UTIME_NOW");
  else if (nsec == 1073741822)
    out.append("UTIME_OMIT");
  else
    put(out, "{}", nsec);
  out.push_back('}');
}
void append_timeval(std::string& out, int64_t sec, int64_t usec) {
  put(out, "{{tv_sec={}, tv_usec={}}}", sec, usec);
}

void append_rlim(std::string& out, uint64_t v) {
  if (v == ~uint64_t{0})
    out.append("RLIM64_INFINITY");
  else if (v != 0 && v % 1024 == 0)
    put(out, "{}*1024", v / 1024);
  else
    put(out, "{}", v);
}

bool decode_stat(std::string& out, Bytes b, const StructContext& ctx) {
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
  out.append("{st_mode=");
  append_mode(out, mode);
  const uint32_t type = mode & 0170000;
  if (type == 0020000 || type == 0060000) {
    out.append(", st_rdev=");
    append_dev(out, rdev);
  } else {
    put(out, ", st_size={}", size);
  }
  out.append(", ...}");
  return true;
}

bool decode_statx(std::string& out, Bytes b) {
  if (b.size() < 256) return false;
  out.append("{stx_mask=");
  append_flags(out, "statx_mask", format::Arch::x86_64, b.get<uint32_t>(0));
  const uint64_t attributes = b.get<uint64_t>(8);
  out.append(", stx_attributes=");
  append_flags(out, "statx_attributes", format::Arch::x86_64, attributes);
  out.append(", stx_mode=");
  append_mode(out, b.get<uint16_t>(28));
  const uint32_t type = b.get<uint16_t>(28) & 0170000;
  if (type == 0020000 || type == 0060000) {
    out.append(", stx_rdev=");
    append_dev(out, b.get<uint32_t>(128), b.get<uint32_t>(132));
  } else {
    put(out, ", stx_size={}", b.get<uint64_t>(40));
  }
  out.append(", ...}");
  return true;
}

std::string_view fs_magic_name(uint64_t magic) {
  switch (magic) {
    case 0xEF53: return "EXT2_SUPER_MAGIC";
    case 0x01021994: return "TMPFS_MAGIC";
    case 0x9fa0: return "PROC_SUPER_MAGIC";
    case 0x62656572: return "SYSFS_MAGIC";
    case 0x794c7630: return "OVERLAYFS_SUPER_MAGIC";
    case 0x63677270: return "CGROUP2_SUPER_MAGIC";
    case 0x27e0eb: return "CGROUP_SUPER_MAGIC";
    case 0x58465342: return "XFS_SUPER_MAGIC";
    case 0x9123683E: return "BTRFS_SUPER_MAGIC";
    case 0x6969: return "NFS_SUPER_MAGIC";
    case 0x1cd1: return "DEVPTS_SUPER_MAGIC";
    case 0x73717368: return "SQUASHFS_MAGIC";
    case 0x858458f6: return "RAMFS_MAGIC";
    case 0x64626720: return "DEBUGFS_MAGIC";
    case 0x74726163: return "TRACEFS_MAGIC";
    case 0xcafe4a11: return "BPF_FS_MAGIC";
    default: return {};
  }
}

bool decode_statfs(std::string& out, Bytes b) {
  if (b.size() < 120) return false;
  const uint64_t type = b.get<uint64_t>(0);
  out.append("{f_type=");
  if (auto name = fs_magic_name(type); !name.empty())
    out.append(name);
  else
    put(out, "{:#x}", type);
  put(out, ", f_bsize={}, f_blocks={}, f_bfree={}, f_bavail={}, f_files={}, f_ffree={}, ", b.get<int64_t>(8),
      b.get<uint64_t>(16), b.get<uint64_t>(24), b.get<uint64_t>(32), b.get<uint64_t>(40), b.get<uint64_t>(48));
  put(out, "f_fsid={{val=[{:#x}, {:#x}]}}, f_namelen={}, f_frsize={}, f_flags={:#x}}}",
      b.get<uint32_t>(56), b.get<uint32_t>(60), b.get<int64_t>(64), b.get<int64_t>(72), b.get<uint64_t>(80));
  return true;
}

bool decode_utsname(std::string& out, Bytes b, const StructContext& ctx) {
  if (b.size() < 130) return false;
  out.append("{sysname=");
  append_quoted(out, b.cstr(0, 65), ctx.string_limit, false);
  out.append(", nodename=");
  append_quoted(out, b.cstr(65, 65), ctx.string_limit, false);
  out.append(", ...}");
  return true;
}

bool decode_sysinfo(std::string& out, Bytes b) {
  if (b.size() < 112) return false;
  put(out, "{{uptime={}, loads=[{}, {}, {}], totalram={}, freeram={}, sharedram={}, bufferram={}, ",
      b.get<int64_t>(0), b.get<uint64_t>(8), b.get<uint64_t>(16), b.get<uint64_t>(24), b.get<uint64_t>(32),
      b.get<uint64_t>(40), b.get<uint64_t>(48), b.get<uint64_t>(56));
  put(out, "totalswap={}, freeswap={}, procs={}, totalhigh={}, freehigh={}, mem_unit={}}}", b.get<uint64_t>(64),
      b.get<uint64_t>(72), b.get<uint16_t>(80), b.get<uint64_t>(88), b.get<uint64_t>(96), b.get<uint32_t>(104));
  return true;
}

bool decode_sigaction(std::string& out, Bytes b, const StructContext& ctx) {
  if (b.size() < 32) return false;
  const uint64_t handler = b.get<uint64_t>(0);
  const uint64_t flags = b.get<uint64_t>(8);
  out.append("{sa_handler=");
  if (handler == 0)
    out.append("SIG_DFL");
  else if (handler == 1)
    out.append("SIG_IGN");
  else
    put(out, "{:#x}", handler);
  out.append(", sa_mask=");
  append_sigset(out, b.get<uint64_t>(24));
  out.append(", sa_flags=");
  append_flags(out, "sa_flags", ctx.arch, flags);
  if (flags & 0x04000000) {
    out.append(", sa_restorer=");
    append_hex_ptr(out, b.get<uint64_t>(16));
  }
  out.push_back('}');
  return true;
}

void decode_siginfo(std::string& out, Bytes b) {
  const int32_t signo = b.get<int32_t>(0);
  const int32_t code = b.get<int32_t>(8);
  out.append("{si_signo=");
  append_signal(out, signo);
  out.append(", si_code=");
  if (signo == 17) {  // SIGCHLD
    static constexpr std::string_view kCld[] = {"", "CLD_EXITED", "CLD_KILLED", "CLD_DUMPED",
                                                "CLD_TRAPPED", "CLD_STOPPED", "CLD_CONTINUED"};
    if (code >= 1 && code <= 6)
      out.append(kCld[code]);
    else
      put(out, "{}", code);
    put(out, ", si_pid={}, si_uid={}, si_status=", b.get<int32_t>(16), b.get<uint32_t>(20));
    const int32_t status = b.get<int32_t>(24);
    if (code == 1)
      put(out, "{}", status);
    else
      append_signal(out, status);
    put(out, ", si_utime={}, si_stime={}}}", b.get<int64_t>(32), b.get<int64_t>(40));
    return;
  }
  if (code == 0)
    out.append("SI_USER");
  else if (code == -6)
    out.append("SI_TKILL");
  else
    put(out, "{}", code);
  put(out, ", si_pid={}, si_uid={}}}", b.get<int32_t>(16), b.get<uint32_t>(20));
}

bool decode_clone_args(std::string& out, Bytes b, const StructContext& ctx) {
  if (b.size() < 64) return false;
  out.append("{flags=");
  append_flags(out, "unshare_flags", ctx.arch, b.get<uint64_t>(0));
  if (auto pidfd = b.get<uint64_t>(8)) put(out, ", pidfd={:#x}", pidfd);
  if (auto child_tid = b.get<uint64_t>(16)) put(out, ", child_tid={:#x}", child_tid);
  if (auto parent_tid = b.get<uint64_t>(24)) put(out, ", parent_tid={:#x}", parent_tid);
  out.append(", exit_signal=");
  const uint64_t sig = b.get<uint64_t>(32);
  if (sig == 0)
    out.push_back('0');
  else
    append_signal(out, static_cast<int64_t>(sig));
  put(out, ", stack={:#x}, stack_size={:#x}", b.get<uint64_t>(40), b.get<uint64_t>(48));
  if (auto tls = b.get<uint64_t>(56)) put(out, ", tls={:#x}", tls);
  out.push_back('}');
  return true;
}

bool decode_open_how(std::string& out, Bytes b, const StructContext& ctx) {
  if (b.size() < 24) return false;
  static constexpr FlagName kResolve[] = {{1, "RESOLVE_NO_XDEV"}, {2, "RESOLVE_NO_MAGICLINKS"},
                                          {4, "RESOLVE_NO_SYMLINKS"}, {8, "RESOLVE_BENEATH"},
                                          {0x10, "RESOLVE_IN_ROOT"}, {0x20, "RESOLVE_CACHED"}};
  FlagSet resolve_set;
  resolve_set.name = "resolve";
  resolve_set.bits = kResolve;
  resolve_set.zero_name = "0";
  out.append("{flags=");
  append_flags(out, "open_flags", ctx.arch, b.get<uint64_t>(0));
  out.append(", mode=");
  append_mode(out, b.get<uint64_t>(8));
  out.append(", resolve=");
  append_flags(out, resolve_set, b.get<uint64_t>(16));
  out.push_back('}');
  return true;
}

void append_pollfd(std::string& out, Bytes b, size_t off) {
  put(out, "{{fd={}, events=", b.get<int32_t>(off));
  append_flags(out, "poll_events", format::Arch::x86_64, b.get<uint16_t>(off + 4));
  if (const uint16_t revents = b.get<uint16_t>(off + 6)) {
    out.append(", revents=");
    append_flags(out, "poll_events", format::Arch::x86_64, revents);
  }
  out.push_back('}');
}

void append_epoll_event(std::string& out, Bytes b, size_t off, size_t size) {
  // x86_64 packs the structure (data at offset 4); aarch64 aligns it (offset 8).
  const size_t data_off = size == 12 ? 4 : 8;
  const uint64_t data = b.get<uint64_t>(off + data_off);
  out.append("{events=");
  append_flags(out, "epoll_events", format::Arch::x86_64, b.get<uint32_t>(off));
  put(out, ", data={{u32={}, u64={}}}}}", static_cast<uint32_t>(data), data);
}

// Structures that also appear as array elements.
bool append_element(std::string& out, std::string_view type, Bytes b, size_t off, size_t size) {
  if (type == "pollfd") {
    append_pollfd(out, b, off);
  } else if (type == "epoll_event") {
    append_epoll_event(out, b, off, size);
  } else if (type == "iovec") {
    out.append("{iov_base=");
    append_hex_ptr(out, b.get<uint64_t>(off));
    put(out, ", iov_len={}}}", b.get<uint64_t>(off + 8));
  } else if (type == "uid" || type == "gid") {
    put(out, "{}", b.get<uint32_t>(off));
  } else if (type == "timespec") {
    append_timespec(out, b.get<int64_t>(off), b.get<int64_t>(off + 8));
  } else if (type == "timeval") {
    append_timeval(out, b.get<int64_t>(off), b.get<int64_t>(off + 8));
  } else {
    return false;
  }
  return true;
}

size_t element_size(std::string_view type, format::Arch arch) {
  if (type == "pollfd") return 8;
  if (type == "epoll_event") return arch == format::Arch::aarch64 ? 16 : 12;
  if (type == "iovec" || type == "timespec" || type == "timeval") return 16;
  if (type == "uid" || type == "gid") return 4;
  return 0;
}

std::string_view dirent_type_name(uint8_t t) {
  switch (t) {
    case 0: return "DT_UNKNOWN";
    case 1: return "DT_FIFO";
    case 2: return "DT_CHR";
    case 4: return "DT_DIR";
    case 6: return "DT_BLK";
    case 8: return "DT_REG";
    case 10: return "DT_LNK";
    case 12: return "DT_SOCK";
    case 14: return "DT_WHT";
    default: return {};
  }
}

}  // namespace

void append_wait_status(std::string& out, int status) {
  const int low = status & 0x7f;
  if (low == 0) {
    put(out, "{{WIFEXITED(s) && WEXITSTATUS(s) == {}}}", (status >> 8) & 0xff);
  } else if (low == 0x7f) {
    out.append("{WIFSTOPPED(s) && WSTOPSIG(s) == ");
    append_signal(out, (status >> 8) & 0xff);
    out.push_back('}');
  } else if (status == 0xffff) {
    out.append("{WIFCONTINUED(s)}");
  } else {
    out.append("{WIFSIGNALED(s) && WTERMSIG(s) == ");
    append_signal(out, low);
    if (status & 0x80) out.append(" && WCOREDUMP(s)");
    out.push_back('}');
  }
}

bool append_struct(std::string& out, std::string_view type, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  const size_t n = bytes.size();
  if (type == "stat") return decode_stat(out, b, ctx);
  if (type == "statx") return decode_statx(out, b);
  if (type == "statfs") return decode_statfs(out, b);
  if (type == "utsname") return decode_utsname(out, b, ctx);
  if (type == "sysinfo") return decode_sysinfo(out, b);
  if (type == "sigaction") return decode_sigaction(out, b, ctx);
  if (type == "clone_args") return decode_clone_args(out, b, ctx);
  if (type == "open_how") return decode_open_how(out, b, ctx);
  if (type == "rlimit") {
    if (n < 16) return false;
    out.append("{rlim_cur=");
    append_rlim(out, b.get<uint64_t>(0));
    out.append(", rlim_max=");
    append_rlim(out, b.get<uint64_t>(8));
    out.push_back('}');
    return true;
  }
  if (type == "fd_pair") {
    if (n < 8) return false;
    put(out, "[{}, {}]", b.get<int32_t>(0), b.get<int32_t>(4));
    return true;
  }
  if (type == "wait_status") {
    if (n < 4) return false;
    out.push_back('[');
    append_wait_status(out, b.get<int32_t>(0));
    out.push_back(']');
    return true;
  }
  if (type == "rusage") {
    if (n < 32) return false;
    out.append("{ru_utime=");
    append_timeval(out, b.get<int64_t>(0), b.get<int64_t>(8));
    out.append(", ru_stime=");
    append_timeval(out, b.get<int64_t>(16), b.get<int64_t>(24));
    out.append(", ...}");
    return true;
  }
  if (type == "siginfo") {
    if (n < 48) return false;
    decode_siginfo(out, b);
    return true;
  }
  if (type == "timespec") {
    if (n < 16) return false;
    append_timespec(out, b.get<int64_t>(0), b.get<int64_t>(8));
    return true;
  }
  if (type == "timeval") {
    if (n < 16) return false;
    append_timeval(out, b.get<int64_t>(0), b.get<int64_t>(8));
    return true;
  }
  if (type == "timespec_pair" || type == "timeval_pair") {
    if (n < 32) return false;
    const bool ts = type == "timespec_pair";
    out.push_back('[');
    for (size_t i = 0; i < 2; ++i) {
      if (i) out.append(", ");
      if (ts)
        append_timespec(out, b.get<int64_t>(i * 16), b.get<int64_t>(i * 16 + 8));
      else
        append_timeval(out, b.get<int64_t>(i * 16), b.get<int64_t>(i * 16 + 8));
    }
    out.push_back(']');
    return true;
  }
  if (type == "itimerval" || type == "itimerspec") {
    if (n < 32) return false;
    const bool ts = type == "itimerspec";
    out.append("{it_interval=");
    if (ts)
      append_timespec(out, b.get<int64_t>(0), b.get<int64_t>(8));
    else
      append_timeval(out, b.get<int64_t>(0), b.get<int64_t>(8));
    out.append(", it_value=");
    if (ts)
      append_timespec(out, b.get<int64_t>(16), b.get<int64_t>(24));
    else
      append_timeval(out, b.get<int64_t>(16), b.get<int64_t>(24));
    out.push_back('}');
    return true;
  }
  if (type == "timezone") {
    if (n < 8) return false;
    put(out, "{{tz_minuteswest={}, tz_dsttime={}}}", b.get<int32_t>(0), b.get<int32_t>(4));
    return true;
  }
  if (type == "utimbuf") {
    if (n < 16) return false;
    put(out, "{{actime={}, modtime={}}}", b.get<int64_t>(0), b.get<int64_t>(8));
    return true;
  }
  if (type == "tms") {
    if (n < 32) return false;
    put(out, "{{tms_utime={}, tms_stime={}, tms_cutime={}, tms_cstime={}}}", b.get<int64_t>(0),
        b.get<int64_t>(8), b.get<int64_t>(16), b.get<int64_t>(24));
    return true;
  }
  if (type == "sigset") {
    if (n < 8) return false;
    append_sigset(out, b.get<uint64_t>(0));
    return true;
  }
  if (type == "stack_t") {
    if (n < 24) return false;
    out.append("{ss_sp=");
    append_hex_ptr(out, b.get<uint64_t>(0));
    const int32_t flags = b.get<int32_t>(8);
    out.append(", ss_flags=");
    if (flags == 0)
      out.push_back('0');
    else if (flags == 1)
      out.append("SS_ONSTACK");
    else if (flags == 2)
      out.append("SS_DISABLE");
    else
      put(out, "{:#x}", flags);
    put(out, ", ss_size={}}}", b.get<uint64_t>(16));
    return true;
  }
  if (type == "sched_param") {
    if (n < 4) return false;
    put(out, "{{sched_priority={}}}", b.get<int32_t>(0));
    return true;
  }
  if (type == "mount_attr") {
    if (n < 32) return false;
    put(out, "{{attr_set={:#x}, attr_clr={:#x}, propagation={:#x}, userns_fd={}}}", b.get<uint64_t>(0),
        b.get<uint64_t>(8), b.get<uint64_t>(16), b.get<uint64_t>(24));
    return true;
  }
  if (type == "xattr_args") {
    if (n < 16) return false;
    out.append("{value=");
    append_hex_ptr(out, b.get<uint64_t>(0));
    put(out, ", size={}, flags=", b.get<uint32_t>(8));
    append_flags(out, "xattr_flags", ctx.arch, b.get<uint32_t>(12));
    out.push_back('}');
    return true;
  }
  if (type == "uid" || type == "gid") {
    if (n < 4) return false;
    put(out, "[{}]", b.get<uint32_t>(0));
    return true;
  }
  if (type == "pollfd" || type == "epoll_event" || type == "iovec") {
    const size_t size = element_size(type, ctx.arch);
    if (n < size) return false;
    return append_element(out, type, b, 0, size);
  }
  return false;
}

bool append_struct_array(std::string& out, std::string_view type, size_t size, size_t count,
                         std::string_view bytes, bool truncated, const StructContext& ctx) {
  if (size == 0) size = element_size(type, ctx.arch);
  if (size == 0 || element_size(type, ctx.arch) == 0) return false;
  const Bytes b(bytes);
  const size_t available = bytes.size() / size;
  const size_t shown_max = ctx.array_limit == 0 ? available : std::min(available, ctx.array_limit);
  const size_t shown = std::min(count, shown_max);
  out.push_back('[');
  for (size_t i = 0; i < shown; ++i) {
    if (i) out.append(", ");
    append_element(out, type, b, i * size, size);
  }
  if (shown < count || truncated) out.append(shown ? ", ..." : "...");
  out.push_back(']');
  return true;
}

void append_dirents(std::string& out, std::string_view bytes, bool is64, bool truncated, const StructContext& ctx) {
  const Bytes b(bytes);
  out.push_back('[');
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
    if (shown) out.append(", ");
    const uint8_t type = is64 ? b.get<uint8_t>(off + 18) : b.get<uint8_t>(off + reclen - 1);
    put(out, "{{d_ino={}, d_off={}, d_reclen={}, d_type=", b.get<uint64_t>(off), b.get<int64_t>(off + 8), reclen);
    if (auto name = dirent_type_name(type); !name.empty())
      out.append(name);
    else
      put(out, "{}", type);
    out.append(", d_name=");
    append_quoted(out, b.cstr(off + header, reclen - header), ctx.string_limit, false);
    out.push_back('}');
    ++shown;
    off += reclen;
  }
  if (off < bytes.size()) cut = true;
  if (cut) out.append(shown ? ", ..." : "...");
  out.push_back(']');
}

void append_sockaddr(std::string& out, std::string_view bytes, const StructContext& ctx) {
  const Bytes b(bytes);
  if (bytes.size() < 2) {
    out.append("{}");
    return;
  }
  const uint16_t family = b.get<uint16_t>(0);
  out.append("{sa_family=");
  append_flags(out, "socket_domain", ctx.arch, family);
  if (family == 1) {  // AF_UNIX
    if (bytes.size() > 2) {
      auto path = bytes.substr(2);
      out.append(", sun_path=");
      if (path[0] == '\0') {
        // Abstract socket: the name is every byte after the NUL, NULs included.
        out.push_back('@');
        append_quoted(out, path.substr(1), ctx.string_limit, false);
      } else {
        append_quoted(out, b.cstr(2, bytes.size() - 2), ctx.string_limit, false);
      }
    }
  } else if (family == 2 && bytes.size() >= 8) {  // AF_INET
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, bytes.data() + 4, text, sizeof text);
    put(out, ", sin_port=htons({}), sin_addr=inet_addr(\"{}\")", ntohs(b.get<uint16_t>(2)), text);
  } else if (family == 10 && bytes.size() >= 24) {  // AF_INET6
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, bytes.data() + 8, text, sizeof text);
    put(out, ", sin6_port=htons({}), sin6_flowinfo=htonl({}), inet_pton(AF_INET6, \"{}\", &sin6_addr)",
        ntohs(b.get<uint16_t>(2)), ntohl(b.get<uint32_t>(4)), text);
    if (bytes.size() >= 28) put(out, ", sin6_scope_id={}", b.get<uint32_t>(24));
  } else if (family == 16 && bytes.size() >= 12) {  // AF_NETLINK
    put(out, ", nl_pid={}, nl_groups={:08x}", b.get<uint32_t>(4), b.get<uint32_t>(8));
  } else if (bytes.size() > 2) {
    out.append(", sa_data=");
    append_quoted(out, bytes.substr(2), ctx.string_limit, false);
  }
  out.push_back('}');
}

}  // namespace traceloop::tools
