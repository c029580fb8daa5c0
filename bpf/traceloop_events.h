/* The contract between traceloop.bpf.c and user space (recorder/).
 *
 * A syscall of a traced task normally produces ONE ring record, at its exit: a
 * call record (what the entry saw, kept per thread until the exit, and the
 * return value and data read at exit). A ring reservation costs as much as a
 * good part of the rest of the work, so one per call instead of two matters.
 *
 * Some calls still produce an enter record and an exit record, which user
 * space pairs by tid (the ring buffer keeps the order in which records were
 * reserved, so a thread's exit always follows its enter): calls whose entry
 * data do not fit in the per-thread store (TL_STASH_DATA). Calls that never
 * return produce only the enter record, and so does a call of a thread whose
 * store could not be allocated (out of memory; shown unfinished).
 *
 * A call still in flight (a thread blocked in a syscall) lives only in its
 * thread's store: program tl_in_flight (a task iterator) writes one enter
 * record per such call, without losses field (lost_before 0), when user
 * space reads it (at a snapshot, at the end of a recording). A held call of
 * a syscall that the filter stopped recording meanwhile is neither written
 * there nor sent at its exit.
 *
 * Included by C (BPF) and C++; only fixed-width types, explicit padding, every
 * record 8-byte aligned.
 */
#ifndef TRACELOOP_EVENTS_H
#define TRACELOOP_EVENTS_H

#ifdef __cplusplus
#include <cstdint>
typedef uint8_t tl_u8;
typedef int8_t tl_s8;
typedef uint16_t tl_u16;
typedef uint32_t tl_u32;
typedef uint64_t tl_u64;
typedef int64_t tl_s64;
#else
typedef __u8 tl_u8;
typedef __s8 tl_s8;
typedef __u16 tl_u16;
typedef __u32 tl_u32;
typedef __u64 tl_u64;
typedef __s64 tl_s64;
#endif

#define TL_COMM_LEN 16
#define TL_ARGS 6
/* Syscall numbers below this index the plan map; no arch has more. */
#define TL_MAX_SYSCALLS 1024
/* Upper bound of --max-data: keeps one record inside the per-CPU scratch. */
#define TL_MAX_DATA_LIMIT 4096
/* TL_FILTER_SET: slots of the traced_slots byte array (a power of two). Slot
 * (cgroup id mod TL_CGROUP_SLOTS) is 1 while some traced cgroup falls there,
 * so most untraced tasks are told apart without a hash lookup. */
#define TL_CGROUP_SLOTS 65536
/* execve argv: at most this many elements are read. */
#define TL_MAX_ARGV 32
/* Elements counted beyond those kept (string arrays, directory records): a
 * count that reaches it is a lower bound. */
#define TL_MAX_COUNTED 2048

enum tl_record_type {
  TL_RECORD_ENTER = 1,
  TL_RECORD_EXIT = 2,
  TL_RECORD_CALL = 3,
  TL_RECORD_SIGNAL = 4,    /* struct tl_signal_record */
  TL_RECORD_TASK_EXIT = 5, /* struct tl_task_exit_record */
};

/* Common first 8 bytes of every record. */
struct tl_record_head {
  tl_u8 type;       /* enum tl_record_type */
  tl_u8 ncaptures;  /* struct tl_capture entries following the fixed part */
  tl_u16 pad0;
  tl_u32 size;      /* total bytes of the record, captures included */
};

struct tl_enter_record {
  struct tl_record_head head;
  tl_u32 nr;        /* syscall number (native table) */
  tl_u32 cpu;
  tl_u32 pid;       /* thread group id */
  tl_u32 tid;
  tl_u64 ts;        /* bpf_ktime_get_boot_ns() at entry */
  tl_u64 cgroup_id; /* v2 cgroup id of the task */
  tl_u64 lost_before; /* calls of this cgroup lost since its previous record (see tl_cgroup_losses) */
  tl_u64 args[TL_ARGS];
  char comm[TL_COMM_LEN];
  /* struct tl_capture entries follow */
};

struct tl_exit_record {
  struct tl_record_head head;
  tl_u32 nr;
  tl_u32 cpu;
  tl_u32 pid;
  tl_u32 tid;
  tl_u64 ts;        /* bpf_ktime_get_boot_ns() at exit */
  tl_u64 cgroup_id;
  tl_u64 lost_before;
  tl_s64 ret;
  /* struct tl_capture entries follow */
};

/* A whole call: the enter record's fields (head.type TL_RECORD_CALL; cpu,
 * tid and comm as at entry; head.size and head.ncaptures cover the whole
 * record), then the exit's. Captures follow: the entry's, then the exit's. */
struct tl_call_record {
  struct tl_enter_record enter; /* lost_before: as of the exit */
  tl_u64 exit_ts;   /* bpf_ktime_get_boot_ns() at exit */
  tl_s64 ret;
  tl_u32 exit_cpu;
  tl_u32 pad0;
  /* struct tl_capture entries follow */
};

/* Bytes of siginfo a signal record carries: the kernel's own siginfo
 * (struct kernel_siginfo: signo, errno, code and the 32-byte union of the
 * 64-bit ABIs). The 128-byte siginfo_t a handler sees is these bytes
 * followed by zeros. */
#define TL_SIGINFO_BYTES 48

/* A signal taken by a traced thread (tracepoint signal_deliver): its handler
 * is about to run, or its default action (termination, core dump, stop) to
 * be taken. One record, no enter/exit pair, no captures. A delivery without
 * siginfo is not sent: the kernel's SIGKILL to every thread of a group that
 * exits or dies, which no process sent and which the threads' exit records
 * already tell. A signal whose default action kills without a core (SIGTERM,
 * SIGUSR1, SIGPIPE...) sent to a process that neither handles nor blocks it
 * is never delivered: the kernel turns it into that SIGKILL when it is sent.
 * strace, whose ptrace turns that short-cut off, shows a delivery there; so
 * does the same record, kept at the sending (tracepoint signal_generate) and
 * sent by the thread that would have taken it, at its end, just before its
 * exit record (ts and cpu: that moment's). Lost like a call (see the losses
 * below). */
struct tl_signal_record {
  struct tl_record_head head; /* type TL_RECORD_SIGNAL, ncaptures 0 */
  tl_u32 signo;     /* the signal delivered */
  tl_u32 cpu;
  tl_u32 pid;       /* thread group id */
  tl_u32 tid;       /* the thread that takes the signal */
  tl_u64 ts;        /* bpf_ktime_get_boot_ns() at delivery */
  tl_u64 cgroup_id; /* v2 cgroup id of the task */
  tl_u64 lost_before; /* calls of this cgroup lost since its previous record */
  char comm[TL_COMM_LEN];
  tl_u8 siginfo[TL_SIGINFO_BYTES]; /* the kernel's siginfo, in the layout of siginfo_t */
};

/* A traced thread ends (tracepoint sched_process_exit), whatever ended it:
 * its own exit, its group's exit_group, a fatal signal. Lost like a call. */
struct tl_task_exit_record {
  struct tl_record_head head; /* type TL_RECORD_TASK_EXIT, ncaptures 0 */
  tl_u32 exit_code; /* task->exit_code, a wait(2) status: (status << 8) for an exit, else the killing
                     * signal, with 0x80 when it dumped core */
  tl_u32 cpu;
  tl_u32 pid;       /* thread group id */
  tl_u32 tid;       /* the thread that ends */
  tl_u64 ts;        /* bpf_ktime_get_boot_ns() at the end */
  tl_u64 cgroup_id; /* v2 cgroup id of the task */
  tl_u64 lost_before; /* calls of this cgroup lost since its previous record */
  char comm[TL_COMM_LEN];
  tl_u8 group_dead; /* 1: the last thread of its group (the process is gone) */
  tl_u8 pad0[7];
};

/* A thread's store keeps entry captures of fewer bytes than this until the
 * exit (a power of two); a call with more sends its enter record at entry. */
#define TL_STASH_DATA 1024

/* A traced thread's call between its entry and its exit, kept in the
 * thread's store (task storage map `calls`): what the exit record then
 * carries for the whole call (see TL_RECORD_CALL). User space writes one
 * only for a call that was already in flight when it attached to the
 * thread (TL_STASH_SENT, its enter record made by user space). */
enum tl_stash_state {
  TL_STASH_IDLE = 0, /* no call in flight (or its enter record was never made) */
  TL_STASH_HELD = 1, /* a call in flight, its entry kept here */
  TL_STASH_SENT = 2, /* a call in flight whose enter record went to the ring */
};

struct tl_stash {
  tl_u8 state;      /* enum tl_stash_state */
  /* Bit i: the entry capture of argument i could not be read. A BPF read
   * cannot fault pages in: data in a page the process has not touched yet (a
   * string constant in a fresh binary, a buffer in a fresh mapping) fail at
   * entry, while at exit the kernel has faulted them in reading them itself;
   * such captures are read again at exit. */
  tl_u8 retry_mask;
  tl_u16 data_len;  /* bytes of entry captures in data */
  tl_u32 pad;
  struct tl_call_record rec; /* rec and data are contiguous: sent in one copy */
  tl_u8 data[TL_STASH_DATA];
};

/* One argument's data. `len` bytes follow the header, then padding to 8.
 * `size` follows format::CaptureView: the size in user memory when known
 * (count of a write, return value of a read, strlen+1 of a path); a string cut
 * by the limit before its NUL has size = len + 1. A run of elements (a string
 * array, directory records) has size = len + the number of elements left
 * out, so that its length in user memory is known (strace's `37 vars`)
 * and size > len still says it was cut. A read that failed (a bad pointer,
 * or a page still not there at exit) leaves no capture at all: the argument
 * is then shown as its address, as strace does, never as empty data. */
struct tl_capture {
  tl_u8 arg;        /* argument index 0..5 */
  tl_u8 pad0;
  tl_u16 len;       /* bytes kept, <= max data */
  tl_u32 size;
};

#define TL_ALIGN8(x) (((x) + 7u) & ~7u)

/* How to read one argument (per syscall, per argument; see tl_plan). */
enum tl_capture_how {
  TL_CAP_NONE = 0,
  TL_CAP_STRING = 1,       /* NUL-terminated string */
  TL_CAP_LEN_ARG = 2,      /* bytes, length = value of argument len_arg (times elem_size when set) */
  TL_CAP_LEN_RET = 3,      /* bytes, length = return value (times elem_size when set); exit only */
  TL_CAP_FIXED = 4,        /* fixed_size bytes */
  TL_CAP_STRING_ARRAY = 5, /* NULL-terminated array of strings, kept NUL-separated */
  TL_CAP_LEN_PTR_ARG = 6,  /* bytes, length = u32 read from the pointer in argument len_arg (sockaddr out) */
  TL_CAP_DIRENTS = 7,      /* directory records, length = return value; exit only (getdents) */
  TL_CAP_MSGHDR = 8,       /* struct msghdr and what it points to (struct tl_msghdr_head) */
};

/* TL_CAP_MSGHDR: sendmsg's message header at entry, recvmsg's at exit (as
 * the kernel filled it in), with what it points to, in one capture: this
 * head, then the header's own bytes (hdr_len: the architecture's struct
 * user_msghdr), msg_name (name_len bytes), the iovecs (iov_count whole
 * struct iovec), msg_control (control_len bytes), and the iovecs' data
 * (iov_data[i] bytes of the i-th kept iovec, one after the other). The
 * capture's size is its length: what was cut shows in the lengths kept
 * against the header's.
 *
 * Bounds: msg_name up to a sockaddr_storage, TL_MSGHDR_IOVS iovecs (strace
 * shows 32 at its default -s), TL_MSGHDR_CONTROL bytes of control messages
 * (a few SCM_RIGHTS and SCM_CREDENTIALS messages; more is rare), and of the
 * data, like strace's strings, each iovec's up to the data limit (max_data)
 * and what the call moved (all of it for sendmsg, the return value for
 * recvmsg), TL_MSGHDR_DATA bytes in all. The data limit bounds the data
 * only: with --max-data 0 the header, name, iovecs and control messages are
 * kept (the fds passed are known), the data are not. A part that could not
 * be read has its TL_MSGHDR_FAULT_* bit (iov data: TL_MSGHDR_UNREAD) and no
 * bytes; at entry such a capture is not kept at all, so that the exit reads
 * it again (see struct tl_stash). */
#define TL_MSGHDR_BYTES 56      /* struct user_msghdr of the 64-bit ABIs */
#define TL_MSGHDR_NAME 128      /* sizeof(struct sockaddr_storage) */
#define TL_MSGHDR_IOVS 32
#define TL_MSGHDR_CONTROL 256
#define TL_MSGHDR_DATA 4096
#define TL_MSGHDR_UNREAD 0xffff /* iov_data: that iovec's data could not be read */
enum tl_msghdr_fault {
  TL_MSGHDR_FAULT_NAME = 1,
  TL_MSGHDR_FAULT_IOV = 2,
  TL_MSGHDR_FAULT_CONTROL = 4,
};
struct tl_msghdr_head {
  tl_u16 hdr_len;
  tl_u16 name_len;
  tl_u16 iov_count;
  tl_u16 control_len;
  tl_u8 faults;     /* enum tl_msghdr_fault bits */
  tl_u8 pad0[7];
  tl_u16 iov_data[TL_MSGHDR_IOVS];
};

enum tl_capture_when {
  TL_WHEN_ENTRY = 1,
  TL_WHEN_EXIT = 2,        /* only when the call succeeded (ret >= 0) */
};

/* A capture of an argument whose shape another argument chooses (prctl's
 * arg2 is a string for PR_SET_NAME only) happens when a condition holds:
 * (args[cond_arg] & cond_mask) is one of cond_values (or, with cond_negate,
 * none of them). This many values at most: a few compares per call. */
#define TL_COND_VALUES 4

struct tl_arg_plan {
  tl_u8 how;        /* enum tl_capture_how */
  tl_u8 when;       /* enum tl_capture_when */
  tl_s8 len_arg;    /* argument index for LEN_ARG / LEN_PTR_ARG */
  tl_u8 cond_count; /* 0: always captured; else the number of cond_values used */
  tl_u32 elem_size; /* FIXED: bytes; LEN_*: bytes per counted element (0 = 1) */
  tl_u8 cond_arg;   /* index (0..5) of the argument the condition tests */
  tl_u8 cond_negate; /* 1: the condition holds when the value is none of cond_values */
  tl_u8 pad0[6];
  tl_u64 cond_mask; /* bits of args[cond_arg] compared (0xffffffff for a C int) */
  tl_u64 cond_values[TL_COND_VALUES]; /* already masked; the first cond_count count */
};

/* Value of the `plans` array map, indexed by syscall number. */
struct tl_plan {
  tl_u8 traced;     /* 0: the syscall filter excludes it */
  tl_u8 entry_captures; /* number of args with when == ENTRY */
  tl_u8 exit_captures;  /* number of args with when == EXIT */
  tl_u8 never_returns;  /* 1: the enter record is sent at entry, the exit (if any) ignored */
  tl_u8 replaces_memory; /* 1: success replaces the caller's memory (exec): entry data cannot be read at exit */
  tl_u8 pad0[3];
  struct tl_arg_plan args[TL_ARGS];
};

/* Which tasks are traced (rodata filter_mode). */
enum tl_filter_mode {
  TL_FILTER_ALL = 0,    /* every task on the host */
  TL_FILTER_SINGLE = 1, /* the task's v2 cgroup id equals .bss single_cgroup_id */
  TL_FILTER_SET = 2,    /* the task's v2 cgroup id is a key of map traced_cgroups */
  TL_FILTER_PIDS = 3,   /* the task's thread group id is a key of map traced_tgids (attached processes) */
};

/* Losses are counted in calls, not records: a call whose record the ring has
 * no room for (its call record, or the enter record that would have started
 * it: its exit record is then not sent) is one call lost. A signal or task
 * exit record the ring has no room for counts as one call lost too. A lost exit record
 * of a call whose enter record went to the ring loses only its result: the
 * call is in the trace, shown unfinished, and counted in results_lost. */

/* Value of the per-CPU `counters` array (one element). */
struct tl_cpu_counters {
  tl_u64 lost_total;      /* calls lost on this CPU because the ring was full */
  tl_u64 lost_unattributed; /* of those, of a cgroup no longer traced or without room in lost_per_cgroup */
  tl_u64 results_lost;    /* exit records lost (see above), and signal and exit notices
                           * lost; not in lost_total */
  tl_u32 records;         /* records sent, modulo 2^32 (when to look at the ring's fill level) */
  tl_u32 woke;            /* 1: this CPU woke the consumer since the ring was last seen below the mark */
};

/* Value of the `lost_per_cgroup` hash map, keyed by v2 cgroup id: the calls
 * of a traced cgroup that were lost, on any CPU. The next record of the same
 * cgroup takes lost_unreported into its lost_before (so the loss sits at its
 * place in that cgroup's history, never in another's); what no record took
 * (the cgroup made no call since) user space takes with program
 * tl_take_losses, at a snapshot and when the cgroup's history ends. An entry
 * is made at the cgroup's first loss and removed when user space stops
 * tracing the cgroup; the map has room for every traced cgroup. */
struct tl_cgroup_losses {
  tl_u64 lost_total;      /* calls lost since the entry was made */
  tl_u64 lost_unreported; /* of those, in no record's lost_before and not taken by user space yet */
};

/* Context of program tl_take_losses (BPF_PROG_TEST_RUN; the kernel copies it
 * back): takes the cgroup's unreported losses (they are then reported by
 * user space, by no record), and with `forget` removes its entry. */
struct tl_take_losses_ctx {
  tl_u64 cgroup_id; /* in */
  tl_u64 taken;     /* out: lost_unreported as it was */
  tl_u64 total;     /* out: lost_total */
  tl_u32 forget;    /* in: 1 removes the entry */
  tl_u32 pad0;
};

#endif /* TRACELOOP_EVENTS_H */
