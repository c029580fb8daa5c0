/* Minimal kernel types for traceloop.bpf.c, used when the build machine has
 * no /sys/kernel/btf/vmlinux. CO-RE relocations (preserve_access_index) adapt
 * the field offsets to the running kernel at load time. */
#ifndef __VMLINUX_MIN_H__
#define __VMLINUX_MIN_H__

typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
enum { false = 0, true = 1 };

enum bpf_map_type {
  BPF_MAP_TYPE_HASH = 1,
  BPF_MAP_TYPE_ARRAY = 2,
  BPF_MAP_TYPE_PERCPU_ARRAY = 6,
  BPF_MAP_TYPE_RINGBUF = 27,
  BPF_MAP_TYPE_TASK_STORAGE = 29,
};

enum {
  BPF_F_NO_PREALLOC = 1,
};

/* The signal_generate tracepoint's result. */
enum trace_signal_deliver {
  TRACE_SIGNAL_DELIVERED = 0,
};

enum {
  BPF_LOCAL_STORAGE_GET_F_CREATE = 1,
};

enum {
  BPF_ANY = 0,
  BPF_NOEXIST = 1,
  BPF_EXIST = 2,
};

enum {
  BPF_RB_NO_WAKEUP = 1,
  BPF_RB_FORCE_WAKEUP = 2,
};

enum {
  BPF_RB_AVAIL_DATA = 0,
  BPF_RB_RING_SIZE = 1,
  BPF_RB_CONS_POS = 2,
  BPF_RB_PROD_POS = 3,
};

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

#if defined(__TARGET_ARCH_x86)
struct pt_regs {
  unsigned long r15;
  unsigned long r14;
  unsigned long r13;
  unsigned long r12;
  unsigned long bp;
  unsigned long bx;
  unsigned long r11;
  unsigned long r10;
  unsigned long r9;
  unsigned long r8;
  unsigned long ax;
  unsigned long cx;
  unsigned long dx;
  unsigned long si;
  unsigned long di;
  unsigned long orig_ax;
  unsigned long ip;
  unsigned long cs;
  unsigned long flags;
  unsigned long sp;
  unsigned long ss;
};
#elif defined(__TARGET_ARCH_arm64)
struct user_pt_regs {
  __u64 regs[31];
  __u64 sp;
  __u64 pc;
  __u64 pstate;
};
struct pt_regs {
  union {
    struct user_pt_regs user_regs;
    struct {
      __u64 regs[31];
      __u64 sp;
      __u64 pc;
      __u64 pstate;
    };
  };
  __u64 orig_x0;
  __s32 syscallno;
  __u32 unused2;
};
#endif

/* Only the fields the programs read: comm (read_comm), bpf_storage
 * (has_no_task_storage), tgid (the processes traced by thread group id),
 * exit_code and signal->live (task exits); for a fatal signal's sending
 * (on_signal_generate): the target's pid, blocked mask, pending queues,
 * cgroup, exit state and group exit code. */
struct bpf_local_storage;
typedef struct {
  int counter;
} atomic_t;
struct list_head {
  struct list_head *next;
  struct list_head *prev;
};
typedef struct {
  unsigned long sig[1];
} sigset_t;
struct sigpending {
  struct list_head list;
  sigset_t signal;
};
struct kernel_siginfo {
  int si_signo;
  int si_errno;
  int si_code;
};
typedef struct kernel_siginfo kernel_siginfo_t;
struct sigqueue {
  struct list_head list;
  int flags;
  kernel_siginfo_t info;
};
struct kernfs_node {
  __u64 id;
};
struct cgroup {
  struct kernfs_node *kn;
};
struct css_set {
  struct cgroup *dfl_cgrp;
};
struct task_struct;
struct signal_struct {
  atomic_t live;
  struct task_struct *curr_target;
  struct sigpending shared_pending;
  int group_exit_code;
};
struct task_struct {
  char comm[16];
  struct bpf_local_storage *bpf_storage;
  int pid;
  int tgid;
  int exit_state;
  int exit_code;
  struct signal_struct *signal;
  sigset_t blocked;
  struct sigpending pending;
  struct css_set *cgroups;
};

struct bpf_raw_tracepoint_args {
  __u64 args[0];
};

/* The task iterator's context (in-flight calls, read by user space). */
struct seq_file;
struct bpf_iter_meta {
  struct seq_file *seq;
  __u64 session_id;
  __u64 seq_num;
};
struct bpf_iter__task {
  struct bpf_iter_meta *meta;
  struct task_struct *task;
};

#pragma clang attribute pop

#endif /* __VMLINUX_MIN_H__ */
