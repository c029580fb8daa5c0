// Linux errno names and messages (identical on x86_64 and aarch64), plus the
// kernel-internal ones (512..530) a syscall can leak to user space.
// Generated once from Python's errno/os.strerror (glibc messages) and the
// kernel's include/linux/errno.h; numbers are ABI, they do not change.

#include <algorithm>
#include <array>
#include <string_view>

#include "tools/lib/decode.h"

namespace traceloop::tools {
namespace {

struct ErrnoEntry {
  int number;
  std::string_view name;
  std::string_view message;
};

constexpr std::array kErrnos = {
    ErrnoEntry{1, "EPERM", "Operation not permitted"},
    ErrnoEntry{2, "ENOENT", "No such file or directory"},
    ErrnoEntry{3, "ESRCH", "No such process"},
    ErrnoEntry{4, "EINTR", "Interrupted system call"},
    ErrnoEntry{5, "EIO", "Input/output error"},
    ErrnoEntry{6, "ENXIO", "No such device or address"},
    ErrnoEntry{7, "E2BIG", "Argument list too long"},
    ErrnoEntry{8, "ENOEXEC", "Exec format error"},
    ErrnoEntry{9, "EBADF", "Bad file descriptor"},
    ErrnoEntry{10, "ECHILD", "No child processes"},
    ErrnoEntry{11, "EAGAIN", "Resource temporarily unavailable"},
    ErrnoEntry{12, "ENOMEM", "Cannot allocate memory"},
    ErrnoEntry{13, "EACCES", "Permission denied"},
    ErrnoEntry{14, "EFAULT", "Bad address"},
    ErrnoEntry{15, "ENOTBLK", "Block device required"},
    ErrnoEntry{16, "EBUSY", "Device or resource busy"},
    ErrnoEntry{17, "EEXIST", "File exists"},
    ErrnoEntry{18, "EXDEV", "Invalid cross-device link"},
    ErrnoEntry{19, "ENODEV", "No such device"},
    ErrnoEntry{20, "ENOTDIR", "Not a directory"},
    ErrnoEntry{21, "EISDIR", "Is a directory"},
    ErrnoEntry{22, "EINVAL", "Invalid argument"},
    ErrnoEntry{23, "ENFILE", "Too many open files in system"},
    ErrnoEntry{24, "EMFILE", "Too many open files"},
    ErrnoEntry{25, "ENOTTY", "Inappropriate ioctl for device"},
    ErrnoEntry{26, "ETXTBSY", "Text file busy"},
    ErrnoEntry{27, "EFBIG", "File too large"},
    ErrnoEntry{28, "ENOSPC", "No space left on device"},
    ErrnoEntry{29, "ESPIPE", "Illegal seek"},
    ErrnoEntry{30, "EROFS", "Read-only file system"},
    ErrnoEntry{31, "EMLINK", "Too many links"},
    ErrnoEntry{32, "EPIPE", "Broken pipe"},
    ErrnoEntry{33, "EDOM", "Numerical argument out of domain"},
    ErrnoEntry{34, "ERANGE", "Numerical result out of range"},
    ErrnoEntry{35, "EDEADLK", "Resource deadlock avoided"},
    ErrnoEntry{36, "ENAMETOOLONG", "File name too long"},
    ErrnoEntry{37, "ENOLCK", "No locks available"},
    ErrnoEntry{38, "ENOSYS", "Function not implemented"},
    ErrnoEntry{39, "ENOTEMPTY", "Directory not empty"},
    ErrnoEntry{40, "ELOOP", "Too many levels of symbolic links"},
    ErrnoEntry{42, "ENOMSG", "No message of desired type"},
    ErrnoEntry{43, "EIDRM", "Identifier removed"},
    ErrnoEntry{44, "ECHRNG", "Channel number out of range"},
    ErrnoEntry{45, "EL2NSYNC", "Level 2 not synchronized"},
    ErrnoEntry{46, "EL3HLT", "Level 3 halted"},
    ErrnoEntry{47, "EL3RST", "Level 3 reset"},
    ErrnoEntry{48, "ELNRNG", "Link number out of range"},
    ErrnoEntry{49, "EUNATCH", "Protocol driver not attached"},
    ErrnoEntry{50, "ENOCSI", "No CSI structure available"},
    ErrnoEntry{51, "EL2HLT", "Level 2 halted"},
    ErrnoEntry{52, "EBADE", "Invalid exchange"},
    ErrnoEntry{53, "EBADR", "Invalid request descriptor"},
    ErrnoEntry{54, "EXFULL", "Exchange full"},
    ErrnoEntry{55, "ENOANO", "No anode"},
    ErrnoEntry{56, "EBADRQC", "Invalid request code"},
    ErrnoEntry{57, "EBADSLT", "Invalid slot"},
    ErrnoEntry{59, "EBFONT", "Bad font file format"},
    ErrnoEntry{60, "ENOSTR", "Device not a stream"},
    ErrnoEntry{61, "ENODATA", "No data available"},
    ErrnoEntry{62, "ETIME", "Timer expired"},
    ErrnoEntry{63, "ENOSR", "Out of streams resources"},
    ErrnoEntry{64, "ENONET", "Machine is not on the network"},
    ErrnoEntry{65, "ENOPKG", "Package not installed"},
    ErrnoEntry{66, "EREMOTE", "Object is remote"},
    ErrnoEntry{67, "ENOLINK", "Link has been severed"},
    ErrnoEntry{68, "EADV", "Advertise error"},
    ErrnoEntry{69, "ESRMNT", "Srmount error"},
    ErrnoEntry{70, "ECOMM", "Communication error on send"},
    ErrnoEntry{71, "EPROTO", "Protocol error"},
    ErrnoEntry{72, "EMULTIHOP", "Multihop attempted"},
    ErrnoEntry{73, "EDOTDOT", "RFS specific error"},
    ErrnoEntry{74, "EBADMSG", "Bad message"},
    ErrnoEntry{75, "EOVERFLOW", "Value too large for defined data type"},
    ErrnoEntry{76, "ENOTUNIQ", "Name not unique on network"},
    ErrnoEntry{77, "EBADFD", "File descriptor in bad state"},
    ErrnoEntry{78, "EREMCHG", "Remote address changed"},
    ErrnoEntry{79, "ELIBACC", "Can not access a needed shared library"},
    ErrnoEntry{80, "ELIBBAD", "Accessing a corrupted shared library"},
    ErrnoEntry{81, "ELIBSCN", ".lib section in a.out corrupted"},
    ErrnoEntry{82, "ELIBMAX", "Attempting to link in too many shared libraries"},
    ErrnoEntry{83, "ELIBEXEC", "Cannot exec a shared library directly"},
    ErrnoEntry{84, "EILSEQ", "Invalid or incomplete multibyte or wide character"},
    ErrnoEntry{85, "ERESTART", "Interrupted system call should be restarted"},
    ErrnoEntry{86, "ESTRPIPE", "Streams pipe error"},
    ErrnoEntry{87, "EUSERS", "Too many users"},
    ErrnoEntry{88, "ENOTSOCK", "Socket operation on non-socket"},
    ErrnoEntry{89, "EDESTADDRREQ", "Destination address required"},
    ErrnoEntry{90, "EMSGSIZE", "Message too long"},
    ErrnoEntry{91, "EPROTOTYPE", "Protocol wrong type for socket"},
    ErrnoEntry{92, "ENOPROTOOPT", "Protocol not available"},
    ErrnoEntry{93, "EPROTONOSUPPORT", "Protocol not supported"},
    ErrnoEntry{94, "ESOCKTNOSUPPORT", "Socket type not supported"},
    ErrnoEntry{95, "EOPNOTSUPP", "Operation not supported"},
    ErrnoEntry{96, "EPFNOSUPPORT", "Protocol family not supported"},
    ErrnoEntry{97, "EAFNOSUPPORT", "Address family not supported by protocol"},
    ErrnoEntry{98, "EADDRINUSE", "Address already in use"},
    ErrnoEntry{99, "EADDRNOTAVAIL", "Cannot assign requested address"},
    ErrnoEntry{100, "ENETDOWN", "Network is down"},
    ErrnoEntry{101, "ENETUNREACH", "Network is unreachable"},
    ErrnoEntry{102, "ENETRESET", "Network dropped connection on reset"},
    ErrnoEntry{103, "ECONNABORTED", "Software caused connection abort"},
    ErrnoEntry{104, "ECONNRESET", "Connection reset by peer"},
    ErrnoEntry{105, "ENOBUFS", "No buffer space available"},
    ErrnoEntry{106, "EISCONN", "Transport endpoint is already connected"},
    ErrnoEntry{107, "ENOTCONN", "Transport endpoint is not connected"},
    ErrnoEntry{108, "ESHUTDOWN", "Cannot send after transport endpoint shutdown"},
    ErrnoEntry{109, "ETOOMANYREFS", "Too many references: cannot splice"},
    ErrnoEntry{110, "ETIMEDOUT", "Connection timed out"},
    ErrnoEntry{111, "ECONNREFUSED", "Connection refused"},
    ErrnoEntry{112, "EHOSTDOWN", "Host is down"},
    ErrnoEntry{113, "EHOSTUNREACH", "No route to host"},
    ErrnoEntry{114, "EALREADY", "Operation already in progress"},
    ErrnoEntry{115, "EINPROGRESS", "Operation now in progress"},
    ErrnoEntry{116, "ESTALE", "Stale file handle"},
    ErrnoEntry{117, "EUCLEAN", "Structure needs cleaning"},
    ErrnoEntry{118, "ENOTNAM", "Not a XENIX named type file"},
    ErrnoEntry{119, "ENAVAIL", "No XENIX semaphores available"},
    ErrnoEntry{120, "EISNAM", "Is a named type file"},
    ErrnoEntry{121, "EREMOTEIO", "Remote I/O error"},
    ErrnoEntry{122, "EDQUOT", "Disk quota exceeded"},
    ErrnoEntry{123, "ENOMEDIUM", "No medium found"},
    ErrnoEntry{124, "EMEDIUMTYPE", "Wrong medium type"},
    ErrnoEntry{125, "ECANCELED", "Operation canceled"},
    ErrnoEntry{126, "ENOKEY", "Required key not available"},
    ErrnoEntry{127, "EKEYEXPIRED", "Key has expired"},
    ErrnoEntry{128, "EKEYREVOKED", "Key has been revoked"},
    ErrnoEntry{129, "EKEYREJECTED", "Key was rejected by service"},
    ErrnoEntry{130, "EOWNERDEAD", "Owner died"},
    ErrnoEntry{131, "ENOTRECOVERABLE", "State not recoverable"},
    ErrnoEntry{132, "ERFKILL", "Operation not possible due to RF-kill"},
    ErrnoEntry{133, "EHWPOISON", "Memory page has hardware error"},
    ErrnoEntry{512, "ERESTARTSYS", "To be restarted if SA_RESTART is set"},
    ErrnoEntry{513, "ERESTARTNOINTR", "To be restarted"},
    ErrnoEntry{514, "ERESTARTNOHAND", "To be restarted if no handler"},
    ErrnoEntry{515, "ENOIOCTLCMD", "No ioctl command"},
    ErrnoEntry{516, "ERESTART_RESTARTBLOCK", "Interrupted by signal"},
    ErrnoEntry{517, "EPROBE_DEFER", "Requested probe deferral"},
    ErrnoEntry{518, "EOPENSTALE", "Open found a stale dentry"},
    ErrnoEntry{519, "ENOPARAM", "Parameter not supported"},
    ErrnoEntry{521, "EBADHANDLE", "Illegal NFS file handle"},
    ErrnoEntry{522, "ENOTSYNC", "Update synchronization mismatch"},
    ErrnoEntry{523, "EBADCOOKIE", "Cookie is stale"},
    ErrnoEntry{524, "ENOTSUPP", "Operation is not supported"},
    ErrnoEntry{525, "ETOOSMALL", "Buffer or request is too small"},
    ErrnoEntry{526, "ESERVERFAULT", "An untranslatable error occurred"},
    ErrnoEntry{527, "EBADTYPE", "Type not supported by server"},
    ErrnoEntry{528, "EJUKEBOX", "Request initiated, but will not complete before timeout"},
    ErrnoEntry{529, "EIOCBQUEUED", "iocb queued, will get completion event"},
    ErrnoEntry{530, "ERECALLCONFLICT", "Conflict with recalled state"},
};

const ErrnoEntry* find_errno(int err) {
  // kErrnos is sorted by number.
  const auto* it = std::lower_bound(kErrnos.begin(), kErrnos.end(), err,
                                    [](const ErrnoEntry& e, int n) { return e.number < n; });
  return it != kErrnos.end() && it->number == err ? &*it : nullptr;
}

}  // namespace

std::string_view errno_name(int err) {
  const auto* e = find_errno(err);
  return e ? e->name : std::string_view{};
}

std::string_view errno_message(int err) {
  const auto* e = find_errno(err);
  return e ? e->message : std::string_view{};
}

int errno_from_name(std::string_view name) {
  for (const auto& e : kErrnos)
    if (e.name == name) return e.number;
  return 0;
}

}  // namespace traceloop::tools
