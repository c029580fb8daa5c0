// Flag and enum tables from the Linux UAPI headers. Only open flags differ
// between x86_64 and aarch64 among these sets (O_DIRECT, O_LARGEFILE,
// O_DIRECTORY, O_NOFOLLOW); everything else is the generic ABI.

#include "tools/lib/flag_sets.h"

#include <fmt/format.h>

#include <array>
#include <iterator>

namespace traceloop::tools {
namespace {

using F = FlagName;

// ---- open ------------------------------------------------------------------
constexpr F kAccessModes[] = {{0, "O_RDONLY"}, {1, "O_WRONLY"}, {2, "O_RDWR"}};
// Order as strace prints them; O_SYNC and O_TMPFILE contain other bits, so they come first.
constexpr F kOpenBitsX86[] = {
    {0100, "O_CREAT"},         {0200, "O_EXCL"},         {0400, "O_NOCTTY"},   {01000, "O_TRUNC"},
    {02000, "O_APPEND"},       {04000, "O_NONBLOCK"},    {04010000, "O_SYNC"}, {010000, "O_DSYNC"},
    {020000, "O_ASYNC"},       {040000, "O_DIRECT"},     {0100000, "O_LARGEFILE"},
    {0400000, "O_NOFOLLOW"},   {01000000, "O_NOATIME"},  {02000000, "O_CLOEXEC"},
    {010000000, "O_PATH"},     {020200000, "O_TMPFILE"}, {0200000, "O_DIRECTORY"},
};
constexpr F kOpenBitsArm64[] = {
    {0100, "O_CREAT"},         {0200, "O_EXCL"},         {0400, "O_NOCTTY"},   {01000, "O_TRUNC"},
    {02000, "O_APPEND"},       {04000, "O_NONBLOCK"},    {04010000, "O_SYNC"}, {010000, "O_DSYNC"},
    {020000, "O_ASYNC"},       {0200000, "O_DIRECT"},    {0400000, "O_LARGEFILE"},
    {0100000, "O_NOFOLLOW"},   {01000000, "O_NOATIME"},  {02000000, "O_CLOEXEC"},
    {010000000, "O_PATH"},     {020040000, "O_TMPFILE"}, {040000, "O_DIRECTORY"},
};
constexpr F kFdFlags[] = {{1, "FD_CLOEXEC"}};

// ---- *at -------------------------------------------------------------------
constexpr F kAtFlags[] = {
    {0x100, "AT_SYMLINK_NOFOLLOW"}, {0x200, "AT_REMOVEDIR"},       {0x400, "AT_SYMLINK_FOLLOW"},
    {0x800, "AT_NO_AUTOMOUNT"},     {0x1000, "AT_EMPTY_PATH"},     {0x2000, "AT_STATX_FORCE_SYNC"},
    {0x4000, "AT_STATX_DONT_SYNC"}, {0x8000, "AT_RECURSIVE"},
};
constexpr F kAtEaccess[] = {{0x200, "AT_EACCESS"}, {0x100, "AT_SYMLINK_NOFOLLOW"}, {0x1000, "AT_EMPTY_PATH"}};
constexpr F kStatxMask[] = {
    {0xfff, "STATX_ALL"},         {0x7ff, "STATX_BASIC_STATS"}, {0x1, "STATX_TYPE"},       {0x2, "STATX_MODE"},     {0x4, "STATX_NLINK"},
    {0x8, "STATX_UID"},           {0x10, "STATX_GID"},       {0x20, "STATX_ATIME"},   {0x40, "STATX_MTIME"},
    {0x80, "STATX_CTIME"},        {0x100, "STATX_INO"},      {0x200, "STATX_SIZE"},   {0x400, "STATX_BLOCKS"},
    {0x800, "STATX_BTIME"},       {0x1000, "STATX_MNT_ID"},  {0x2000, "STATX_DIOALIGN"},
    {0x4000, "STATX_MNT_ID_UNIQUE"}, {0x8000, "STATX_SUBVOL"}, {0x10000, "STATX_WRITE_ATOMIC"},
    {0x20000, "STATX_DIO_READ_ALIGN"},
};
constexpr F kStatxAttributes[] = {
    {0x4, "STATX_ATTR_COMPRESSED"}, {0x10, "STATX_ATTR_IMMUTABLE"}, {0x20, "STATX_ATTR_APPEND"},
    {0x40, "STATX_ATTR_NODUMP"},    {0x800, "STATX_ATTR_ENCRYPTED"}, {0x1000, "STATX_ATTR_AUTOMOUNT"},
    {0x2000, "STATX_ATTR_MOUNT_ROOT"}, {0x100000, "STATX_ATTR_VERITY"}, {0x200000, "STATX_ATTR_DAX"},
    {0x400000, "STATX_ATTR_WRITE_ATOMIC"},
};
constexpr F kRenameFlags[] = {{1, "RENAME_NOREPLACE"}, {2, "RENAME_EXCHANGE"}, {4, "RENAME_WHITEOUT"}};
constexpr F kAccessMode[] = {{4, "R_OK"}, {2, "W_OK"}, {1, "X_OK"}};
constexpr F kXattrFlags[] = {{1, "XATTR_CREATE"}, {2, "XATTR_REPLACE"}};
constexpr F kUmountFlags[] = {{1, "MNT_FORCE"}, {2, "MNT_DETACH"}, {4, "MNT_EXPIRE"}, {8, "UMOUNT_NOFOLLOW"}};
constexpr F kFlockOps[] = {{1, "LOCK_SH"}, {2, "LOCK_EX"}, {4, "LOCK_NB"}, {8, "LOCK_UN"}};
constexpr F kSeekWhence[] = {{0, "SEEK_SET"}, {1, "SEEK_CUR"}, {2, "SEEK_END"}, {3, "SEEK_DATA"}, {4, "SEEK_HOLE"}};
constexpr F kMemfdFlags[] = {{1, "MFD_CLOEXEC"}, {2, "MFD_ALLOW_SEALING"}, {4, "MFD_HUGETLB"},
                             {8, "MFD_NOEXEC_SEAL"}, {0x10, "MFD_EXEC"}};
constexpr F kMountFlags[] = {
    {1, "MS_RDONLY"},       {2, "MS_NOSUID"},      {4, "MS_NODEV"},         {8, "MS_NOEXEC"},
    {16, "MS_SYNCHRONOUS"}, {32, "MS_REMOUNT"},    {64, "MS_MANDLOCK"},     {128, "MS_DIRSYNC"},
    {256, "MS_NOSYMFOLLOW"}, {1024, "MS_NOATIME"}, {2048, "MS_NODIRATIME"}, {4096, "MS_BIND"},
    {8192, "MS_MOVE"},      {16384, "MS_REC"},     {32768, "MS_SILENT"},    {1 << 16, "MS_POSIXACL"},
    {1 << 17, "MS_UNBINDABLE"}, {1 << 18, "MS_PRIVATE"}, {1 << 19, "MS_SLAVE"}, {1 << 20, "MS_SHARED"},
    {1 << 21, "MS_RELATIME"}, {1 << 22, "MS_KERNMOUNT"}, {1 << 23, "MS_I_VERSION"},
    {1 << 24, "MS_STRICTATIME"}, {1 << 25, "MS_LAZYTIME"},
};

// ---- memory ----------------------------------------------------------------
constexpr F kMmapProt[] = {{1, "PROT_READ"}, {2, "PROT_WRITE"}, {4, "PROT_EXEC"}, {8, "PROT_SEM"},
                           {0x01000000, "PROT_GROWSDOWN"}, {0x02000000, "PROT_GROWSUP"}};
constexpr F kMmapProtArm64[] = {{1, "PROT_READ"},  {2, "PROT_WRITE"}, {4, "PROT_EXEC"},
                                {8, "PROT_SEM"},   {0x10, "PROT_BTI"}, {0x20, "PROT_MTE"},
                                {0x01000000, "PROT_GROWSDOWN"}, {0x02000000, "PROT_GROWSUP"}};
constexpr F kMapTypes[] = {{1, "MAP_SHARED"}, {2, "MAP_PRIVATE"}, {3, "MAP_SHARED_VALIDATE"}};
constexpr F kMapBits[] = {
    {0x10, "MAP_FIXED"},         {0x20, "MAP_ANONYMOUS"},     {0x40, "MAP_32BIT"},
    {0x100, "MAP_GROWSDOWN"},    {0x800, "MAP_DENYWRITE"},    {0x1000, "MAP_EXECUTABLE"},
    {0x2000, "MAP_LOCKED"},      {0x4000, "MAP_NORESERVE"},   {0x8000, "MAP_POPULATE"},
    {0x10000, "MAP_NONBLOCK"},   {0x20000, "MAP_STACK"},      {0x40000, "MAP_HUGETLB"},
    {0x80000, "MAP_SYNC"},       {0x100000, "MAP_FIXED_NOREPLACE"}, {0x4000000, "MAP_UNINITIALIZED"},
};
constexpr F kMapBitsArm64[] = {
    {0x10, "MAP_FIXED"},         {0x20, "MAP_ANONYMOUS"},
    {0x100, "MAP_GROWSDOWN"},    {0x800, "MAP_DENYWRITE"},    {0x1000, "MAP_EXECUTABLE"},
    {0x2000, "MAP_LOCKED"},      {0x4000, "MAP_NORESERVE"},   {0x8000, "MAP_POPULATE"},
    {0x10000, "MAP_NONBLOCK"},   {0x20000, "MAP_STACK"},      {0x40000, "MAP_HUGETLB"},
    {0x80000, "MAP_SYNC"},       {0x100000, "MAP_FIXED_NOREPLACE"}, {0x4000000, "MAP_UNINITIALIZED"},
};
constexpr F kMremapFlags[] = {{1, "MREMAP_MAYMOVE"}, {2, "MREMAP_FIXED"}, {4, "MREMAP_DONTUNMAP"}};
constexpr F kMsyncFlags[] = {{1, "MS_ASYNC"}, {2, "MS_INVALIDATE"}, {4, "MS_SYNC"}};
constexpr F kMadvise[] = {
    {0, "MADV_NORMAL"},      {1, "MADV_RANDOM"},        {2, "MADV_SEQUENTIAL"},     {3, "MADV_WILLNEED"},
    {4, "MADV_DONTNEED"},    {8, "MADV_FREE"},          {9, "MADV_REMOVE"},         {10, "MADV_DONTFORK"},
    {11, "MADV_DOFORK"},     {12, "MADV_MERGEABLE"},    {13, "MADV_UNMERGEABLE"},   {14, "MADV_HUGEPAGE"},
    {15, "MADV_NOHUGEPAGE"}, {16, "MADV_DONTDUMP"},     {17, "MADV_DODUMP"},        {18, "MADV_WIPEONFORK"},
    {19, "MADV_KEEPONFORK"}, {20, "MADV_COLD"},         {21, "MADV_PAGEOUT"},       {22, "MADV_POPULATE_READ"},
    {23, "MADV_POPULATE_WRITE"}, {24, "MADV_DONTNEED_LOCKED"}, {25, "MADV_COLLAPSE"},
    {100, "MADV_HWPOISON"},  {101, "MADV_SOFT_OFFLINE"}, {102, "MADV_GUARD_INSTALL"}, {103, "MADV_GUARD_REMOVE"},
};

// ---- processes -------------------------------------------------------------
constexpr F kCloneFlags[] = {
    {0x100, "CLONE_VM"},          {0x200, "CLONE_FS"},            {0x400, "CLONE_FILES"},
    {0x800, "CLONE_SIGHAND"},     {0x1000, "CLONE_PIDFD"},        {0x2000, "CLONE_PTRACE"},
    {0x4000, "CLONE_VFORK"},      {0x8000, "CLONE_PARENT"},       {0x10000, "CLONE_THREAD"},
    {0x20000, "CLONE_NEWNS"},     {0x40000, "CLONE_SYSVSEM"},     {0x80000, "CLONE_SETTLS"},
    {0x100000, "CLONE_PARENT_SETTID"}, {0x200000, "CLONE_CHILD_CLEARTID"}, {0x400000, "CLONE_DETACHED"},
    {0x800000, "CLONE_UNTRACED"}, {0x1000000, "CLONE_CHILD_SETTID"}, {0x2000000, "CLONE_NEWCGROUP"},
    {0x4000000, "CLONE_NEWUTS"},  {0x8000000, "CLONE_NEWIPC"},    {0x10000000, "CLONE_NEWUSER"},
    {0x20000000, "CLONE_NEWPID"}, {0x40000000, "CLONE_NEWNET"},   {0x80000000, "CLONE_IO"},
    {0x100000000, "CLONE_CLEAR_SIGHAND"}, {0x200000000, "CLONE_INTO_CGROUP"}, {0x80, "CLONE_NEWTIME"},
};
constexpr F kWaitOptions[] = {
    {1, "WNOHANG"}, {2, "WSTOPPED"}, {4, "WEXITED"}, {8, "WCONTINUED"}, {0x1000000, "WNOWAIT"},
    {0x20000000, "__WNOTHREAD"}, {0x40000000, "__WALL"}, {0x80000000, "__WCLONE"},
};
constexpr F kWaitIdType[] = {{0, "P_ALL"}, {1, "P_PID"}, {2, "P_PGID"}, {3, "P_PIDFD"}};
constexpr F kPrctl[] = {
    {1, "PR_SET_PDEATHSIG"},  {2, "PR_GET_PDEATHSIG"},  {3, "PR_GET_DUMPABLE"},   {4, "PR_SET_DUMPABLE"},
    {5, "PR_GET_UNALIGN"},    {6, "PR_SET_UNALIGN"},    {7, "PR_GET_KEEPCAPS"},   {8, "PR_SET_KEEPCAPS"},
    {9, "PR_GET_FPEMU"},      {10, "PR_SET_FPEMU"},     {11, "PR_GET_FPEXC"},     {12, "PR_SET_FPEXC"},
    {13, "PR_GET_TIMING"},    {14, "PR_SET_TIMING"},    {15, "PR_SET_NAME"},      {16, "PR_GET_NAME"},
    {19, "PR_GET_ENDIAN"},    {20, "PR_SET_ENDIAN"},    {21, "PR_GET_SECCOMP"},   {22, "PR_SET_SECCOMP"},
    {23, "PR_CAPBSET_READ"},  {24, "PR_CAPBSET_DROP"},  {25, "PR_GET_TSC"},       {26, "PR_SET_TSC"},
    {27, "PR_GET_SECUREBITS"}, {28, "PR_SET_SECUREBITS"}, {29, "PR_SET_TIMERSLACK"}, {30, "PR_GET_TIMERSLACK"},
    {31, "PR_TASK_PERF_EVENTS_DISABLE"}, {32, "PR_TASK_PERF_EVENTS_ENABLE"}, {33, "PR_MCE_KILL"},
    {34, "PR_MCE_KILL_GET"},  {35, "PR_SET_MM"},        {36, "PR_SET_CHILD_SUBREAPER"},
    {37, "PR_GET_CHILD_SUBREAPER"}, {38, "PR_SET_NO_NEW_PRIVS"}, {39, "PR_GET_NO_NEW_PRIVS"},
    {40, "PR_GET_TID_ADDRESS"}, {41, "PR_SET_THP_DISABLE"}, {42, "PR_GET_THP_DISABLE"},
    {45, "PR_SET_FP_MODE"},   {46, "PR_GET_FP_MODE"},   {47, "PR_CAP_AMBIENT"},   {50, "PR_SVE_SET_VL"},
    {51, "PR_SVE_GET_VL"},    {52, "PR_GET_SPECULATION_CTRL"}, {53, "PR_SET_SPECULATION_CTRL"},
    {54, "PR_PAC_RESET_KEYS"}, {55, "PR_SET_TAGGED_ADDR_CTRL"}, {56, "PR_GET_TAGGED_ADDR_CTRL"},
    {57, "PR_SET_IO_FLUSHER"}, {58, "PR_GET_IO_FLUSHER"}, {59, "PR_SET_SYSCALL_USER_DISPATCH"},
    {60, "PR_PAC_SET_ENABLED_KEYS"}, {61, "PR_PAC_GET_ENABLED_KEYS"}, {62, "PR_SCHED_CORE"},
    {63, "PR_SME_SET_VL"},    {64, "PR_SME_GET_VL"},    {65, "PR_SET_MDWE"},      {66, "PR_GET_MDWE"},
    {67, "PR_SET_MEMORY_MERGE"}, {68, "PR_GET_MEMORY_MERGE"}, {0x53564d41, "PR_SET_VMA"},
};
constexpr F kArchPrctl[] = {
    {0x1001, "ARCH_SET_GS"},  {0x1002, "ARCH_SET_FS"},  {0x1003, "ARCH_GET_FS"},  {0x1004, "ARCH_GET_GS"},
    {0x1011, "ARCH_GET_CPUID"}, {0x1012, "ARCH_SET_CPUID"}, {0x1021, "ARCH_GET_XCOMP_SUPP"},
    {0x1022, "ARCH_GET_XCOMP_PERM"}, {0x1023, "ARCH_REQ_XCOMP_PERM"}, {0x1024, "ARCH_GET_XCOMP_GUEST_PERM"},
    {0x1025, "ARCH_REQ_XCOMP_GUEST_PERM"}, {0x2001, "ARCH_MAP_VDSO_X32"}, {0x2002, "ARCH_MAP_VDSO_32"},
    {0x2003, "ARCH_MAP_VDSO_64"}, {0x4001, "ARCH_GET_UNTAG_MASK"}, {0x4002, "ARCH_ENABLE_TAGGED_ADDR"},
    {0x4003, "ARCH_GET_MAX_TAG_BITS"}, {0x4004, "ARCH_FORCE_TAGGED_SVA"}, {0x5001, "ARCH_SHSTK_ENABLE"},
    {0x5002, "ARCH_SHSTK_DISABLE"}, {0x5003, "ARCH_SHSTK_LOCK"}, {0x5004, "ARCH_SHSTK_UNLOCK"},
    {0x5005, "ARCH_SHSTK_STATUS"},
};
constexpr F kRlimit[] = {
    {0, "RLIMIT_CPU"},   {1, "RLIMIT_FSIZE"},  {2, "RLIMIT_DATA"},   {3, "RLIMIT_STACK"},
    {4, "RLIMIT_CORE"},  {5, "RLIMIT_RSS"},    {6, "RLIMIT_NPROC"},  {7, "RLIMIT_NOFILE"},
    {8, "RLIMIT_MEMLOCK"}, {9, "RLIMIT_AS"},   {10, "RLIMIT_LOCKS"}, {11, "RLIMIT_SIGPENDING"},
    {12, "RLIMIT_MSGQUEUE"}, {13, "RLIMIT_NICE"}, {14, "RLIMIT_RTPRIO"}, {15, "RLIMIT_RTTIME"},
};
constexpr F kFutexCmds[] = {
    {0, "FUTEX_WAIT"},      {1, "FUTEX_WAKE"},         {2, "FUTEX_FD"},          {3, "FUTEX_REQUEUE"},
    {4, "FUTEX_CMP_REQUEUE"}, {5, "FUTEX_WAKE_OP"},     {6, "FUTEX_LOCK_PI"},     {7, "FUTEX_UNLOCK_PI"},
    {8, "FUTEX_TRYLOCK_PI"}, {9, "FUTEX_WAIT_BITSET"}, {10, "FUTEX_WAKE_BITSET"}, {11, "FUTEX_WAIT_REQUEUE_PI"},
    {12, "FUTEX_CMP_REQUEUE_PI"}, {13, "FUTEX_LOCK_PI2"},
};
constexpr F kFutexBits[] = {{256, "FUTEX_CLOCK_REALTIME"}};
constexpr F kMlockFlags[] = {{1, "MLOCK_ONFAULT"}};
constexpr F kMlockallFlags[] = {{1, "MCL_CURRENT"}, {2, "MCL_FUTURE"}, {4, "MCL_ONFAULT"}};
constexpr F kCloseRangeFlags[] = {{2, "CLOSE_RANGE_UNSHARE"}, {4, "CLOSE_RANGE_CLOEXEC"}};
constexpr F kFadvise[] = {{0, "POSIX_FADV_NORMAL"}, {1, "POSIX_FADV_RANDOM"}, {2, "POSIX_FADV_SEQUENTIAL"},
                          {3, "POSIX_FADV_WILLNEED"}, {4, "POSIX_FADV_DONTNEED"}, {5, "POSIX_FADV_NOREUSE"}};
constexpr F kSeccompOp[] = {{0, "SECCOMP_SET_MODE_STRICT"}, {1, "SECCOMP_SET_MODE_FILTER"},
                            {2, "SECCOMP_GET_ACTION_AVAIL"}, {3, "SECCOMP_GET_NOTIF_SIZES"}};
constexpr F kSyslogAction[] = {
    {0, "SYSLOG_ACTION_CLOSE"}, {1, "SYSLOG_ACTION_OPEN"}, {2, "SYSLOG_ACTION_READ"},
    {3, "SYSLOG_ACTION_READ_ALL"}, {4, "SYSLOG_ACTION_READ_CLEAR"}, {5, "SYSLOG_ACTION_CLEAR"},
    {6, "SYSLOG_ACTION_CONSOLE_OFF"}, {7, "SYSLOG_ACTION_CONSOLE_ON"}, {8, "SYSLOG_ACTION_CONSOLE_LEVEL"},
    {9, "SYSLOG_ACTION_SIZE_UNREAD"}, {10, "SYSLOG_ACTION_SIZE_BUFFER"},
};
constexpr F kSyncFileRange[] = {{1, "SYNC_FILE_RANGE_WAIT_BEFORE"}, {2, "SYNC_FILE_RANGE_WRITE"},
                                {4, "SYNC_FILE_RANGE_WAIT_AFTER"}};
constexpr F kRwfFlags[] = {{1, "RWF_HIPRI"}, {2, "RWF_DSYNC"}, {4, "RWF_SYNC"}, {8, "RWF_NOWAIT"},
                           {0x10, "RWF_APPEND"}, {0x20, "RWF_NOAPPEND"}, {0x40, "RWF_ATOMIC"}, {0x80, "RWF_DONTCACHE"}};
constexpr F kPtrace[] = {
    {0, "PTRACE_TRACEME"},  {1, "PTRACE_PEEKTEXT"}, {2, "PTRACE_PEEKDATA"}, {3, "PTRACE_PEEKUSER"},
    {4, "PTRACE_POKETEXT"}, {5, "PTRACE_POKEDATA"}, {6, "PTRACE_POKEUSER"}, {7, "PTRACE_CONT"},
    {8, "PTRACE_KILL"},     {9, "PTRACE_SINGLESTEP"}, {12, "PTRACE_GETREGS"}, {13, "PTRACE_SETREGS"},
    {16, "PTRACE_ATTACH"},  {17, "PTRACE_DETACH"},  {24, "PTRACE_SYSCALL"}, {0x4200, "PTRACE_SETOPTIONS"},
    {0x4201, "PTRACE_GETEVENTMSG"}, {0x4202, "PTRACE_GETSIGINFO"}, {0x4203, "PTRACE_SETSIGINFO"},
    {0x4204, "PTRACE_GETREGSET"}, {0x4205, "PTRACE_SETREGSET"}, {0x4206, "PTRACE_SEIZE"},
    {0x4207, "PTRACE_INTERRUPT"}, {0x4208, "PTRACE_LISTEN"}, {0x420e, "PTRACE_GET_SYSCALL_INFO"},
};
constexpr F kBpfCmd[] = {
    {0, "BPF_MAP_CREATE"}, {1, "BPF_MAP_LOOKUP_ELEM"}, {2, "BPF_MAP_UPDATE_ELEM"}, {3, "BPF_MAP_DELETE_ELEM"},
    {4, "BPF_MAP_GET_NEXT_KEY"}, {5, "BPF_PROG_LOAD"}, {6, "BPF_OBJ_PIN"}, {7, "BPF_OBJ_GET"},
    {8, "BPF_PROG_ATTACH"}, {9, "BPF_PROG_DETACH"}, {10, "BPF_PROG_TEST_RUN"}, {11, "BPF_PROG_GET_NEXT_ID"},
    {12, "BPF_MAP_GET_NEXT_ID"}, {13, "BPF_PROG_GET_FD_BY_ID"}, {14, "BPF_MAP_GET_FD_BY_ID"},
    {15, "BPF_OBJ_GET_INFO_BY_FD"}, {16, "BPF_PROG_QUERY"}, {17, "BPF_RAW_TRACEPOINT_OPEN"},
    {18, "BPF_BTF_LOAD"}, {19, "BPF_BTF_GET_FD_BY_ID"}, {20, "BPF_TASK_FD_QUERY"},
    {21, "BPF_MAP_LOOKUP_AND_DELETE_ELEM"}, {22, "BPF_MAP_FREEZE"}, {23, "BPF_BTF_GET_NEXT_ID"},
    {24, "BPF_MAP_LOOKUP_BATCH"}, {25, "BPF_MAP_LOOKUP_AND_DELETE_BATCH"}, {26, "BPF_MAP_UPDATE_BATCH"},
    {27, "BPF_MAP_DELETE_BATCH"}, {28, "BPF_LINK_CREATE"}, {29, "BPF_LINK_UPDATE"},
    {30, "BPF_LINK_GET_FD_BY_ID"}, {31, "BPF_LINK_GET_NEXT_ID"}, {32, "BPF_ENABLE_STATS"},
    {33, "BPF_ITER_CREATE"}, {34, "BPF_LINK_DETACH"}, {35, "BPF_PROG_BIND_MAP"}, {36, "BPF_TOKEN_CREATE"},
};
constexpr F kSchedPolicy[] = {{0, "SCHED_OTHER"}, {1, "SCHED_FIFO"}, {2, "SCHED_RR"},
                              {3, "SCHED_BATCH"}, {5, "SCHED_IDLE"}, {6, "SCHED_DEADLINE"}, {7, "SCHED_EXT"}};
constexpr F kWhichPrio[] = {{0, "PRIO_PROCESS"}, {1, "PRIO_PGRP"}, {2, "PRIO_USER"}};
constexpr F kRusageWho[] = {{0, "RUSAGE_SELF"}, {0xffffffff, "RUSAGE_CHILDREN"}, {1, "RUSAGE_THREAD"}};
constexpr F kItimerWhich[] = {{0, "ITIMER_REAL"}, {1, "ITIMER_VIRTUAL"}, {2, "ITIMER_PROF"}};

// ---- signals ---------------------------------------------------------------
constexpr F kSigprocmaskHow[] = {{0, "SIG_BLOCK"}, {1, "SIG_UNBLOCK"}, {2, "SIG_SETMASK"}};
constexpr F kSaFlags[] = {
    {1, "SA_NOCLDSTOP"}, {2, "SA_NOCLDWAIT"}, {4, "SA_SIGINFO"}, {0x400, "SA_UNSUPPORTED"},
    {0x800, "SA_EXPOSE_TAGBITS"}, {0x04000000, "SA_RESTORER"}, {0x08000000, "SA_ONSTACK"},
    {0x10000000, "SA_RESTART"}, {0x40000000, "SA_NODEFER"}, {0x80000000, "SA_RESETHAND"},
};
constexpr F kSignalfdFlags[] = {{04000, "SFD_NONBLOCK"}, {02000000, "SFD_CLOEXEC"}};

// ---- files, events ---------------------------------------------------------
constexpr F kFcntlCmd[] = {
    {0, "F_DUPFD"},       {1, "F_GETFD"},        {2, "F_SETFD"},         {3, "F_GETFL"},
    {4, "F_SETFL"},       {5, "F_GETLK"},        {6, "F_SETLK"},         {7, "F_SETLKW"},
    {8, "F_SETOWN"},      {9, "F_GETOWN"},       {10, "F_SETSIG"},       {11, "F_GETSIG"},
    {15, "F_SETOWN_EX"},  {16, "F_GETOWN_EX"},   {17, "F_GETOWNER_UIDS"}, {36, "F_OFD_GETLK"},
    {37, "F_OFD_SETLK"},  {38, "F_OFD_SETLKW"},  {1024, "F_SETLEASE"},   {1025, "F_GETLEASE"},
    {1026, "F_NOTIFY"},   {1027, "F_DUPFD_QUERY"}, {1028, "F_CREATED_QUERY"}, {1029, "F_CANCELLK"},
    {1030, "F_DUPFD_CLOEXEC"}, {1031, "F_SETPIPE_SZ"}, {1032, "F_GETPIPE_SZ"}, {1033, "F_ADD_SEALS"},
    {1034, "F_GET_SEALS"}, {1035, "F_GET_RW_HINT"}, {1036, "F_SET_RW_HINT"}, {1037, "F_GET_FILE_RW_HINT"},
    {1038, "F_SET_FILE_RW_HINT"},
};
constexpr F kIoctl[] = {
    {0x5401, "TCGETS"},     {0x5402, "TCSETS"},     {0x5403, "TCSETSW"},    {0x5404, "TCSETSF"},
    {0x5405, "TCGETA"},     {0x5406, "TCSETA"},     {0x5407, "TCSETAW"},    {0x5408, "TCSETAF"},
    {0x5409, "TCSBRK"},     {0x540A, "TCXONC"},     {0x540B, "TCFLSH"},     {0x540C, "TIOCEXCL"},
    {0x540D, "TIOCNXCL"},   {0x540E, "TIOCSCTTY"},  {0x540F, "TIOCGPGRP"},  {0x5410, "TIOCSPGRP"},
    {0x5411, "TIOCOUTQ"},   {0x5412, "TIOCSTI"},    {0x5413, "TIOCGWINSZ"}, {0x5414, "TIOCSWINSZ"},
    {0x5415, "TIOCMGET"},   {0x5416, "TIOCMBIS"},   {0x5417, "TIOCMBIC"},   {0x5418, "TIOCMSET"},
    {0x541B, "FIONREAD"},   {0x541C, "TIOCLINUX"},  {0x541D, "TIOCCONS"},   {0x5420, "TIOCPKT"},
    {0x5421, "FIONBIO"},    {0x5422, "TIOCNOTTY"},  {0x5423, "TIOCSETD"},   {0x5424, "TIOCGETD"},
    {0x5429, "TIOCGSID"},   {0x80045430, "TIOCGPTN"}, {0x40045431, "TIOCSPTLCK"}, {0x5441, "TIOCGPTPEER"},
    {0x5450, "FIONCLEX"},   {0x5451, "FIOCLEX"},    {0x5452, "FIOASYNC"},   {0x5460, "FIOQSIZE"},
    {0x80086601, "FS_IOC_GETFLAGS"}, {0x40086602, "FS_IOC_SETFLAGS"}, {0x80081272, "BLKGETSIZE64"},
    {0x1260, "BLKGETSIZE"}, {0x40049409, "FICLONE"},  {0x4020940d, "FICLONERANGE"}, {0x8912, "SIOCGIFCONF"},
    {0x8913, "SIOCGIFFLAGS"}, {0x8914, "SIOCSIFFLAGS"}, {0x8915, "SIOCGIFADDR"}, {0x8921, "SIOCGIFMTU"},
    {0x8927, "SIOCGIFHWADDR"}, {0x8933, "SIOCGIFINDEX"}, {0x8910, "SIOCGIFNAME"}, {0x894C, "SIOCGSKNS"},
    {0xc020660b, "FS_IOC_FIEMAP"}, {0x80047601, "FS_IOC_GETVERSION"},
};
constexpr F kEpollOp[] = {{1, "EPOLL_CTL_ADD"}, {2, "EPOLL_CTL_DEL"}, {3, "EPOLL_CTL_MOD"}};
constexpr F kEpollEvents[] = {
    {0x1, "EPOLLIN"},    {0x2, "EPOLLPRI"},    {0x4, "EPOLLOUT"},     {0x8, "EPOLLERR"},
    {0x10, "EPOLLHUP"},  {0x20, "EPOLLNVAL"},  {0x40, "EPOLLRDNORM"}, {0x80, "EPOLLRDBAND"},
    {0x100, "EPOLLWRNORM"}, {0x200, "EPOLLWRBAND"}, {0x400, "EPOLLMSG"}, {0x2000, "EPOLLRDHUP"},
    {1u << 27, "EPOLLURING_WAKE"}, {1u << 28, "EPOLLEXCLUSIVE"}, {1u << 29, "EPOLLWAKEUP"},
    {1u << 30, "EPOLLONESHOT"}, {1u << 31, "EPOLLET"},
};
constexpr F kPollEvents[] = {
    {0x1, "POLLIN"},     {0x2, "POLLPRI"},     {0x4, "POLLOUT"},      {0x8, "POLLERR"},
    {0x10, "POLLHUP"},   {0x20, "POLLNVAL"},   {0x40, "POLLRDNORM"},  {0x80, "POLLRDBAND"},
    {0x100, "POLLWRNORM"}, {0x200, "POLLWRBAND"}, {0x400, "POLLMSG"}, {0x1000, "POLLREMOVE"},
    {0x2000, "POLLRDHUP"},
};
constexpr F kCloexecNonblock[] = {{02000000, "O_CLOEXEC"}, {04000, "O_NONBLOCK"}};
constexpr F kEpollCreateFlags[] = {{02000000, "EPOLL_CLOEXEC"}};
constexpr F kEventfdFlags[] = {{1, "EFD_SEMAPHORE"}, {02000000, "EFD_CLOEXEC"}, {04000, "EFD_NONBLOCK"}};
constexpr F kTimerfdFlags[] = {{02000000, "TFD_CLOEXEC"}, {04000, "TFD_NONBLOCK"}};
constexpr F kTimerfdSettime[] = {{1, "TFD_TIMER_ABSTIME"}, {2, "TFD_TIMER_CANCEL_ON_SET"}};
constexpr F kInotifyInitFlags[] = {{02000000, "IN_CLOEXEC"}, {04000, "IN_NONBLOCK"}};
constexpr F kInotifyMask[] = {
    {0x1, "IN_ACCESS"},     {0x2, "IN_MODIFY"},     {0x4, "IN_ATTRIB"},       {0x8, "IN_CLOSE_WRITE"},
    {0x10, "IN_CLOSE_NOWRITE"}, {0x20, "IN_OPEN"},  {0x40, "IN_MOVED_FROM"},  {0x80, "IN_MOVED_TO"},
    {0x100, "IN_CREATE"},   {0x200, "IN_DELETE"},   {0x400, "IN_DELETE_SELF"}, {0x800, "IN_MOVE_SELF"},
    {0x2000, "IN_UNMOUNT"}, {0x4000, "IN_Q_OVERFLOW"}, {0x8000, "IN_IGNORED"}, {0x1000000, "IN_ONLYDIR"},
    {0x2000000, "IN_DONT_FOLLOW"}, {0x4000000, "IN_EXCL_UNLINK"}, {0x10000000, "IN_MASK_CREATE"},
    {0x20000000, "IN_MASK_ADD"}, {0x40000000, "IN_ISDIR"}, {0x80000000, "IN_ONESHOT"},
};
constexpr F kGetrandomFlags[] = {{1, "GRND_NONBLOCK"}, {2, "GRND_RANDOM"}, {4, "GRND_INSECURE"}};
constexpr F kClockIds[] = {
    {0, "CLOCK_REALTIME"},  {1, "CLOCK_MONOTONIC"},  {2, "CLOCK_PROCESS_CPUTIME_ID"},
    {3, "CLOCK_THREAD_CPUTIME_ID"}, {4, "CLOCK_MONOTONIC_RAW"}, {5, "CLOCK_REALTIME_COARSE"},
    {6, "CLOCK_MONOTONIC_COARSE"}, {7, "CLOCK_BOOTTIME"}, {8, "CLOCK_REALTIME_ALARM"},
    {9, "CLOCK_BOOTTIME_ALARM"}, {11, "CLOCK_TAI"},
};
constexpr F kTimerFlags[] = {{1, "TIMER_ABSTIME"}};
constexpr F kFalloc[] = {{1, "FALLOC_FL_KEEP_SIZE"}, {2, "FALLOC_FL_PUNCH_HOLE"}, {4, "FALLOC_FL_NO_HIDE_STALE"},
                         {8, "FALLOC_FL_COLLAPSE_RANGE"}, {0x10, "FALLOC_FL_ZERO_RANGE"},
                         {0x20, "FALLOC_FL_INSERT_RANGE"}, {0x40, "FALLOC_FL_UNSHARE_RANGE"}};
constexpr F kSpliceFlags[] = {{1, "SPLICE_F_MOVE"}, {2, "SPLICE_F_NONBLOCK"}, {4, "SPLICE_F_MORE"},
                              {8, "SPLICE_F_GIFT"}};
constexpr F kPersonality[] = {{0, "PER_LINUX"}, {0xffffffff, "0xffffffff"}};

// ---- sockets ---------------------------------------------------------------
constexpr F kSocketDomain[] = {
    {0, "AF_UNSPEC"},   {1, "AF_UNIX"},      {2, "AF_INET"},     {3, "AF_AX25"},     {4, "AF_IPX"},
    {5, "AF_APPLETALK"}, {6, "AF_NETROM"},   {7, "AF_BRIDGE"},   {8, "AF_ATMPVC"},   {9, "AF_X25"},
    {10, "AF_INET6"},   {11, "AF_ROSE"},     {12, "AF_DECnet"},  {13, "AF_NETBEUI"}, {14, "AF_SECURITY"},
    {15, "AF_KEY"},     {16, "AF_NETLINK"},  {17, "AF_PACKET"},  {18, "AF_ASH"},     {19, "AF_ECONET"},
    {20, "AF_ATMSVC"},  {21, "AF_RDS"},      {22, "AF_SNA"},     {23, "AF_IRDA"},    {24, "AF_PPPOX"},
    {25, "AF_WANPIPE"}, {26, "AF_LLC"},      {27, "AF_IB"},      {28, "AF_MPLS"},    {29, "AF_CAN"},
    {30, "AF_TIPC"},    {31, "AF_BLUETOOTH"}, {32, "AF_IUCV"},   {33, "AF_RXRPC"},   {34, "AF_ISDN"},
    {35, "AF_PHONET"},  {36, "AF_IEEE802154"}, {37, "AF_CAIF"},  {38, "AF_ALG"},     {39, "AF_NFC"},
    {40, "AF_VSOCK"},   {41, "AF_KCM"},      {42, "AF_QIPCRTR"}, {43, "AF_SMC"},     {44, "AF_XDP"},
    {45, "AF_MCTP"},
};
constexpr F kSocketTypes[] = {{1, "SOCK_STREAM"}, {2, "SOCK_DGRAM"}, {3, "SOCK_RAW"}, {4, "SOCK_RDM"},
                              {5, "SOCK_SEQPACKET"}, {6, "SOCK_DCCP"}, {10, "SOCK_PACKET"}};
constexpr F kSocketTypeBits[] = {{02000000, "SOCK_CLOEXEC"}, {04000, "SOCK_NONBLOCK"}};
constexpr F kIpProto[] = {
    {0, "IPPROTO_IP"},  {1, "IPPROTO_ICMP"}, {2, "IPPROTO_IGMP"}, {4, "IPPROTO_IPIP"}, {6, "IPPROTO_TCP"},
    {17, "IPPROTO_UDP"}, {41, "IPPROTO_IPV6"}, {47, "IPPROTO_GRE"}, {50, "IPPROTO_ESP"}, {51, "IPPROTO_AH"},
    {58, "IPPROTO_ICMPV6"}, {132, "IPPROTO_SCTP"}, {136, "IPPROTO_UDPLITE"}, {255, "IPPROTO_RAW"},
    {262, "IPPROTO_MPTCP"},
};
constexpr F kNetlinkProto[] = {
    {0, "NETLINK_ROUTE"}, {2, "NETLINK_USERSOCK"}, {4, "NETLINK_SOCK_DIAG"}, {5, "NETLINK_NFLOG"},
    {6, "NETLINK_XFRM"},  {7, "NETLINK_SELINUX"},  {8, "NETLINK_ISCSI"},     {9, "NETLINK_AUDIT"},
    {10, "NETLINK_FIB_LOOKUP"}, {11, "NETLINK_CONNECTOR"}, {12, "NETLINK_NETFILTER"}, {15, "NETLINK_KOBJECT_UEVENT"},
    {16, "NETLINK_GENERIC"}, {18, "NETLINK_SCSITRANSPORT"}, {19, "NETLINK_ECRYPTFS"}, {20, "NETLINK_RDMA"},
    {21, "NETLINK_CRYPTO"}, {22, "NETLINK_SMC"},
};
constexpr F kMsgFlags[] = {
    {0x1, "MSG_OOB"},        {0x2, "MSG_PEEK"},      {0x4, "MSG_DONTROUTE"},  {0x8, "MSG_CTRUNC"},
    {0x10, "MSG_PROXY"},     {0x20, "MSG_TRUNC"},    {0x40, "MSG_DONTWAIT"},  {0x80, "MSG_EOR"},
    {0x100, "MSG_WAITALL"},  {0x200, "MSG_FIN"},     {0x400, "MSG_SYN"},      {0x800, "MSG_CONFIRM"},
    {0x1000, "MSG_RST"},     {0x2000, "MSG_ERRQUEUE"}, {0x4000, "MSG_NOSIGNAL"}, {0x8000, "MSG_MORE"},
    {0x10000, "MSG_WAITFORONE"}, {0x40000, "MSG_BATCH"}, {0x4000000, "MSG_ZEROCOPY"},
    {0x20000000, "MSG_FASTOPEN"}, {0x40000000, "MSG_CMSG_CLOEXEC"},
};
constexpr F kShutdownHow[] = {{0, "SHUT_RD"}, {1, "SHUT_WR"}, {2, "SHUT_RDWR"}};
constexpr F kSockoptLevel[] = {{0, "SOL_IP"}, {1, "SOL_SOCKET"}, {6, "SOL_TCP"}, {17, "SOL_UDP"},
                               {41, "SOL_IPV6"}, {58, "SOL_ICMPV6"}, {255, "SOL_RAW"}, {263, "SOL_PACKET"},
                               {270, "SOL_NETLINK"}, {271, "SOL_TLS"}, {283, "SOL_MPTCP"}};
constexpr F kSockoptName[] = {
    {1, "SO_DEBUG"},     {2, "SO_REUSEADDR"}, {3, "SO_TYPE"},     {4, "SO_ERROR"},     {5, "SO_DONTROUTE"},
    {6, "SO_BROADCAST"}, {7, "SO_SNDBUF"},    {8, "SO_RCVBUF"},   {9, "SO_KEEPALIVE"}, {10, "SO_OOBINLINE"},
    {13, "SO_LINGER"},   {15, "SO_REUSEPORT"}, {16, "SO_PASSCRED"}, {17, "SO_PEERCRED"}, {18, "SO_RCVLOWAT"},
    {20, "SO_RCVTIMEO_OLD"}, {21, "SO_SNDTIMEO_OLD"}, {25, "SO_BINDTODEVICE"}, {26, "SO_ATTACH_FILTER"},
    {30, "SO_SNDBUFFORCE"}, {32, "SO_SNDBUFFORCE"}, {33, "SO_RCVBUFFORCE"}, {38, "SO_PROTOCOL"},
    {39, "SO_DOMAIN"},
};

constexpr FlagSet bits(std::string_view name, std::span<const FlagName> b, std::string_view zero) {
  FlagSet s;
  s.name = name;
  s.bits = b;
  s.zero_name = zero;
  return s;
}
constexpr FlagSet enums(std::string_view name, std::span<const FlagName> values, bool decimal) {
  FlagSet s;
  s.name = name;
  s.enum_mask = ~0ull;
  s.values = values;
  s.enum_in_decimal = decimal;
  return s;
}
constexpr FlagSet mixed(std::string_view name, uint64_t mask, std::span<const FlagName> values,
                        std::span<const FlagName> b, uint64_t suffix_bit = 0, std::string_view suffix = {}) {
  FlagSet s;
  s.name = name;
  s.enum_mask = mask;
  s.values = values;
  s.bits = b;
  s.enum_in_decimal = true;
  s.suffix_bit = suffix_bit;
  s.suffix = suffix;
  return s;
}
constexpr FlagSet with_signal(FlagSet s) {
  s.signal_in_low_byte = true;
  return s;
}

// Generic sets (identical on both architectures).
const FlagSet kCommonSets[] = {
    bits("at_flags", kAtFlags, "0"),
    bits("faccessat_flags", kAtEaccess, "0"),
    bits("statx_mask", kStatxMask, "0"),
    bits("statx_attributes", kStatxAttributes, "0"),
    bits("rename_flags", kRenameFlags, "0"),
    bits("access_mode", kAccessMode, "F_OK"),
    bits("xattr_flags", kXattrFlags, "0"),
    bits("umount_flags", kUmountFlags, "0"),
    bits("flock_op", kFlockOps, "0"),
    enums("seek_whence", kSeekWhence, true),
    bits("memfd_flags", kMemfdFlags, "0"),
    bits("mount_flags", kMountFlags, "0"),
    bits("fd_flags", kFdFlags, "0"),
    bits("mremap_flags", kMremapFlags, "0"),
    bits("msync_flags", kMsyncFlags, "0"),
    enums("madvise_advice", kMadvise, true),
    with_signal(bits("clone_flags", kCloneFlags, "0")),
    bits("unshare_flags", kCloneFlags, "0"),
    bits("wait_options", kWaitOptions, "0"),
    enums("idtype", kWaitIdType, true),
    mixed("futex_op", 0x7f, kFutexCmds, kFutexBits, 128, "_PRIVATE"),
    bits("mlock_flags", kMlockFlags, "0"),
    bits("mlockall_flags", kMlockallFlags, "0"),
    bits("close_range_flags", kCloseRangeFlags, "0"),
    enums("fadvise_advice", kFadvise, true),
    enums("seccomp_op", kSeccompOp, true),
    enums("syslog_action", kSyslogAction, true),
    bits("sync_file_range_flags", kSyncFileRange, "0"),
    bits("rwf_flags", kRwfFlags, "0"),
    enums("ptrace_request", kPtrace, false),
    enums("bpf_cmd", kBpfCmd, true),
    enums("prctl_option", kPrctl, true),
    enums("arch_prctl_code", kArchPrctl, false),
    enums("rlimit_resource", kRlimit, true),
    enums("sched_policy", kSchedPolicy, true),
    enums("priority_which", kWhichPrio, true),
    enums("rusage_who", kRusageWho, true),
    enums("itimer_which", kItimerWhich, true),
    enums("sigprocmask_how", kSigprocmaskHow, true),
    bits("sa_flags", kSaFlags, "0"),
    bits("signalfd_flags", kSignalfdFlags, "0"),
    enums("fcntl_cmd", kFcntlCmd, true),
    enums("ioctl_request", kIoctl, false),
    enums("epoll_op", kEpollOp, true),
    bits("epoll_events", kEpollEvents, "0"),
    bits("epoll_create_flags", kEpollCreateFlags, "0"),
    bits("poll_events", kPollEvents, "0"),
    bits("cloexec_nonblock", kCloexecNonblock, "0"),
    bits("eventfd_flags", kEventfdFlags, "0"),
    bits("timerfd_flags", kTimerfdFlags, "0"),
    bits("timerfd_settime_flags", kTimerfdSettime, "0"),
    bits("inotify_init_flags", kInotifyInitFlags, "0"),
    bits("inotify_mask", kInotifyMask, "0"),
    bits("getrandom_flags", kGetrandomFlags, "0"),
    enums("clockid", kClockIds, true),
    bits("timer_flags", kTimerFlags, "0"),
    bits("fallocate_mode", kFalloc, "0"),
    bits("splice_flags", kSpliceFlags, "0"),
    enums("personality", kPersonality, false),
    enums("socket_domain", kSocketDomain, true),
    enums("address_family", kSocketDomain, true),
    mixed("socket_type", 0xf, kSocketTypes, kSocketTypeBits),
    bits("socket_flags", kSocketTypeBits, "0"),
    enums("socket_level", kSockoptLevel, true),
    enums("ip_protocol", kIpProto, true),
    enums("netlink_protocol", kNetlinkProto, true),
    bits("msg_flags", kMsgFlags, "0"),
    bits("send_flags", kMsgFlags, "0"),
    bits("recv_flags", kMsgFlags, "0"),
    enums("shutdown_how", kShutdownHow, true),
    enums("sockopt_level", kSockoptLevel, true),
    enums("sockopt_name", kSockoptName, true),
};

const FlagSet kX86Sets[] = {
    mixed("open_flags", 3, kAccessModes, kOpenBitsX86),
    bits("open_flags_no_access_mode", kOpenBitsX86, "0"),
    bits("mmap_prot", kMmapProt, "PROT_NONE"),
    mixed("mmap_flags", 0xf, kMapTypes, kMapBits),
};
const FlagSet kArm64Sets[] = {
    mixed("open_flags", 3, kAccessModes, kOpenBitsArm64),
    bits("open_flags_no_access_mode", kOpenBitsArm64, "0"),
    bits("mmap_prot", kMmapProtArm64, "PROT_NONE"),
    mixed("mmap_flags", 0xf, kMapTypes, kMapBitsArm64),
};

const FlagName* find_value(std::span<const FlagName> names, uint64_t value) {
  for (const auto& n : names)
    if (n.value == value) return &n;
  return nullptr;
}

constexpr std::string_view kSignalNames[] = {
    "",       "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",  "SIGTRAP", "SIGABRT", "SIGBUS",
    "SIGFPE", "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
    "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG",
    "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
};

}  // namespace

const FlagSet* find_flag_set(std::string_view name, format::Arch arch) {
  const auto& arch_sets = arch == format::Arch::aarch64 ? kArm64Sets : kX86Sets;
  for (const auto& s : arch_sets)
    if (s.name == name) return &s;
  for (const auto& s : kCommonSets)
    if (s.name == name) return &s;
  return nullptr;
}

void append_flags(std::string& out, const FlagSet& set, uint64_t value) {
  auto it = std::back_inserter(out);
  if (set.enum_mask == ~0ull) {
    if (const auto* n = find_value(set.values, value)) {
      out.append(n->name);
    } else if (set.enum_in_decimal) {
      fmt::format_to(it, "{}", static_cast<int64_t>(value));
    } else {
      fmt::format_to(it, "{:#x}", value);
    }
    return;
  }
  const size_t start = out.size();
  auto sep = [&] {
    if (out.size() > start) out.push_back('|');
  };
  uint64_t rest = value;
  if (set.enum_mask != 0) {
    const uint64_t part = value & set.enum_mask;
    if (const auto* n = find_value(set.values, part)) {
      out.append(n->name);
      rest &= ~set.enum_mask;
      if (set.suffix_bit != 0 && (rest & set.suffix_bit)) {
        out.append(set.suffix);
        rest &= ~set.suffix_bit;
      }
    }
  }
  uint64_t signal = 0;
  if (set.signal_in_low_byte) {
    signal = rest & 0xff;
    rest &= ~uint64_t{0xff};
  }
  for (const auto& bit : set.bits) {
    if (bit.value != 0 && (rest & bit.value) == bit.value) {
      sep();
      out.append(bit.name);
      rest &= ~bit.value;
    }
  }
  if (signal != 0) {
    sep();
    append_signal(out, static_cast<int64_t>(signal));
  }
  if (rest != 0) {
    sep();
    fmt::format_to(it, "{:#x}", rest);
  }
  if (out.size() == start) {
    if (!set.zero_name.empty())
      out.append(set.zero_name);
    else
      out.push_back('0');
  }
}

void append_flags(std::string& out, std::string_view set_name, format::Arch arch, uint64_t value) {
  if (const auto* set = find_flag_set(set_name, arch)) {
    append_flags(out, *set, value);
  } else {
    fmt::format_to(std::back_inserter(out), "{:#x}", value);
  }
}

std::string_view signal_short_name(int signal) {
  if (signal >= 1 && signal < 32) return kSignalNames[signal].substr(3);
  return {};
}

void append_signal(std::string& out, int64_t signal) {
  if (signal >= 1 && signal < 32) {
    out.append(kSignalNames[signal]);
  } else if (signal == 32) {
    out.append("SIGRTMIN");
  } else if (signal > 32 && signal <= 64) {
    fmt::format_to(std::back_inserter(out), "SIGRT_{}", signal - 32);
  } else {
    fmt::format_to(std::back_inserter(out), "{}", signal);
  }
}

void append_sigset(std::string& out, uint64_t mask) {
  // strace prints the complement when more than half the signals are set.
  const bool invert = __builtin_popcountll(mask) > 32;
  if (invert) {
    out.push_back('~');
    mask = ~mask;
  }
  out.push_back('[');
  bool first = true;
  for (int sig = 1; sig <= 64; ++sig) {
    if (!(mask & (uint64_t{1} << (sig - 1)))) continue;
    if (!first) out.push_back(' ');
    first = false;
    if (sig < 32)
      out.append(kSignalNames[sig].substr(3));
    else if (sig == 32)
      out.append("RTMIN");
    else
      fmt::format_to(std::back_inserter(out), "RT_{}", sig - 32);
  }
  out.push_back(']');
}

void append_mode(std::string& out, uint64_t mode) {
  static constexpr FlagName kTypes[] = {{0140000, "S_IFSOCK"}, {0120000, "S_IFLNK"}, {0100000, "S_IFREG"},
                                        {0060000, "S_IFBLK"},  {0040000, "S_IFDIR"}, {0020000, "S_IFCHR"},
                                        {0010000, "S_IFIFO"}};
  const uint64_t type = mode & 0170000;
  if (type != 0) {
    if (const auto* n = find_value(kTypes, type)) {
      out.append(n->name);
      out.push_back('|');
      mode &= ~uint64_t{0170000};
      // With a file type (stat results) strace names the special bits too.
      static constexpr FlagName kSpecial[] = {{04000, "S_ISUID"}, {02000, "S_ISGID"}, {01000, "S_ISVTX"}};
      for (const auto& s : kSpecial) {
        if (mode & s.value) {
          out.append(s.name);
          out.push_back('|');
          mode &= ~s.value;
        }
      }
    }
  }
  if (mode == 0 && type == 0) {
    out.push_back('0');  // the original tool and the SPEC print mode=0
    return;
  }
  fmt::format_to(std::back_inserter(out), "{:#03o}", mode);
}

}  // namespace traceloop::tools
