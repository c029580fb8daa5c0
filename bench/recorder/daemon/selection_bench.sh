#!/bin/sh
# What containers the daemon did not choose pay: 10 busy runc containers
# (busybox-static rootfs, each a static program calling getppid as fast as it
# can), of which the daemon records 2 (--container busy-0,busy-1). Each round
# runs the 10 side by side, alternating:
#   off     no daemon;
#   floor   a daemon that chooses none of them (its BPF programs run for every
#           syscall on the host, the traced set stays empty: what any
#           sys_enter/sys_exit tracer costs);
#   chosen  the daemon recording busy-0 and busy-1.
# Printed: the 8 unchosen containers' calls per second in each mode (median of
# ROUNDS), their ratios to off, and the chosen pair's losses.
#   usage: bench/recorder/daemon/selection_bench.sh BUILD_DIR [SECONDS] [ROUNDS]
# Needs root (BPF), runc and busybox-static.
set -eu

BUILD=${1:?usage: $0 BUILD_DIR [SECONDS] [ROUNDS]}
SECS=${2:-4}
ROUNDS=${3:-3}
SRC=$(cd "$(dirname "$0")/../../.." && pwd)
CLI="$BUILD/recorder/traceloop-record"
STATS="$BUILD/tools/tl-stats"
PROG="$BUILD/bench/recorder/daemon/tl_bench_syscall_rate"
for f in "$CLI" "$STATS" "$PROG"; do
  [ -x "$f" ] || { echo "missing $f (build traceloop-record, tl-stats, tl_bench_syscall_rate)" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/tl-selection-bench-XXXXXX)
DAEMON=""
cleanup() {
  [ -n "$DAEMON" ] && kill -TERM "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
  for n in 0 1 2 3 4 5 6 7 8 9; do runc delete -f "tlsel-$$-$n" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

"$SRC/scripts/demo_container.sh" --work "$WORK/c" --bundle-only "tlsel-$$-x" -- true
cp "$PROG" "$WORK/c/rootfs/bin/tl_bench_syscall_rate"

wait_socket() {
  while [ ! -S "$1" ]; do
    kill -0 "$DAEMON" 2>/dev/null || { echo "the daemon did not start" >&2; DAEMON=""; exit 2; }
    sleep 0.05
  done
}

# run_ten ROUND MODE: the 10 containers side by side; their rates in $WORK/MODE.rates
# (one line per unchosen container, appended), losses of the chosen in $WORK/MODE.lost.
run_ten() {
  pids=""
  for n in 0 1 2 3 4 5 6 7 8 9; do
    "$SRC/scripts/demo_container.sh" --work "$WORK/c" --container "busy-$n" "tlsel-$$-$n" -- \
      /bin/tl_bench_syscall_rate getppid 0 "$SECS" > "$WORK/out-$n" 2>&1 &
    pids="$pids $!"
  done
  for p in $pids; do wait "$p" || true; done
  for n in 2 3 4 5 6 7 8 9; do
    sed -n 's/.*rate=\([0-9.]*\).*/\1/p' "$WORK/out-$n" >> "$WORK/$2.rates"
  done
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

r=0
while [ "$r" -lt "$ROUNDS" ]; do
  run_ten "$r" off

  "$CLI" daemon --dir "$WORK/floor" --container none-of-them &
  DAEMON=$!
  wait_socket "$WORK/floor/control.sock"
  run_ten "$r" floor
  kill -TERM "$DAEMON"; wait "$DAEMON" || true; DAEMON=""
  rm -rf "$WORK/floor"

  "$CLI" daemon --dir "$WORK/chosen" --container busy-0,busy-1 &
  DAEMON=$!
  wait_socket "$WORK/chosen/control.sock"
  run_ten "$r" chosen
  for n in 0 1; do
    while [ ! -e "$WORK/chosen/tlsel-$$-$n.tl" ]; do sleep 0.05; done
  done
  unchosen_files=$(ls "$WORK/chosen" | grep -c -E "^tlsel-$$-[2-9]\.tl$" || true)
  for n in 0 1; do
    "$STATS" "$WORK/chosen/tlsel-$$-$n.tl" | sed -n 's/.*lost: \([0-9]*\) events.*/\1/p' >> "$WORK/chosen.lost"
  done
  kill -TERM "$DAEMON"; wait "$DAEMON" || true; DAEMON=""
  rm -rf "$WORK/chosen"
  echo "round $((r + 1)): histories of unchosen containers published: $unchosen_files (expected 0)"
  r=$((r + 1))
done

OFF=$(median < "$WORK/off.rates")
FLOOR=$(median < "$WORK/floor.rates")
CHOSEN=$(median < "$WORK/chosen.rates")
awk -v off="$OFF" -v floor="$FLOOR" -v chosen="$CHOSEN" 'BEGIN {
  printf "unchosen containers, getppid calls/s each (median of 8 x rounds):\n";
  printf "  no daemon                         %10.0f\n", off;
  printf "  daemon choosing none (the floor)  %10.0f   slowdown %.3fx\n", floor, off / floor;
  printf "  daemon recording 2 of the 10      %10.0f   slowdown %.3fx   vs the floor %.3fx   (target <= 1.05x)\n",
         chosen, off / chosen, floor / chosen }'
echo "chosen containers' losses per round and container: $(tr '\n' ' ' < "$WORK/chosen.lost")"
