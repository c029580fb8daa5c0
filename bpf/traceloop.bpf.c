// SPDX-License-Identifier: GPL-2.0
/* traceloop: syscall capture for traced cgroups.
 *
 * Hot path at entry, in order: cgroup filter (a compare in run mode, one hash
 * lookup for a set of cgroups), syscall filter and capture plan (one array
 * lookup), then the call's entry into the thread's store (task storage), with
 * the entry data read through a per-CPU scratch buffer. No ring record. At
 * exit: the thread's store (no filter: only traced calls leave anything
 * there), then one ring record for the whole call, sent with
 * bpf_ringbuf_output straight from the store, or from the scratch buffer when
 * the exit adds data.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "traceloop_events.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by user space before load. */
const volatile __u32 max_data = 256;        /* per-argument data limit, <= TL_MAX_DATA_LIMIT */
const volatile __u8 filter_mode = TL_FILTER_SET; /* enum tl_filter_mode */

/* TL_FILTER_SINGLE: the one traced cgroup (run mode), written by user space
 * through the mmapped .bss; a compare instead of a hash lookup keeps the
 * cost for every untraced task on the host minimal. */
__u64 single_cgroup_id = 0;
const volatile __u64 wakeup_bytes = 1 << 20; /* wake the consumer when this much is queued */

#define SCRATCH_SIZE 32768 /* power of two: sizes are masked with SCRATCH_SIZE - 1 for the verifier */
/* Captures start below CAPTURE_AREA; each is at most 8 + TL_MAX_DATA_LIMIT + 1
 * bytes (a message header, struct tl_msghdr_head: its parts and
 * TL_MSGHDR_DATA bytes of data), so the end stays inside the scratch buffer. Arguments beyond it
 * (only with several multi-KiB captures in one call) are not captured. */
#define CAPTURE_AREA 16384

struct scratch { /* a per-CPU map value may not exceed 32 KiB */
  __u8 buf[SCRATCH_SIZE - 64];
  __u64 args[TL_ARGS]; /* the call's arguments, where the capture functions read them */
  /* Bit i: the entry capture of argument i could not be read. Kept in the
   * map value, not on the stack, so the verifier does not track it bit by
   * bit (which multiplies its states); the same for the count of captures. */
  __u8 failed_captures;
  __u8 ncaptures;
  __u8 pad[2];
  /* A walk over directory records: the next record's offset and the records
   * left out so far; over a message's iovecs: the bytes moved not yet
   * given to an iovec and the data kept (bytes that change at every step:
   * on the stack, the verifier would never see the walk's states converge). */
  __u32 walk_left_out;
  __u64 walk_pos; /* the value is exactly SCRATCH_SIZE bytes: sizes masked to it stay inside */
};
_Static_assert(sizeof(struct scratch) == SCRATCH_SIZE, "scratch size");

/* Capture plans by syscall number, written by user space before load (the
 * .bss initial value: one copy instead of an update per syscall). A direct
 * load from a global array costs less than a map lookup on every call. */
struct tl_plan plans[TL_MAX_SYSCALLS];
_Static_assert((TL_MAX_SYSCALLS & (TL_MAX_SYSCALLS - 1)) == 0, "plan index masked");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 8 << 20); /* resized by user space */
} events SEC(".maps");

/* v2 cgroup id -> container index (user space's numbering). */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u64);
  __type(value, __u32);
} traced_cgroups SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct tl_cpu_counters);
} counters SEC(".maps");

/* Each traced thread's call between its entry and its exit: struct
 * tl_stash (see the header), in task storage: found in the task itself,
 * freed with it, and it follows a thread whose execve makes it the group
 * leader (its tid changes, the task does not). */
_Static_assert((TL_STASH_DATA & (TL_STASH_DATA - 1)) == 0, "stash data masked");

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct tl_stash);
} calls SEC(".maps");

/* Calls lost per traced cgroup id (struct tl_cgroup_losses). Resized by user
 * space to the traced set's size. Not preallocated: an entry user space
 * removes while a program still holds it is freed only after that program. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 4096);
  __type(key, __u64);
  __type(value, struct tl_cgroup_losses);
} lost_per_cgroup SEC(".maps");

/* How many entries of lost_per_cgroup have lost_unreported > 0: each send
 * reads it (one load, a line written only when calls are lost or reported)
 * and looks its cgroup up only when it is not 0. Raised by whoever takes an
 * entry from 0, lowered by whoever takes it back to 0 (both atomic). One
 * race is left: a loss counted in the very instant user space removes its
 * cgroup's entry (the cgroup stops being traced) goes with the entry and
 * may leave the count one too high; records then pay that lookup. */
__u64 cgroups_owing SEC(".data.owing") = 0;

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct scratch);
} scratch_map SEC(".maps");

/* An AND the compiler cannot drop: the verifier then sees the bound on the
 * very register passed to the helper. */
static __always_inline __u64 mask_for_verifier(__u64 v, const __u64 mask)
{
  asm volatile("%0 &= %1" : "+r"(v) : "i"(mask));
  return v;
}

/* nr < TL_MAX_SYSCALLS, checked by the caller; the mask shows it to the
 * verifier on the register that indexes. */
static __always_inline const struct tl_plan *plan_of(__u32 nr)
{
  return &plans[mask_for_verifier(nr, TL_MAX_SYSCALLS - 1)];
}

/* TL_FILTER_SET, written by user space through the mmapped .bss: set before
 * a cgroup enters traced_cgroups, cleared after the last one of its slot left
 * (see TL_CGROUP_SLOTS). */
__u8 traced_slots[TL_CGROUP_SLOTS];
_Static_assert((TL_CGROUP_SLOTS & (TL_CGROUP_SLOTS - 1)) == 0, "slot index masked");

/* TL_FILTER_PIDS: the traced processes by thread group id (every thread of
 * one is traced). User space adds those it attaches to; the programs below
 * add each process they fork from then on (at the fork, before the child
 * runs: none of its calls is missed) and remove a process when its last
 * thread exits (before its id can be reused). Resized by user space. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u8);
} traced_tgids SEC(".maps");

static __always_inline int is_traced_process(void)
{
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  return bpf_map_lookup_elem(&traced_tgids, &tgid) != 0;
}

/* TL_FILTER_SINGLE and TL_FILTER_SET: whether a cgroup is traced. */
static __always_inline int cgroup_in_traced_set(__u64 cgroup_id)
{
  if (filter_mode == TL_FILTER_SINGLE)
    return cgroup_id == single_cgroup_id;
  /* an untraced task: one byte, no hash of its id */
  if (!traced_slots[cgroup_id & (TL_CGROUP_SLOTS - 1)])
    return 0;
  return bpf_map_lookup_elem(&traced_cgroups, &cgroup_id) != 0;
}

/* Whether the current task is traced: its cgroup (cgroup_id is the current
 * task's), or in TL_FILTER_PIDS mode its process. */
static __always_inline int is_traced_cgroup(__u64 cgroup_id)
{
  if (filter_mode == TL_FILTER_ALL)
    return 1;
  if (filter_mode == TL_FILTER_PIDS)
    return is_traced_process();
  return cgroup_in_traced_set(cgroup_id);
}

static __always_inline int is_error(long ret) { return ret < 0 && ret >= -4095; }

/* The loss path is made of global functions (verified once, on their own,
 * not at every send site: see the captures below); they reach this CPU's
 * counters through the map themselves. */

static __always_inline struct tl_cpu_counters *this_cpu_counters(void)
{
  __u32 zero = 0;
  return bpf_map_lookup_elem(&counters, &zero);
}

/* `n` calls lost (ring full) by `cgroup_id`, besides `back` reported ones
 * put back (a record that took them could not be sent). */
__noinline int tl_count_loss(__u64 cgroup_id, __u64 n, __u64 back)
{
  struct tl_cpu_counters *c = this_cpu_counters();
  if (!c)
    return 0;
  c->lost_total += n;
  struct tl_cgroup_losses *e = bpf_map_lookup_elem(&lost_per_cgroup, &cgroup_id);
  if (!e) {
    /* A call of a cgroup no longer traced (its exit after the cgroup left
     * the set) makes no entry: nobody would take or remove it. */
    if (!is_traced_cgroup(cgroup_id)) {
      c->lost_unattributed += n + back;
      return 0;
    }
    struct tl_cgroup_losses zero = {};
    /* NOEXIST: a concurrent first loss on another CPU keeps its entry. A
     * full map (more cgroups than traced, only in the instant a cgroup is
     * replaced) leaves the calls unattributed, counted per CPU. */
    bpf_map_update_elem(&lost_per_cgroup, &cgroup_id, &zero, BPF_NOEXIST);
    e = bpf_map_lookup_elem(&lost_per_cgroup, &cgroup_id);
    if (!e) {
      c->lost_unattributed += n + back;
      return 0;
    }
  }
  if (n)
    __sync_fetch_and_add(&e->lost_total, n);
  if (__sync_fetch_and_add(&e->lost_unreported, n + back) == 0)
    __sync_fetch_and_add(&cgroups_owing, 1);
  return 0;
}

/* The cgroup's unreported losses, now the caller's to report. */
static __always_inline __u64 take_unreported(struct tl_cgroup_losses *e)
{
  if (!e->lost_unreported)
    return 0;
  __u64 n = __sync_lock_test_and_set(&e->lost_unreported, 0);
  if (n)
    __sync_fetch_and_add(&cgroups_owing, -1);
  return n;
}

__noinline __u64 tl_take_unreported(__u64 cgroup_id)
{
  struct tl_cgroup_losses *e = bpf_map_lookup_elem(&lost_per_cgroup, &cgroup_id);
  return e ? take_unreported(e) : 0;
}

/* The consumer drains the ring on its own timer and is woken only when the
 * queued data reach wakeup_bytes: a wakeup is an irq_work (an IPI) and costs
 * more than a whole record. Reading the ring's fill level costs about as much
 * as a record too (the consumer position is a cache line the consumer writes
 * from another CPU), so a CPU looks at it once every QUERY_EVERY records, and
 * wakes the consumer once per passage above the mark. */
#define QUERY_EVERY 64
static __always_inline __u64 submit_flags(struct tl_cpu_counters *c)
{
  if ((++c->records & (QUERY_EVERY - 1)) != 0)
    return BPF_RB_NO_WAKEUP;
  if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) < wakeup_bytes) {
    c->woke = 0;
    return BPF_RB_NO_WAKEUP;
  }
  if (c->woke)
    return BPF_RB_NO_WAKEUP;
  c->woke = 1;
  return BPF_RB_FORCE_WAKEUP;
}

/* ---- registers: tp_btf hands a trusted pointer (direct loads), the raw
 * tracepoint an untrusted one (probe reads). */

#if defined(__TARGET_ARCH_x86)
#define REG_ARG0 di
#define REG_ARG1 si
#define REG_ARG2 dx
#define REG_ARG3 r10
#define REG_ARG4 r8
#define REG_ARG5 r9
#define REG_NR orig_ax
#elif defined(__TARGET_ARCH_arm64)
#define REG_ARG0 orig_x0
#define REG_NR syscallno
#endif

/* rt_sigreturn takes no argument: its first is made the address of the
 * signal mask it restores (the catalogue's `mask`, annotations.txt), at
 * sigreturn_mask_at_sp bytes above the user stack pointer (set by user
 * space from the kernel's signal frame, recorder/signal_frame.cpp). */
#if defined(__TARGET_ARCH_x86)
#define NR_RT_SIGRETURN 15
#elif defined(__TARGET_ARCH_arm64)
#define NR_RT_SIGRETURN 139
#endif
const volatile __u32 sigreturn_mask_at_sp = 0;

static __always_inline __u64 read_user_sp(struct pt_regs *regs, int btf)
{
  if (btf)
    return regs->sp;
  return BPF_CORE_READ(regs, sp);
}

static __always_inline void read_args(struct pt_regs *regs, __u64 *args, int btf)
{
#if defined(__TARGET_ARCH_x86)
  if (btf) {
    args[0] = regs->REG_ARG0;
    args[1] = regs->REG_ARG1;
    args[2] = regs->REG_ARG2;
    args[3] = regs->REG_ARG3;
    args[4] = regs->REG_ARG4;
    args[5] = regs->REG_ARG5;
  } else {
    args[0] = BPF_CORE_READ(regs, REG_ARG0);
    args[1] = BPF_CORE_READ(regs, REG_ARG1);
    args[2] = BPF_CORE_READ(regs, REG_ARG2);
    args[3] = BPF_CORE_READ(regs, REG_ARG3);
    args[4] = BPF_CORE_READ(regs, REG_ARG4);
    args[5] = BPF_CORE_READ(regs, REG_ARG5);
  }
#elif defined(__TARGET_ARCH_arm64)
  if (btf) {
    args[0] = regs->orig_x0;
    args[1] = regs->regs[1];
    args[2] = regs->regs[2];
    args[3] = regs->regs[3];
    args[4] = regs->regs[4];
    args[5] = regs->regs[5];
  } else {
    args[0] = BPF_CORE_READ(regs, orig_x0);
    args[1] = BPF_CORE_READ(regs, regs[1]);
    args[2] = BPF_CORE_READ(regs, regs[2]);
    args[3] = BPF_CORE_READ(regs, regs[3]);
    args[4] = BPF_CORE_READ(regs, regs[4]);
    args[5] = BPF_CORE_READ(regs, regs[5]);
  }
#endif
}

static __always_inline long read_nr(struct pt_regs *regs, int btf)
{
  if (btf)
    return regs->REG_NR;
  return BPF_CORE_READ(regs, REG_NR);
}

/* bpf_get_current_comm costs about 50 ns a call here (a locked string copy);
 * with a trusted task pointer two plain loads do. The comm may be torn by a
 * concurrent prctl(PR_SET_NAME) of another thread — so may the helper's. */
static __always_inline void read_comm(char *comm, int btf)
{
  if (btf) {
    struct task_struct *task = bpf_get_current_task_btf();
    const __u64 *src = (const __u64 *)task->comm;
    __u64 *dst = (__u64 *)comm;
    dst[0] = src[0];
    dst[1] = src[1];
  } else {
    bpf_get_current_comm(comm, TL_COMM_LEN);
  }
}

/* ---- captures ----
 *
 * The capture code is made of global functions (non-static, noinline): the
 * verifier checks each of them once, on its own, instead of once per call
 * site and per path through the caller, as it does for inlined or static
 * code. Their arguments are plain scalars; they reach the per-CPU scratch
 * buffer, the call's arguments and the capture plan through the maps
 * themselves. What the caller needs back (the captures' count, the strings
 * that failed) is kept in the scratch map value, whose bytes the verifier
 * does not track one by one. */

static __always_inline struct scratch *this_cpu_scratch(void)
{
  __u32 zero = 0;
  return bpf_map_lookup_elem(&scratch_map, &zero);
}

static __always_inline __u32 clamp_len(__u64 len)
{
  __u32 limit = max_data;
  if (limit > TL_MAX_DATA_LIMIT)
    limit = TL_MAX_DATA_LIMIT;
  return len > limit ? limit : (__u32)len;
}

/* Fills the header of the capture at `off` whose `len` bytes follow it;
 * returns the offset after it (8-byte aligned, as the contract says). */
static __always_inline __u32 end_capture(struct tl_capture *cap, __u64 off, __u8 arg, __u32 len, __u32 size)
{
  cap->arg = arg;
  cap->pad0 = 0;
  cap->len = len;
  cap->size = size;
  return off + TL_ALIGN8(sizeof(*cap) + len);
}

/* Each tl_put_* writes one capture at buf[off] and returns the new offset,
 * unchanged when nothing was captured. */

__noinline __u32 tl_put_bytes(__u32 off, __u32 arg, __u64 uptr, __u64 size)
{
  struct scratch *s = this_cpu_scratch();
  if (!s || off >= CAPTURE_AREA)
    return off;
  __u64 at = mask_for_verifier(off, CAPTURE_AREA - 1);
  struct tl_capture *cap = (struct tl_capture *)(s->buf + at);
  __u32 len = clamp_len(size);
  if (len > TL_MAX_DATA_LIMIT)
    return off;
  /* A read that failed leaves no capture (see struct tl_capture), never an
   * empty one: the data were not empty, only unreadable. */
  if (len && bpf_probe_read_user(s->buf + at + sizeof(*cap), len, (const void *)uptr) != 0)
    return off;
  return end_capture(cap, at, arg, len, size > 0xffffffffull ? 0xffffffffu : (__u32)size);
}

__noinline __u32 tl_put_string(__u32 off, __u32 arg, __u64 uptr)
{
  struct scratch *s = this_cpu_scratch();
  if (!s || off >= CAPTURE_AREA)
    return off;
  __u64 at = mask_for_verifier(off, CAPTURE_AREA - 1);
  struct tl_capture *cap = (struct tl_capture *)(s->buf + at);
  __u32 limit = clamp_len(TL_MAX_DATA_LIMIT);
  /* one byte more than the limit tells "longer than the limit" apart */
  long n = bpf_probe_read_user_str(s->buf + at + sizeof(*cap), limit + 1, (const void *)uptr);
  if (n <= 0)
    return off;
  __u32 len = n, size = n;
  if (len > limit) {
    len = limit;
    size = limit + 1;
  }
  return end_capture(cap, at, arg, len, size);
}

/* Counting elements beyond those kept takes up to TL_MAX_COUNTED steps:
 * bpf_loop runs them with one verification of the step, where a loop the
 * verifier unrolls would exceed its limits. */
struct pointer_count {
  __u64 uptr;  /* the first pointer to look at */
  __u32 count; /* non-NULL pointers seen */
  __u32 ended; /* 1: the NULL was reached */
};

static long count_pointer(__u32 index, void *data)
{
  struct pointer_count *c = data;
  const char *p = 0;
  if (bpf_probe_read_user(&p, sizeof(p), (const char *const *)c->uptr + index) != 0)
    return 1;
  if (!p) {
    c->ended = 1;
    return 1;
  }
  c->count++;
  return 0;
}

/* How many non-NULL pointers the array at `uptr` holds from index `from` on,
 * up to its NULL; at least 1 when the NULL was not reached (unreadable, or
 * more than TL_MAX_COUNTED: some, how many is not known). */
__noinline __u32 tl_count_pointers(__u64 uptr, __u32 from)
{
  struct pointer_count c = {.uptr = uptr + (__u64)from * sizeof(__u64), .count = 0, .ended = 0};
  bpf_loop(TL_MAX_COUNTED, count_pointer, &c, 0);
  if (!c.ended && c.count == 0)
    return 1;
  return c.count;
}

/* argv, envp: elements kept NUL-separated, within max_data in total; the
 * elements left out are counted (see struct tl_capture). */
__noinline __u32 tl_put_string_array(__u32 off, __u32 arg, __u64 uptr)
{
  struct scratch *s = this_cpu_scratch();
  if (!s || off >= CAPTURE_AREA)
    return off;
  __u64 at = mask_for_verifier(off, CAPTURE_AREA - 1);
  struct tl_capture *cap = (struct tl_capture *)(s->buf + at);
  __u64 base = at + sizeof(*cap);
  __u32 limit = clamp_len(TL_MAX_DATA_LIMIT);
  __u32 used = 0;
  __u32 kept = 0; /* elements read */
  int complete = 0, unreadable = 0;
  for (int i = 0; i < TL_MAX_ARGV; i++) {
    const char *p = 0;
    if (bpf_probe_read_user(&p, sizeof(p), (const char *const *)uptr + i) != 0) {
      unreadable = 1;
      break;
    }
    if (!p) {
      complete = 1;
      break;
    }
    if (used >= limit)
      break;
    /* masks keep both bounds visible to the verifier (used < limit <= 4096) */
    __u64 room = mask_for_verifier(limit - used, 2 * TL_MAX_DATA_LIMIT - 1);
    __u64 where = base + mask_for_verifier(used, TL_MAX_DATA_LIMIT - 1);
    if (room == 0)
      break;
    long n = bpf_probe_read_user_str(s->buf + where, room, p);
    if (n <= 0)
      break;
    used += n;
    kept++;
  }
  if (!complete && used == 0)
    return off; /* not even the first element could be read: a failed read */
  if (used > TL_MAX_DATA_LIMIT)
    used = TL_MAX_DATA_LIMIT;
  __u32 left_out = 0;
  if (!complete) /* an unreadable array: some were left out, how many is unknown */
    left_out = unreadable ? 1 : tl_count_pointers(uptr, kept);
  return end_capture(cap, at, arg, used, used + left_out);
}

struct dirent_count {
  __u64 uptr, size, kept_bytes;
};

/* One record of the walk; its position and count live in the scratch. */
static long count_dirent(__u32 index, void *data)
{
  struct dirent_count *c = data;
  struct scratch *s = this_cpu_scratch();
  __u16 reclen = 0;
  if (!s || s->walk_pos >= c->size ||
      bpf_probe_read_user(&reclen, sizeof(reclen), (const char *)c->uptr + s->walk_pos + 16) != 0 || reclen == 0)
    return 1;
  s->walk_pos += reclen;
  if (s->walk_pos > c->kept_bytes)
    s->walk_left_out++;
  return 0;
}

/* getdents: the records within max_data, and the records left out counted by
 * walking their d_reclen (at offset 16 in linux_dirent and linux_dirent64 of
 * 64-bit architectures) over the `size` bytes the kernel wrote. */
__noinline __u32 tl_put_dirents(__u32 off, __u32 arg, __u64 uptr, __u64 size)
{
  __u32 next = tl_put_bytes(off, arg, uptr, size);
  struct scratch *s = this_cpu_scratch();
  if (!s || next == off || off >= CAPTURE_AREA)
    return next;
  struct tl_capture *cap = (struct tl_capture *)(s->buf + mask_for_verifier(off, CAPTURE_AREA - 1));
  struct dirent_count c = {.uptr = uptr, .size = size, .kept_bytes = cap->len};
  s->walk_pos = 0;
  s->walk_left_out = 0;
  bpf_loop(TL_MAX_COUNTED, count_dirent, &c, 0);
  __u32 left_out = s->walk_left_out;
  if (c.kept_bytes < size && left_out == 0)
    left_out = 1;
  cap->size = cap->len + left_out;
  return next;
}

/* struct user_msghdr and struct iovec as user memory holds them on the
 * 64-bit ABIs (x86_64, arm64); the decoder reads the header with the
 * generated layouts (struct tl_msghdr_head keeps its bytes). */
struct tl_user_msghdr {
  __u64 name;
  __u32 namelen; /* an int: a negative one reads as huge, and is cut to the bound */
  __u32 pad0;
  __u64 iov;
  __u64 iovlen;
  __u64 control;
  __u64 controllen;
  __u32 flags;
  __u32 pad1;
};
_Static_assert(sizeof(struct tl_user_msghdr) == TL_MSGHDR_BYTES, "msghdr size");
struct tl_user_iovec {
  __u64 base;
  __u64 len;
};
/* Where the parts of a msghdr capture start, relative to its head: each
 * bound a power of two above the largest offset (the verifier sees masks). */
#define MSGHDR_IOV_AT_MASK 511   /* head 80 + header 56 + name 128 */
#define MSGHDR_CTL_AT_MASK 1023  /* + iovecs 512 */
#define MSGHDR_DATA_AT_MASK 2047 /* + control 256 */
_Static_assert(sizeof(struct tl_msghdr_head) + TL_MSGHDR_BYTES + TL_MSGHDR_NAME <= MSGHDR_IOV_AT_MASK, "iov at");
_Static_assert(sizeof(struct tl_msghdr_head) + TL_MSGHDR_BYTES + TL_MSGHDR_NAME +
                   TL_MSGHDR_IOVS * sizeof(struct tl_user_iovec) <= MSGHDR_CTL_AT_MASK, "control at");
_Static_assert(sizeof(struct tl_msghdr_head) + TL_MSGHDR_BYTES + TL_MSGHDR_NAME +
                   TL_MSGHDR_IOVS * sizeof(struct tl_user_iovec) + TL_MSGHDR_CONTROL <= MSGHDR_DATA_AT_MASK, "data at");
_Static_assert((TL_MSGHDR_IOVS & (TL_MSGHDR_IOVS - 1)) == 0, "iovec index masked");
_Static_assert(TL_MSGHDR_DATA == TL_MAX_DATA_LIMIT, "data offsets masked with TL_MAX_DATA_LIMIT");

/* The data walk over the kept iovecs (one bpf_loop step each: verified
 * once). Its running state (bytes the call moved not yet given to an
 * iovec, bytes kept) lives in the scratch, as the directory walk's does. */
struct msghdr_walk {
  __u64 cap_at;  /* offset of the capture in the scratch (its head follows) */
  __u32 iov_at;  /* offsets of the kept iovecs and of the data, from the head */
  __u32 data_at;
  __u32 limit;   /* each iovec's data: the data limit */
  __u32 unread;  /* out: an iovec's data could not be read */
};

static long msghdr_iov_step(__u32 index, void *data)
{
  struct msghdr_walk *w = data;
  struct scratch *s = this_cpu_scratch();
  if (!s)
    return 1;
  __u64 head_at = mask_for_verifier(w->cap_at, CAPTURE_AREA - 1) + sizeof(struct tl_capture);
  struct tl_msghdr_head *h = (struct tl_msghdr_head *)(s->buf + head_at);
  __u32 i = index & (TL_MSGHDR_IOVS - 1);
  const struct tl_user_iovec *v = (const struct tl_user_iovec *)(s->buf + head_at +
                                                                 mask_for_verifier(w->iov_at, MSGHDR_IOV_AT_MASK) +
                                                                 i * sizeof(struct tl_user_iovec));
  /* walk_pos ~0: every iovec whole (sendmsg), as strace's data_size -1 */
  __u64 moved = v->len < s->walk_pos ? v->len : s->walk_pos;
  if (s->walk_pos != ~0ull)
    s->walk_pos -= moved;
  __u32 used = s->walk_left_out;
  if (used > TL_MSGHDR_DATA)
    return 1;
  __u64 want = moved < w->limit ? moved : w->limit;
  if (want > TL_MSGHDR_DATA - used)
    want = TL_MSGHDR_DATA - used;
  if (want && bpf_probe_read_user(s->buf + head_at + mask_for_verifier(w->data_at, MSGHDR_DATA_AT_MASK) +
                                      mask_for_verifier(used, TL_MSGHDR_DATA - 1),
                                  mask_for_verifier(want, 2 * TL_MSGHDR_DATA - 1), (const void *)v->base) != 0) {
    h->iov_data[i] = TL_MSGHDR_UNREAD; /* strace shows each iovec on its own: the next ones still count */
    w->unread = 1;
    return 0;
  }
  h->iov_data[i] = want;
  s->walk_left_out = used + want;
  return 0;
}

/* sendmsg's and recvmsg's message header and what it points to (struct
 * tl_msghdr_head). `moved`: the bytes the call moved, -1 for all of them
 * (sendmsg); `partial_ok`: keep a capture some part of which could not be
 * read (at exit; at entry the exit reads it all again instead). */
__noinline __u32 tl_put_msghdr(__u32 off, __u32 arg, __u64 uptr, __s64 moved, __u32 partial_ok)
{
  struct scratch *s = this_cpu_scratch();
  if (!s || off >= CAPTURE_AREA)
    return off;
  __u64 at = mask_for_verifier(off, CAPTURE_AREA - 1);
  struct tl_capture *cap = (struct tl_capture *)(s->buf + at);
  __u64 head_at = at + sizeof(*cap);
  struct tl_msghdr_head *h = (struct tl_msghdr_head *)(s->buf + head_at);
  struct tl_user_msghdr *m = (struct tl_user_msghdr *)(s->buf + head_at + sizeof(*h));
  if (bpf_probe_read_user(m, sizeof(*m), (const void *)uptr) != 0)
    return off;
  __builtin_memset(h, 0, sizeof(*h));
  h->hdr_len = sizeof(*m);
  __u32 pos = sizeof(*h) + sizeof(*m);
  __u32 name_len = m->namelen > TL_MSGHDR_NAME ? TL_MSGHDR_NAME : m->namelen;
  if (m->name && name_len) {
    if (bpf_probe_read_user(s->buf + head_at + pos, mask_for_verifier(name_len, 2 * TL_MSGHDR_NAME - 1),
                            (const void *)m->name) != 0) {
      h->faults |= TL_MSGHDR_FAULT_NAME;
    } else {
      h->name_len = name_len;
      pos += name_len;
    }
  }
  __u32 iov_at = pos;
  __u32 count = m->iovlen > TL_MSGHDR_IOVS ? TL_MSGHDR_IOVS : m->iovlen;
  if (m->iov && count) {
    if (bpf_probe_read_user(s->buf + head_at + mask_for_verifier(iov_at, MSGHDR_IOV_AT_MASK),
                            mask_for_verifier(count * sizeof(struct tl_user_iovec), 1023),
                            (const void *)m->iov) != 0) {
      h->faults |= TL_MSGHDR_FAULT_IOV;
      count = 0;
    } else {
      h->iov_count = count;
      pos += count * sizeof(struct tl_user_iovec);
    }
  } else {
    count = 0;
  }
  __u32 control_len = m->controllen > TL_MSGHDR_CONTROL ? TL_MSGHDR_CONTROL : m->controllen;
  if (m->control && control_len) {
    if (bpf_probe_read_user(s->buf + head_at + mask_for_verifier(pos, MSGHDR_CTL_AT_MASK),
                            mask_for_verifier(control_len, 2 * TL_MSGHDR_CONTROL - 1),
                            (const void *)m->control) != 0) {
      h->faults |= TL_MSGHDR_FAULT_CONTROL;
    } else {
      h->control_len = control_len;
      pos += control_len;
    }
  }
  struct msghdr_walk w = {.cap_at = at, .iov_at = iov_at, .data_at = pos,
                          .limit = clamp_len(TL_MAX_DATA_LIMIT), .unread = 0};
  s->walk_pos = moved < 0 ? ~0ull : (__u64)moved;
  s->walk_left_out = 0;
  if (count)
    bpf_loop(count, msghdr_iov_step, &w, 0);
  if (!partial_ok && (h->faults || w.unread))
    return off;
  __u32 len = pos + s->walk_left_out;
  if (len > 0xffff)
    return off;
  return end_capture(cap, at, arg, len, len);
}

/* The capture of argument `arg` as its plan says. The plan comes as scalars
 * (what the verifier checks once for any value): `how` in bits 0-7, `when`
 * in bits 8-15, `len_arg` in bits 16-23, bit 24 set when an entry capture is
 * read again at exit; `ret` is the return value at exit. */
__noinline __u32 tl_put_capture(__u32 off, __u32 arg, __u32 packed_plan, __u32 elem_size, __s64 ret)
{
  struct scratch *s = this_cpu_scratch();
  if (!s || arg >= TL_ARGS)
    return off;
  arg = mask_for_verifier(arg, 7);
  __u64 uptr = s->args[arg];
  if (!uptr)
    return off;
  __u8 how = packed_plan & 0xff;
  __u8 when = (packed_plan >> 8) & 0xff;
  __s8 len_arg = (__s8)((packed_plan >> 16) & 0xff);
  __u64 elem = elem_size ? elem_size : 1;
  if (how == TL_CAP_MSGHDR) {
    /* recvmsg's moved what it returned; sendmsg's, all of it */
    int at_exit = when == TL_WHEN_EXIT || (packed_plan >> 24) & 1;
    return tl_put_msghdr(off, arg, uptr, when == TL_WHEN_EXIT ? ret : -1, at_exit);
  }
  if (how == TL_CAP_FIXED)
    return tl_put_bytes(off, arg, uptr, elem_size);
  if (how == TL_CAP_LEN_ARG) {
    if (len_arg < 0 || len_arg >= TL_ARGS)
      return off;
    return tl_put_bytes(off, arg, uptr, s->args[len_arg & 7] * elem);
  }
  if (when == TL_WHEN_ENTRY) {
    if (how == TL_CAP_STRING)
      return tl_put_string(off, arg, uptr);
    if (how == TL_CAP_STRING_ARRAY)
      return tl_put_string_array(off, arg, uptr);
    return off;
  }
  if (how == TL_CAP_LEN_RET) {
    if (ret <= 0)
      return off;
    return tl_put_bytes(off, arg, uptr, (__u64)ret * elem);
  }
  if (how == TL_CAP_DIRENTS) {
    if (ret <= 0)
      return off;
    return tl_put_dirents(off, arg, uptr, (__u64)ret);
  }
  if (how == TL_CAP_LEN_PTR_ARG) {
    if (len_arg < 0 || len_arg >= TL_ARGS)
      return off;
    __u32 n = 0;
    const void *lenp = (const void *)s->args[len_arg & 7];
    if (!lenp || bpf_probe_read_user(&n, sizeof(n), lenp) != 0)
      return off;
    return tl_put_bytes(off, arg, uptr, n);
  }
  return off;
}

/* Whether the condition of the capture of argument `arg` of syscall `nr`
 * holds for the call's arguments in the scratch buffer (see struct
 * tl_arg_plan): a masked load and at most TL_COND_VALUES compares. A global
 * function, like the captures: verified once, not once per argument of the
 * caller's loop. */
__noinline int tl_cond_holds(__u32 nr, __u32 arg)
{
  struct scratch *s = this_cpu_scratch();
  if (!s || nr >= TL_MAX_SYSCALLS || arg >= TL_ARGS)
    return 0;
  /* the mask shows the bound to the verifier on the register that indexes */
  const struct tl_arg_plan *p = &plan_of(nr)->args[mask_for_verifier(arg, 7)];
  __u64 v = s->args[p->cond_arg & 7] & p->cond_mask;
  __u32 count = p->cond_count;
  int found = 0;
  for (int k = 0; k < TL_COND_VALUES; k++)
    if (k < count && p->cond_values[k] == v)
      found = 1;
  return found != (p->cond_negate != 0);
}

/* Every capture of `when` that the plan of `nr` asks for, from the
 * arguments in the scratch buffer. Counts them in s->ncaptures; at entry,
 * sets bit i of s->failed_captures for each capture that could not be read. */
__noinline __u32 tl_put_captures(__u32 off, __u32 nr, __u32 when, __s64 ret)
{
  struct scratch *s = this_cpu_scratch();
  if (!s || nr >= TL_MAX_SYSCALLS)
    return off;
  for (__u32 i = 0; i < TL_ARGS; i++) {
    const struct tl_arg_plan *p = &plan_of(nr)->args[i];
    if (p->when != when || p->how == TL_CAP_NONE)
      continue;
    /* a capture skipped here is not marked failed: the exit does not retry it */
    if (p->cond_count && !tl_cond_holds(nr, i))
      continue;
    __u32 packed_plan = p->how | (__u32)p->when << 8 | (__u32)(__u8)p->len_arg << 16;
    __u32 next = tl_put_capture(off, i, packed_plan, p->elem_size, ret);
    if (next != off)
      s->ncaptures++;
    else if (when == TL_WHEN_ENTRY && s->args[i] && off < CAPTURE_AREA)
      s->failed_captures |= 1 << i;
    off = next;
  }
  return off;
}

/* The entry captures of `mask` read again at exit, as the plan of `nr`
 * says (see struct tl_stash). What they read was in user memory all along:
 * input data the kernel only read. Not after a successful exec (see
 * tl_plan.replaces_memory): the caller leaves the mask empty then. */
__noinline __u32 tl_put_retried(__u32 off, __u32 nr, __u32 mask)
{
  struct scratch *s = this_cpu_scratch();
  if (!s || nr >= TL_MAX_SYSCALLS)
    return off;
  for (__u32 i = 0; i < TL_ARGS; i++) {
    if (!(mask & (1u << i)))
      continue;
    const struct tl_arg_plan *p = &plan_of(nr)->args[i];
    __u32 packed_plan = p->how | (__u32)p->when << 8 | (__u32)(__u8)p->len_arg << 16 | 1u << 24;
    __u32 next = tl_put_capture(off, i, packed_plan, p->elem_size, 0);
    if (next != off)
      s->ncaptures++;
    off = next;
  }
  return off;
}

/* ---- programs ---- */

/* After the cgroup filter, the same at entry and exit: is the syscall traced
 * (its plan), and this CPU's loss counters. 0: ignore the call. */
static __always_inline int traced_syscall(__u32 nr, const struct tl_plan **plan,
                                          struct tl_cpu_counters **counters_p)
{
  if (nr >= TL_MAX_SYSCALLS)
    return 0;
  *plan = plan_of(nr);
  if (!(*plan)->traced)
    return 0;
  __u32 zero = 0;
  *counters_p = bpf_map_lookup_elem(&counters, &zero);
  return *counters_p != 0;
}

/* What send() does when the ring has no room. */
enum send_loss {
  LOSES_CALL = 1,   /* a call record, or the enter record that starts a call */
  LOSES_RESULT = 2, /* the exit record of a call whose enter record was sent, or a
                     * signal or exit notice: no call is missing */
};

/* Sends `size` bytes at `data` as one record of `cgroup_id` whose
 * lost_before field is at `lost_before`: the cgroup's losses not reported
 * yet go with it. A failure is counted as a loss, never dropped silently.
 * Returns 0 when the record was sent. */
static __always_inline int send(void *data, __u64 size, __u64 *lost_before, struct tl_cpu_counters *counters_p,
                                __u64 cgroup_id, enum send_loss loses)
{
  /* the only cost when no call is lost: this load */
  __u64 taken = cgroups_owing ? tl_take_unreported(cgroup_id) : 0;
  *lost_before = taken;
  if (size >= SCRATCH_SIZE || /* cannot happen (CAPTURE_AREA, TL_STASH_DATA) */
      bpf_ringbuf_output(&events, data, mask_for_verifier(size, SCRATCH_SIZE - 1), submit_flags(counters_p)) != 0) {
    if (loses == LOSES_RESULT)
      counters_p->results_lost++;
    if (loses == LOSES_CALL || taken)
      tl_count_loss(cgroup_id, loses == LOSES_CALL, taken);
    return -1;
  }
  return 0;
}

/* data_len is always below TL_STASH_DATA; the mask shows it to the verifier. */
static __always_inline __u32 stash_len(const struct tl_stash *st)
{
  return mask_for_verifier(st->data_len, TL_STASH_DATA - 1);
}

static __always_inline void fill_enter(struct tl_enter_record *rec, __u32 nr, __u64 cgroup_id,
                                       struct pt_regs *regs, int btf)
{
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  rec->head.ncaptures = 0;
  rec->head.pad0 = 0;
  rec->nr = nr;
  rec->cpu = bpf_get_smp_processor_id();
  rec->pid = pid_tgid >> 32;
  rec->tid = (__u32)pid_tgid;
  rec->ts = bpf_ktime_get_boot_ns();
  rec->cgroup_id = cgroup_id;
  read_args(regs, rec->args, btf);
  if (nr == NR_RT_SIGRETURN)
    rec->args[0] = read_user_sp(regs, btf) + sigreturn_mask_at_sp;
  read_comm(rec->comm, btf);
}

/* A held call sent as an enter record: its exit will not come (user space
 * shows it unfinished). Rare: a thread's store says "in flight" while the
 * same thread enters another call or leaves a different one. */
static __always_inline void send_held_enter(struct tl_stash *st, struct tl_cpu_counters *counters_p)
{
  if (!plan_of(st->rec.enter.nr)->traced) /* the filter changed since: as at its exit */
    return;
  struct scratch *s = this_cpu_scratch();
  if (!s)
    return;
  __u32 len = stash_len(st);
  struct tl_enter_record *rec = (struct tl_enter_record *)s->buf;
  if (bpf_probe_read_kernel(rec, sizeof(*rec), &st->rec.enter) != 0)
    return;
  if (len && bpf_probe_read_kernel(s->buf + sizeof(*rec), len, st->data) != 0)
    return;
  __u32 size = sizeof(*rec) + len;
  rec->head.type = TL_RECORD_ENTER;
  rec->head.size = size;
  send(s->buf, size, &rec->lost_before, counters_p, rec->cgroup_id, LOSES_CALL);
}

static __always_inline int on_enter(struct pt_regs *regs, long id, int btf)
{
  __u64 cgroup_id = bpf_get_current_cgroup_id();
  if (!is_traced_cgroup(cgroup_id)) /* first: untraced tasks pay only this */
    return 0;
  __u32 nr = id;
  const struct tl_plan *plan;
  struct tl_cpu_counters *counters_p;
  if (!traced_syscall(nr, &plan, &counters_p))
    return 0;

  struct tl_stash *st = 0;
  if (!plan->never_returns) {
    st = bpf_task_storage_get(&calls, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (st && st->state == TL_STASH_HELD)
      send_held_enter(st, counters_p);
  }

  if (st) {
    fill_enter(&st->rec.enter, nr, cgroup_id, regs, btf);
    st->data_len = 0;
    st->retry_mask = 0;
    if (!plan->entry_captures) { /* the common case: the entry stays in the store, no record */
      st->state = TL_STASH_HELD;
      return 0;
    }
    /* Entry data: read into the scratch buffer where an enter record would
     * have them, then kept in the store when they fit. */
    struct scratch *s = this_cpu_scratch();
    if (!s)
      return 0;
    s->ncaptures = 0;
    s->failed_captures = 0;
    for (int i = 0; i < TL_ARGS; i++)
      s->args[i] = st->rec.enter.args[i];
    __u32 size = tl_put_captures(sizeof(struct tl_enter_record), nr, TL_WHEN_ENTRY, 0);
    __u32 data_len = size - sizeof(struct tl_enter_record);
    st->rec.enter.head.ncaptures = s->ncaptures;
    st->retry_mask = s->failed_captures;
    if (data_len < TL_STASH_DATA &&
        (data_len == 0 || bpf_probe_read_kernel(st->data, mask_for_verifier(data_len, TL_STASH_DATA - 1),
                                                s->buf + sizeof(struct tl_enter_record)) == 0)) {
      st->data_len = data_len;
      st->state = TL_STASH_HELD;
      return 0;
    }
    /* too much to keep: the enter record goes now, the exit pairs with it */
    struct tl_enter_record *rec = (struct tl_enter_record *)s->buf;
    if (bpf_probe_read_kernel(rec, sizeof(*rec), &st->rec.enter) != 0)
      return 0;
    rec->head.type = TL_RECORD_ENTER;
    rec->head.size = size;
    /* a lost enter record loses the whole call: its exit sends nothing */
    st->state = send(s->buf, size, &rec->lost_before, counters_p, cgroup_id, LOSES_CALL) == 0 ? TL_STASH_SENT
                                                                                             : TL_STASH_IDLE;
    return 0;
  }

  /* No store (a call that never returns, or the store could not be
   * allocated): the enter record is built in the scratch buffer. */
  struct scratch *s = this_cpu_scratch();
  if (!s)
    return 0;
  s->ncaptures = 0;
  s->failed_captures = 0;
  struct tl_enter_record *rec = (struct tl_enter_record *)s->buf;
  fill_enter(rec, nr, cgroup_id, regs, btf);
  rec->head.type = TL_RECORD_ENTER;
  __u32 size = sizeof(*rec);
  if (plan->entry_captures) {
    for (int i = 0; i < TL_ARGS; i++)
      s->args[i] = rec->args[i];
    size = tl_put_captures(size, nr, TL_WHEN_ENTRY, 0);
  }
  rec->head.ncaptures = s->ncaptures;
  rec->head.size = size;
  send(s->buf, size, &rec->lost_before, counters_p, cgroup_id, LOSES_CALL);
  return 0;
}

/* The exit of a call whose enter record went to the ring (or of a thread
 * without a store): an exit record, paired by user space. */
static __always_inline void send_exit(struct pt_regs *regs, __u32 nr, long ret, __u64 cgroup_id,
                                      const struct tl_plan *plan, __u8 retry_mask,
                                      struct tl_cpu_counters *counters_p, int btf)
{
  struct scratch *s = this_cpu_scratch();
  if (!s)
    return;
  s->ncaptures = 0;
  struct tl_exit_record *rec = (struct tl_exit_record *)s->buf;
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  rec->head.type = TL_RECORD_EXIT;
  rec->head.pad0 = 0;
  rec->nr = nr;
  rec->cpu = bpf_get_smp_processor_id();
  rec->pid = pid_tgid >> 32;
  rec->tid = (__u32)pid_tgid;
  rec->ts = bpf_ktime_get_boot_ns();
  rec->cgroup_id = cgroup_id;
  rec->ret = ret;
  __u32 size = sizeof(*rec);
  if (plan->exit_captures && !is_error(ret)) {
    read_args(regs, s->args, btf);
    size = tl_put_captures(size, nr, TL_WHEN_EXIT, ret);
  }
  if (retry_mask) {
    read_args(regs, s->args, btf);
    size = tl_put_retried(size, nr, retry_mask);
  }
  rec->head.ncaptures = s->ncaptures;
  rec->head.size = size;
  send(s->buf, size, &rec->lost_before, counters_p, cgroup_id, LOSES_RESULT);
}

/* The exit starts from the thread's store, not from the cgroup filter: a
 * traced call left its entry there, so the filter's answer (a hash lookup
 * under the daemon) is already known, and a task that was never traced has
 * no store at all, which the lookup tells at once. */
/* A task without any task storage (every task never traced, unless another
 * BPF tool gave it some) is told apart with one load instead of a helper
 * call; with a trusted task pointer only (tp_btf). */
static __always_inline int has_no_task_storage(int btf)
{
  if (!btf)
    return 0;
  struct task_struct *task = bpf_get_current_task_btf();
  return task->bpf_storage == 0;
}

/* The failed entry captures worth reading again at exit: none after a
 * successful exec, whose old memory is gone (the same addresses now hold the
 * new program's data). */
static __always_inline __u8 retry_mask_at_exit(const struct tl_stash *st, const struct tl_plan *plan, long ret)
{
  if (plan->replaces_memory && ret == 0)
    return 0;
  return st->retry_mask;
}

static __always_inline int on_exit(struct pt_regs *regs, long ret, int btf)
{
  if (has_no_task_storage(btf))
    return 0;
  struct tl_stash *st = bpf_task_storage_get(&calls, bpf_get_current_task_btf(), 0, 0);
  if (!st)
    return 0;
  __u8 state = st->state;
  if (state == TL_STASH_IDLE) {
    /* No entry seen: a new thread's first return, a call begun before the
     * start, or a task no longer traced (a container traced from its
     * cgroup's birth until its runtime named it, then left out). The last
     * loses its store, so that its later exits stop at the first check. */
    if (!is_traced_cgroup(bpf_get_current_cgroup_id()))
      bpf_task_storage_delete(&calls, bpf_get_current_task_btf());
    return 0;
  }
  __u32 zero = 0;
  struct tl_cpu_counters *counters_p = bpf_map_lookup_elem(&counters, &zero);
  if (!counters_p)
    return 0;
  st->state = TL_STASH_IDLE;
  __u32 nr = read_nr(regs, btf);
  /* rt_sigreturn leaves with the context it restored, which has no syscall
   * number (-1: no restart) */
  if (nr == (__u32)-1 && st->rec.enter.nr == NR_RT_SIGRETURN)
    nr = NR_RT_SIGRETURN;
  if (st->rec.enter.nr != nr || nr >= TL_MAX_SYSCALLS) { /* the held call never returned; this exit has no entry */
    if (state == TL_STASH_HELD)
      send_held_enter(st, counters_p);
    return 0;
  }
  const struct tl_plan *plan = plan_of(nr);
  /* A held call whose syscall the filter no longer records (it changed
   * while the call was in flight, or the task's container was chosen again
   * under another filter) ends unrecorded: nothing of it was sent. One whose
   * enter record was sent is completed, so that no enter waits for ever. */
  if (state == TL_STASH_HELD && !plan->traced)
    return 0;
  if (state == TL_STASH_SENT) {
    send_exit(regs, nr, ret, st->rec.enter.cgroup_id, plan, retry_mask_at_exit(st, plan, ret), counters_p, btf);
    return 0;
  }

  struct tl_call_record *rec = &st->rec;
  rec->enter.head.type = TL_RECORD_CALL;
  rec->exit_ts = bpf_ktime_get_boot_ns();
  rec->ret = ret;
  rec->exit_cpu = bpf_get_smp_processor_id();
  rec->pad0 = 0;
  __u32 data_len = stash_len(st);
  __u8 retry_mask = retry_mask_at_exit(st, plan, ret);
  int exit_data = plan->exit_captures && !is_error(ret);
  if (!exit_data && !retry_mask) { /* sent from the store as it is */
    __u32 size = sizeof(*rec) + data_len;
    rec->enter.head.size = size;
    send(rec, size, &rec->enter.lost_before, counters_p, rec->enter.cgroup_id, LOSES_CALL);
    return 0;
  }
  /* Exit data: the record is assembled in the scratch buffer. */
  struct scratch *s = this_cpu_scratch();
  if (!s)
    return 0;
  __u32 size = sizeof(*rec) + data_len;
  if (bpf_probe_read_kernel(s->buf, size, rec) != 0)
    return 0;
  s->ncaptures = 0;
  for (int i = 0; i < TL_ARGS; i++)
    s->args[i] = rec->enter.args[i];
  if (exit_data)
    size = tl_put_captures(size, nr, TL_WHEN_EXIT, ret);
  if (retry_mask)
    size = tl_put_retried(size, nr, retry_mask);
  struct tl_call_record *out = (struct tl_call_record *)s->buf;
  out->enter.head.ncaptures += s->ncaptures;
  out->enter.head.size = size;
  send(s->buf, size, &out->enter.lost_before, counters_p, out->enter.cgroup_id, LOSES_CALL);
  return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(tl_sys_enter_btf, struct pt_regs *regs, long id)
{
  return on_enter(regs, id, 1);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(tl_sys_exit_btf, struct pt_regs *regs, long ret)
{
  return on_exit(regs, ret, 1);
}

SEC("raw_tracepoint/sys_enter")
int tl_sys_enter_raw(struct bpf_raw_tracepoint_args *ctx)
{
  return on_enter((struct pt_regs *)ctx->args[0], (long)ctx->args[1], 0);
}

SEC("raw_tracepoint/sys_exit")
int tl_sys_exit_raw(struct bpf_raw_tracepoint_args *ctx)
{
  return on_exit((struct pt_regs *)ctx->args[0], (long)ctx->args[1], 0);
}

/* TL_FILTER_PIDS: a traced process's new child process is traced from its
 * birth (a new thread needs nothing: its process is traced already). Loaded
 * in that mode only: the other modes pay nothing at fork. */
static __always_inline void trace_child(__u32 parent_tgid, __u32 child_tgid)
{
  if (parent_tgid == child_tgid || !bpf_map_lookup_elem(&traced_tgids, &parent_tgid))
    return;
  __u8 one = 1;
  bpf_map_update_elem(&traced_tgids, &child_tgid, &one, BPF_ANY);
}

/* TL_FILTER_PIDS: a process leaves the set when its last thread exits
 * (signal->live reached 0 before this tracepoint); its id is not reused
 * before its parent reaps it, later. */
static __always_inline void untrace_exited(__u32 tgid, int live)
{
  if (live == 0)
    bpf_map_delete_elem(&traced_tgids, &tgid);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(tl_pid_fork_btf, struct task_struct *parent, struct task_struct *child)
{
  trace_child(BPF_CORE_READ(parent, tgid), BPF_CORE_READ(child, tgid));
  return 0;
}

SEC("raw_tracepoint/sched_process_fork")
int tl_pid_fork_raw(struct bpf_raw_tracepoint_args *ctx)
{
  struct task_struct *parent = (struct task_struct *)ctx->args[0];
  struct task_struct *child = (struct task_struct *)ctx->args[1];
  trace_child(BPF_CORE_READ(parent, tgid), BPF_CORE_READ(child, tgid));
  return 0;
}

/* ---- signals and task exits: rare next to calls, one record each, built in
 * the scratch buffer and sent by the same send() (losses counted as calls). ---- */

/* The thread's identity fields shared by both records. */
#define FILL_TASK_FIELDS(rec, cgroup_id, btf)                 \
  do {                                                        \
    __u64 pid_tgid = bpf_get_current_pid_tgid();              \
    (rec)->head.ncaptures = 0;                                \
    (rec)->head.pad0 = 0;                                     \
    (rec)->head.size = sizeof(*(rec));                        \
    (rec)->cpu = bpf_get_smp_processor_id();                  \
    (rec)->pid = pid_tgid >> 32;                              \
    (rec)->tid = (__u32)pid_tgid;                             \
    (rec)->ts = bpf_ktime_get_boot_ns();                      \
    (rec)->cgroup_id = (cgroup_id);                           \
    read_comm((rec)->comm, (btf));                            \
  } while (0)

/* One signal notice of the current thread, its siginfo read from `info`
 * (kernel memory: the kernel's siginfo, or a fatal_signals entry). */
static __always_inline void send_signal_notice(int sig, const void *info, __u64 cgroup_id, int btf)
{
  struct tl_cpu_counters *counters_p = this_cpu_counters();
  struct scratch *s = this_cpu_scratch();
  if (!counters_p || !s)
    return;
  struct tl_signal_record *rec = (struct tl_signal_record *)s->buf;
  rec->head.type = TL_RECORD_SIGNAL;
  FILL_TASK_FIELDS(rec, cgroup_id, btf);
  rec->signo = sig;
  if (bpf_probe_read_kernel(rec->siginfo, sizeof(rec->siginfo), info) != 0)
    __builtin_memset(rec->siginfo, 0, sizeof(rec->siginfo));
  send(rec, sizeof(*rec), &rec->lost_before, counters_p, cgroup_id, LOSES_RESULT);
}

/* signal_deliver runs in the thread that takes the signal, before its
 * handler or default action. */
static __always_inline int on_signal(int sig, const void *info, int btf)
{
  __u64 cgroup_id = bpf_get_current_cgroup_id();
  if (!is_traced_cgroup(cgroup_id))
    return 0;
  if (!info) /* SEND_SIG_NOINFO: a group's exit, see struct tl_signal_record */
    return 0;
  send_signal_notice(sig, info, cgroup_id, btf);
  return 0;
}

/* ---- fatal signals that are never delivered ----
 *
 * A signal whose default action kills without a core, sent to a process
 * that neither handles nor blocks it (and is not ptraced), is never
 * delivered: complete_signal() takes a short-cut when the signal is sent
 * (the group's exit starts, SIGKILL is queued to every thread) and
 * signal_deliver then sees SIGKILL without siginfo. strace, whose ptrace
 * turns the short-cut off, shows `--- SIGTERM {...} ---` before `+++ killed
 * by SIGTERM +++`. signal_generate runs in the sender, after
 * complete_signal(); it keeps the signal here, keyed by the thread that
 * would have taken it, and that thread's end (sched_process_exit, after the
 * syscall it was in returned) sends the notice just before its exit
 * record: the order strace shows. */
struct tl_fatal_signal {
  __u64 task;       /* the thread's task_struct: a tid reused later does not match */
  __u32 signo;
  __u32 pad0;
  __u8 siginfo[TL_SIGINFO_BYTES];
};

/* Each entry lives from the signal's sending to its thread's end, a few
 * microseconds; a full map loses the notice (counted in results_lost). */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, struct tl_fatal_signal);
} fatal_signals SEC(".maps");

/* Whether `task` (not the current task) is traced: the same filter as
 * is_traced_cgroup, on the task's own cgroup (the one
 * bpf_get_current_cgroup_id gives when it runs) or process. */
static __always_inline int is_traced_task(struct task_struct *task)
{
  if (filter_mode == TL_FILTER_ALL)
    return 1;
  if (filter_mode == TL_FILTER_PIDS) {
    __u32 tgid = BPF_CORE_READ(task, tgid);
    return bpf_map_lookup_elem(&traced_tgids, &tgid) != 0;
  }
  return cgroup_in_traced_set(BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id));
}

#define SIGKILL_NR 9 /* the same on every architecture */

/* `task` is the target found by the sender; `group`: a process-directed
 * signal. This runs for every signal on the host: the cheapest and most
 * selective tests first (a few compares, then two loads that almost every
 * signal fails), the target's filter after them. */
static __always_inline int on_signal_generate(int sig, const void *info, struct task_struct *task, int group,
                                              int result, int btf)
{
  /* A signal that was queued (not ignored, not already pending) and is not
   * SIGKILL (strace shows no line for it either). */
  if (result != TRACE_SIGNAL_DELIVERED || sig == SIGKILL_NR || sig < 1 || sig > 64)
    return 0;
  /* The short-cut was taken just now: it set the group's exit code to this
   * signal. prepare_signal() drops every signal to a group whose exit has
   * begun (the result is then not DELIVERED), so the code was not set by an
   * earlier exit; a signal handled, blocked by every thread that could take
   * it, ignored, stopping, dumping core, or sent to a ptraced process leaves
   * it unset. The kernel's own decision, read instead of re-derived from
   * its signal sets, handlers and masks. tp_btf: direct loads. */
  struct signal_struct *signal = btf ? task->signal : BPF_CORE_READ(task, signal);
  int exit_code = btf ? signal->group_exit_code : BPF_CORE_READ(signal, group_exit_code);
  if (exit_code != sig)
    return 0;
  if (!is_traced_task(task))
    return 0;
  /* The thread complete_signal() chose, the one that would have dequeued
   * it: the target itself, unless it blocks the signal or has ended (a
   * leader gone before its threads, a zombie: exit_state set); a
   * process-directed signal then goes to signal->curr_target, which the
   * search just set. */
  struct task_struct *taker = task;
  if (group && ((BPF_CORE_READ(task, blocked.sig[0]) & (1ull << ((sig - 1) & 63))) || BPF_CORE_READ(task, exit_state)))
    taker = BPF_CORE_READ(signal, curr_target);
  /* on the stack: this may run in an interrupt (a timer's SIGALRM) over
   * another program that holds this CPU's scratch buffer */
  struct tl_fatal_signal entry;
  struct tl_fatal_signal *f = &entry;
  f->task = (__u64)taker;
  f->signo = sig;
  f->pad0 = 0;
  /* The siginfo the thread would have dequeued: the queue entry just added
   * at the tail of the pending list (pid and uid as the target's namespaces
   * see them). Without one (no memory for it), the sender's siginfo. */
  struct sigpending *pending = group ? &signal->shared_pending : &task->pending;
  struct list_head *last = BPF_CORE_READ(pending, list.prev);
  struct sigqueue *q = (struct sigqueue *)((void *)last - bpf_core_field_offset(struct sigqueue, list));
  if (last != &pending->list && BPF_CORE_READ(q, info.si_signo) == sig) {
    if (bpf_probe_read_kernel(f->siginfo, sizeof(f->siginfo), &q->info) != 0)
      return 0;
  } else if ((__u64)info > 1) { /* not SEND_SIG_NOINFO or SEND_SIG_PRIV */
    if (bpf_probe_read_kernel(f->siginfo, sizeof(f->siginfo), info) != 0)
      return 0;
  } else {
    return 0;
  }
  __u32 tid = BPF_CORE_READ(taker, pid);
  if (bpf_map_update_elem(&fatal_signals, &tid, f, BPF_ANY) != 0) {
    struct tl_cpu_counters *counters_p = this_cpu_counters();
    if (counters_p)
      counters_p->results_lost++;
  }
  return 0;
}

/* The current thread ends: the fatal signal kept for it, if any, as its
 * notice. */
static __always_inline void send_fatal_signal(__u64 cgroup_id, int btf)
{
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct tl_fatal_signal *f = bpf_map_lookup_elem(&fatal_signals, &tid);
  if (!f)
    return;
  if (f->task == bpf_get_current_task())
    send_signal_notice(f->signo, f->siginfo, cgroup_id, btf);
  bpf_map_delete_elem(&fatal_signals, &tid);
}

/* sched_process_exit runs in the ending thread, after do_exit() set its
 * exit_code and counted it out of its group's live threads. */
static __always_inline int on_task_exit(struct task_struct *task, int btf)
{
  __u64 cgroup_id = bpf_get_current_cgroup_id();
  if (!is_traced_cgroup(cgroup_id))
    return 0;
  send_fatal_signal(cgroup_id, btf);
  struct tl_cpu_counters *counters_p = this_cpu_counters();
  struct scratch *s = this_cpu_scratch();
  if (!counters_p || !s)
    return 0;
  struct tl_task_exit_record *rec = (struct tl_task_exit_record *)s->buf;
  rec->head.type = TL_RECORD_TASK_EXIT;
  FILL_TASK_FIELDS(rec, cgroup_id, btf);
  rec->exit_code = BPF_CORE_READ(task, exit_code);
  /* the tracepoint's own group_dead argument is newer than the programs'
   * oldest kernels; the count it comes from is not */
  rec->group_dead = BPF_CORE_READ(task, signal, live.counter) == 0;
  __builtin_memset(rec->pad0, 0, sizeof(rec->pad0));
  send(rec, sizeof(*rec), &rec->lost_before, counters_p, cgroup_id, LOSES_RESULT);
  /* after its record: the process's end is its last traced event */
  if (filter_mode == TL_FILTER_PIDS)
    untrace_exited(rec->pid, !rec->group_dead);
  return 0;
}

SEC("tp_btf/signal_deliver")
int BPF_PROG(tl_signal_btf, int sig, struct kernel_siginfo *info)
{
  return on_signal(sig, info, 1);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(tl_task_exit_btf, struct task_struct *task)
{
  return on_task_exit(task, 1);
}

SEC("raw_tracepoint/signal_deliver")
int tl_signal_raw(struct bpf_raw_tracepoint_args *ctx)
{
  return on_signal((int)ctx->args[0], (const void *)ctx->args[1], 0);
}

SEC("tp_btf/signal_generate")
int BPF_PROG(tl_signal_generate_btf, int sig, struct kernel_siginfo *info, struct task_struct *task, int group,
             int result)
{
  return on_signal_generate(sig, info, task, group, result, 1);
}

SEC("raw_tracepoint/signal_generate")
int tl_signal_generate_raw(struct bpf_raw_tracepoint_args *ctx)
{
  return on_signal_generate((int)ctx->args[0], (const void *)ctx->args[1], (struct task_struct *)ctx->args[2],
                            (int)ctx->args[3], (int)ctx->args[4], 0);
}

SEC("raw_tracepoint/sched_process_exit")
int tl_task_exit_raw(struct bpf_raw_tracepoint_args *ctx)
{
  return on_task_exit((struct task_struct *)ctx->args[0], 0);
}

/* The calls in flight, for user space: one enter record per thread whose
 * store holds a call (read through an iterator link, see the header). */
SEC("iter/task")
int tl_in_flight(struct bpf_iter__task *ctx)
{
  struct task_struct *task = ctx->task;
  if (!task)
    return 0;
  struct tl_stash *st = bpf_task_storage_get(&calls, task, 0, 0);
  if (!st || st->state != TL_STASH_HELD)
    return 0;
  /* as its exit would: a syscall the filter no longer records is not shown */
  if (st->rec.enter.nr >= TL_MAX_SYSCALLS || !plan_of(st->rec.enter.nr)->traced)
    return 0;
  struct tl_enter_record rec = st->rec.enter;
  __u32 len = stash_len(st);
  rec.head.type = TL_RECORD_ENTER;
  rec.head.size = sizeof(rec) + len;
  rec.lost_before = 0;
  struct seq_file *seq = ctx->meta->seq;
  bpf_seq_write(seq, &rec, sizeof(rec));
  if (len)
    bpf_seq_write(seq, st->data, len);
  return 0;
}

/* For user space, through BPF_PROG_TEST_RUN (see struct tl_take_losses_ctx):
 * a cgroup's losses that no record reported. The same atomic take as a
 * record's, so that a loss is reported once, by a record or by this. */
SEC("syscall")
int tl_take_losses(struct tl_take_losses_ctx *ctx)
{
  __u64 cgroup_id = ctx->cgroup_id;
  struct tl_cgroup_losses *e = bpf_map_lookup_elem(&lost_per_cgroup, &cgroup_id);
  if (!e) {
    ctx->taken = 0;
    ctx->total = 0;
    return 0;
  }
  ctx->taken = take_unreported(e);
  ctx->total = e->lost_total;
  if (ctx->forget)
    bpf_map_delete_elem(&lost_per_cgroup, &cgroup_id);
  return 0;
}
