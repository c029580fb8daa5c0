// SPDX-License-Identifier: GPL-2.0
/* The floor of the recorder benchmark: sys_enter/sys_exit BTF tracepoint
 * programs that do nothing. What a traced program pays under them is what
 * merely having hooks costs; the recorder's own work is measured above it. */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sys_enter")
int BPF_PROG(tl_floor_enter, struct pt_regs *regs, long id)
{
  return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(tl_floor_exit, struct pt_regs *regs, long ret)
{
  return 0;
}
