#!/bin/sh
# What containers the daemon did not choose pay: 10 busy runc containers
# (busybox-static rootfs, each a static program as fast as it can: calling
# getppid, the worst case, where the call is all the work; then reading 4 KiB
# of a file and hashing them, a service that computes between its calls), of
# which the daemon records 2 (--container busy-0,busy-1). Each round runs the
# 10 side by side, alternating:
#   off     no daemon;
#   hooks   empty sys_enter/sys_exit programs attached (tl_bench_empty_hooks):
#           the floor of any tracer that hooks every syscall on the host;
#   none    a daemon that chooses none of them (its BPF programs run for every
#           syscall on the host, the traced set stays empty: what any
#           sys_enter/sys_exit tracer costs);
#   chosen  the daemon recording busy-0 and busy-1.
# Printed: the 8 unchosen containers' calls per second of CPU in each mode
# (what a call costs them, whatever else shares the 2 cores; median of 8 x
# ROUNDS), their ratios to off, their calls per second of wall time, and the
# chosen pair's losses.
#   usage: bench/recorder/daemon/selection_bench.sh BUILD_DIR [SECONDS] [ROUNDS]
# Needs root (BPF), runc and busybox-static.
set -eu

BUILD=${1:?usage: $0 BUILD_DIR [SECONDS] [ROUNDS]}
SECS=${2:-4}
ROUNDS=${3:-3}
SRC=$(cd "$(dirname "$0")/../../.." && pwd)
. "$SRC/bench/recorder/daemon/bench_lib.sh"
CLI="$BUILD/recorder/traceloop-record"
STATS="$BUILD/tools/tl-stats"
PROG="$BUILD/bench/recorder/daemon/tl_bench_syscall_rate"
HOOKS="$BUILD/bench/recorder/tl_bench_empty_hooks"
for f in "$CLI" "$STATS" "$PROG" "$HOOKS"; do
  [ -x "$f" ] || { echo "missing $f (build traceloop-record, tl-stats, tl_bench_syscall_rate, tl_bench_empty_hooks)" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/tl-selection-bench-XXXXXX)
DAEMON=""
HOOKED=""
cleanup() {
  [ -n "$DAEMON" ] && kill -TERM "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
  [ -n "$HOOKED" ] && kill -TERM "$HOOKED" 2>/dev/null && wait "$HOOKED" 2>/dev/null
  for n in 0 1 2 3 4 5 6 7 8 9; do runc delete -f "tlsel-$$-$n" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

container_rootfs_with "$WORK" "$PROG"


# run_ten WORKLOAD MODE: the 10 containers side by side; the unchosen ones'
# rates appended to $WORK/WORKLOAD.MODE.rates (per CPU second) and .wall.
run_ten() {
  pids=""
  for n in 0 1 2 3 4 5 6 7 8 9; do
    "$SRC/scripts/demo_container.sh" --work "$WORK/c" --container "busy-$n" "tlsel-$$-$n" -- \
      /bin/tl_bench_syscall_rate "$1" 0 "$SECS" > "$WORK/out-$n" 2>&1 &
    pids="$pids $!"
  done
  for p in $pids; do wait "$p" || true; done
  for n in 2 3 4 5 6 7 8 9; do
    sed -n 's/.*cpu_rate=\([0-9.]*\).*/\1/p' "$WORK/out-$n" >> "$WORK/$1.$2.rates"
    sed -n 's/.* rate=\([0-9.]*\).*/\1/p' "$WORK/out-$n" >> "$WORK/$1.$2.wall"
  done
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for workload in getppid hash; do
  r=0
  while [ "$r" -lt "$ROUNDS" ]; do
    run_ten "$workload" off

    "$HOOKS" sh -c 'echo attached; exec sleep 3600' > "$WORK/hooks.out" &
    HOOKED=$!
    while ! grep -q attached "$WORK/hooks.out" 2>/dev/null; do
      kill -0 "$HOOKED" 2>/dev/null || { echo "the empty hooks did not load" >&2; HOOKED=""; exit 2; }
      sleep 0.05
    done
    run_ten "$workload" hooks
    pkill -TERM -P "$HOOKED" sleep 2>/dev/null || true
    wait "$HOOKED" || true; HOOKED=""

    "$CLI" daemon --dir "$WORK/none" --container none-of-them &
    DAEMON=$!
    wait_socket "$WORK/none/control.sock"
    run_ten "$workload" none
    kill -TERM "$DAEMON"; wait "$DAEMON" || true; DAEMON=""
    rm -rf "$WORK/none"

    "$CLI" daemon --dir "$WORK/chosen" --container busy-0,busy-1 &
    DAEMON=$!
    wait_socket "$WORK/chosen/control.sock"
    run_ten "$workload" chosen
    for n in 0 1; do
      while [ ! -e "$WORK/chosen/tlsel-$$-$n.tl" ]; do sleep 0.05; done
    done
    unchosen_files=$(ls "$WORK/chosen" | grep -c -E "^tlsel-$$-[2-9]\.tl$" || true)
    for n in 0 1; do
      "$STATS" "$WORK/chosen/tlsel-$$-$n.tl" | sed -n 's/.*lost: \([0-9]*\) events.*/\1/p' >> "$WORK/$workload.chosen.lost"
    done
    kill -TERM "$DAEMON"; wait "$DAEMON" || true; DAEMON=""
    rm -rf "$WORK/chosen"
    echo "$workload round $((r + 1)): histories of unchosen containers published: $unchosen_files (expected 0)"
    r=$((r + 1))
  done
done

for workload in getppid hash; do
  OFF=$(median < "$WORK/$workload.off.rates")
  HOOKED_RATE=$(median < "$WORK/$workload.hooks.rates")
  NONE=$(median < "$WORK/$workload.none.rates")
  CHOSEN=$(median < "$WORK/$workload.chosen.rates")
  echo "== $workload: the 8 unchosen containers, calls per second of their own CPU time (median of 8 x $ROUNDS)"
  awk -v off="$OFF" -v hooks="$HOOKED_RATE" -v none="$NONE" -v chosen="$CHOSEN" 'BEGIN {
    printf "  no daemon                          %10.0f\n", off;
    printf "  empty hooks (any tracer s floor)   %10.0f   slowdown %.3fx\n", hooks, off / hooks;
    printf "  daemon choosing none               %10.0f   slowdown %.3fx   vs empty hooks %.3fx\n", none, off / none, hooks / none;
    printf "  daemon recording 2 of the 10       %10.0f   slowdown %.3fx   vs empty hooks %.3fx   (target <= 1.05x)\n",
           chosen, off / chosen, hooks / chosen }'
  echo "  calls per second of wall time (10 busy containers share 2 cores): no daemon $(median < "$WORK/$workload.off.wall"), empty hooks $(median < "$WORK/$workload.hooks.wall"), daemon choosing none $(median < "$WORK/$workload.none.wall"), daemon recording 2 $(median < "$WORK/$workload.chosen.wall")"
  echo "  chosen containers' losses per round and container: $(tr '\n' ' ' < "$WORK/$workload.chosen.lost")"
done
