#!/bin/sh
# The daemon under a busy container, and its memory under many containers.
#  1. a static program in a runc container (busybox-static rootfs) calls
#     getppid (or writes 64 bytes to /dev/null) at a set rate for SECONDS;
#     per rate and per-container budget: the rate reached, the records lost
#     (ring full), the daemon's CPU (% of one core, and per 100k syscalls/s);
#  2. memory: 100 mostly idle containers alive and 6 busy ones under
#     --budget-total 8M; the daemon's peak RSS against that budget.
#   usage: bench/recorder/daemon/daemon_rate_bench.sh BUILD_DIR
#   env: SECONDS_RATE (20), RATES ("200000 500000 700000 1000000 0", 0: unlimited),
#        BUDGETS ("4M 64M"), LATER_RATES ("700000 1000000 0", at the budgets after the first),
#        WRITE_RATES ("1000000 0", at the first budget),
#        IDLE (100), BUSY (6), MEMORY_SECONDS (SECONDS_RATE), TL_CLI (traceloop-record),
#        MEMORY_OPTIONS (more daemon options for 2., e.g. "--budget-per-container 64M")
# Needs root (BPF), runc and busybox-static.
set -eu

BUILD=${1:?usage: $0 BUILD_DIR}
SECS=${SECONDS_RATE:-20}
RATES=${RATES-"200000 500000 700000 1000000 0"}
BUDGETS=${BUDGETS-"4M 64M"}
LATER_RATES=${LATER_RATES-"700000 1000000 0"}
WRITE_RATES=${WRITE_RATES-"1000000 0"}
IDLE=${IDLE:-100}
BUSY=${BUSY:-6}
MEMORY_SECONDS=${MEMORY_SECONDS:-$SECS}
SRC=$(cd "$(dirname "$0")/../../.." && pwd)
. "$SRC/bench/recorder/daemon/bench_lib.sh"
CLI=${TL_CLI:-"$BUILD/recorder/traceloop-record"}  # TL_CLI: another build's, to compare
STATS="$BUILD/tools/tl-stats"
PROG="$BUILD/bench/recorder/daemon/tl_bench_syscall_rate"
for f in "$CLI" "$STATS" "$PROG"; do
  [ -x "$f" ] || { echo "missing $f (build traceloop-record, tl-stats, tl_bench_syscall_rate)" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/tl-rate-bench-XXXXXX)
DAEMON=""
IDS=""
cleanup() {
  [ -n "$DAEMON" ] && kill -TERM "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
  for id in $IDS; do runc delete -f "$id" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

container_rootfs_with "$WORK" "$PROG"

rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
hwm_kib() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status"; }
HZ=$(getconf CLK_TCK)
N=0

# run_rate STATE_DIR MODE RATE BUDGET: one container at one rate, one result line.
run_rate() {
  N=$((N + 1))
  id="tlrate-$$-$N"
  T0=$(cpu_ticks "$DAEMON")
  S0=$(date +%s%N)
  "$SRC/scripts/demo_container.sh" --work "$WORK/c" "$id" -- /bin/tl_bench_syscall_rate "$2" "$3" "$SECS" \
    > "$WORK/out" 2>&1 || { cat "$WORK/out" >&2; return 1; }
  S1=$(date +%s%N)
  while [ ! -e "$1/$id.tl" ]; do sleep 0.05; done
  T1=$(cpu_ticks "$DAEMON")
  HELD=$("$CLI" list --dir "$1" | awk -v id="$id" '$5 == id { print $7 }')
  LOSS=$("$STATS" "$1/$id.tl" | sed -n 's/.*lost: \([0-9]*\) events (ring full), overwritten: \([0-9]*\).*/\1 \2/p')
  # An unreadable trace is a result too (-1: tl-stats said why above).
  set -- "$@" ${LOSS:-"-1 -1"}
  awk -v t="$((T1 - T0))" -v hz="$HZ" -v s0="$S0" -v s1="$S1" -v out="$(cat "$WORK/out")" \
      -v mode="$2" -v want="$3" -v budget="$4" -v held="$HELD" -v lost="$5" -v over="$6" 'BEGIN {
    split(out, kv, /[ =]/); calls = kv[2]; secs = kv[4]; rate = kv[6];
    wall = (s1 - s0) / 1e9; cpu = 100 * t / hz / wall;
    printf "%-7s %-6s %9s %10.0f %11d %10d %9d %6.1f%% %6.2f%%\n", mode, budget, want == 0 ? "max" : want, rate,
      calls, lost, held + over, cpu, cpu / (rate / 1e5) }'
  rm -f "$1/$id.tl"
}

echo "== 1. one busy container for ${SECS}s under the daemon"
echo "mode    budget      rate  achieved/s       calls       lost  recorded  daemon  per100k/s"
first=yes
for budget in $BUDGETS; do
  "$CLI" daemon --dir "$WORK/s-$budget" --budget-per-container "$budget" &
  DAEMON=$!
  wait_socket "$WORK/s-$budget/control.sock"
  rates=$RATES
  [ $first = yes ] || rates=$LATER_RATES
  for rate in $rates; do run_rate "$WORK/s-$budget" getppid "$rate" "$budget"; done
  if [ $first = yes ]; then
    for rate in $WRITE_RATES; do run_rate "$WORK/s-$budget" write "$rate" "$budget"; done
  fi
  first=no
  kill -TERM "$DAEMON"; wait "$DAEMON" || true; DAEMON=""
done
echo "(lost: ring full, from the trace's loss markers; recorded: kept + overwritten by the budget)"

echo "== 2. memory: $IDLE idle containers and $BUSY busy ones (getppid, unlimited, ${MEMORY_SECONDS}s), --budget-total 8M ${MEMORY_OPTIONS:-}"
# shellcheck disable=SC2086
"$CLI" daemon --dir "$WORK/m" --budget-total 8M ${MEMORY_OPTIONS:-} &
DAEMON=$!
wait_socket "$WORK/m/control.sock"
BASE=$(rss_kib "$DAEMON")
i=0
while [ $i -lt "$IDLE" ]; do
  i=$((i + 1))
  IDS="$IDS tlidle-$$-$i"
  "$SRC/scripts/demo_container.sh" --work "$WORK/c" --detach "tlidle-$$-$i" -- sh -c 'while :; do sleep 1; done' >/dev/null
done
IDLE_RSS=$(rss_kib "$DAEMON")
i=0
while [ $i -lt "$BUSY" ]; do
  i=$((i + 1))
  "$SRC/scripts/demo_container.sh" --work "$WORK/c" "tlbusy-$$-$i" -- \
    /bin/tl_bench_syscall_rate getppid 0 "$MEMORY_SECONDS" >/dev/null 2>&1 &
done
PEAK=0
end=$(($(date +%s) + MEMORY_SECONDS + 2))
while [ "$(date +%s)" -lt "$end" ]; do
  r=$(rss_kib "$DAEMON")
  [ "$r" -gt "$PEAK" ] && PEAK=$r
  sleep 0.2
done
wait_busy=0
while [ "$(ls "$WORK/m"/tlbusy-*.tl 2>/dev/null | wc -l)" -lt "$BUSY" ] && [ $wait_busy -lt 200 ]; do
  sleep 0.1; wait_busy=$((wait_busy + 1))
done
HWM=$(hwm_kib "$DAEMON")
awk -v base="$BASE" -v idle="$IDLE_RSS" -v peak="$PEAK" -v hwm="$HWM" -v n="$IDLE" 'BEGIN {
  printf "daemon RSS: started %.1f MiB, %d idle containers %.1f MiB, busy peak %.1f MiB (VmHWM %.1f MiB)\n",
    base / 1024, n, idle / 1024, peak / 1024, hwm / 1024;
  printf "budget-total 8.0 MiB: peak - budget = %.1f MiB of fixed overhead (ring, code, codecs)\n", hwm / 1024 - 8 }'
for id in $IDS; do runc delete -f "$id" >/dev/null 2>&1 || true; done
IDS=""
kill -TERM "$DAEMON"; wait "$DAEMON" || true; DAEMON=""
