#!/bin/sh
# Daemon benchmarks (SPEC "Performance targets"), figures from this one run:
#  1. history depth: syscalls of a typical shell workload kept per MiB of
#     container budget (history_depth_bench, synthetic workload);
#  2. the daemon's CPU while a real container (runc, busybox) runs an
#     open/read/close loop, and how many of its syscalls it recorded;
#  3. the open/read/close loop in an untraced host process, daemon off vs on
#     (while the container above is recorded), best of REPEAT alternating rounds;
#  4. daemon_rate_bench.sh: a container calling getppid or write at set rates
#     (loss, CPU per 100k syscalls/s), and the daemon's RSS with 100 idle and
#     6 busy containers against --budget-total.
#   usage: bench/recorder/daemon/daemon_bench.sh BUILD_DIR [LOOP_SECONDS]
# Needs root (BPF), runc and busybox-static.
set -eu

BUILD=${1:?usage: $0 BUILD_DIR [LOOP_SECONDS]}
SECONDS_LOOP=${2:-5}
REPEAT=${REPEAT:-3}
SRC=$(cd "$(dirname "$0")/../../.." && pwd)
. "$SRC/bench/recorder/daemon/bench_lib.sh"
DEPTH="$BUILD/bench/recorder/daemon/history_depth_bench"
CLI="$BUILD/recorder/traceloop-record"
LOOP="$BUILD/bench/recorder/tl_bench_open_read_close"
for f in "$DEPTH" "$CLI" "$LOOP"; do
  [ -x "$f" ] || { echo "missing $f (build history_depth_bench, traceloop-record, tl_bench_open_read_close)" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/tl-daemon-bench-XXXXXX)
DAEMON=""
cleanup() {
  [ -n "$DAEMON" ] && kill -TERM "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
  runc delete -f "tlbench-$$" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== 1. history depth per MiB of budget (synthetic shell workload)"
"$DEPTH" 1000000

# Waits for the daemon's socket; stops the benchmark if the daemon died.
loop_ns() { sed -n 's/.*loop_ns=\([0-9]*\).*/\1/p' | tail -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
min() { if [ -z "$1" ] || [ "$2" -lt "$1" ]; then echo "$2"; else echo "$1"; fi; }

echo "== 1b. history depth of a real container: 1 MiB budget, a shell running ls -l, bc, cat, find, sed in a loop"
"$CLI" daemon --dir "$WORK/depth" --budget-per-container 1M &
DAEMON=$!
wait_socket "$WORK/depth/control.sock"
"$SRC/scripts/demo_container.sh" --work "$WORK/c" "tldepth-$$" -- sh -c \
  'i=0; while [ $i -lt 150 ]; do ls -l /bin >/dev/null; echo "3*7*$i" | bc >/dev/null; cat /etc/passwd >/dev/null;
   find / -xdev -name "*sh*" >/dev/null 2>&1; sed -n 1p /etc/passwd >/dev/null; i=$((i+1)); done' >/dev/null 2>&1 || true
while [ ! -e "$WORK/depth/tldepth-$$.tl" ]; do sleep 0.05; done
KEPT=$("$CLI" list --dir "$WORK/depth" | awk -v id="tldepth-$$" '$5 == id { print $7 }')
echo "syscalls kept in 1 MiB: $KEPT (target >= 100000; older ones counted as overwritten)"
kill -TERM "$DAEMON"; wait "$DAEMON" || true; DAEMON=""

echo "== 2. daemon CPU while a container runs an open/read/close loop for ${SECONDS_LOOP}s"
"$CLI" daemon --dir "$WORK/state" --budget-per-container 4M &
DAEMON=$!
wait_socket "$WORK/state/control.sock"
HZ=$(getconf CLK_TCK)
T0=$(cpu_ticks "$DAEMON")
S0=$(date +%s%N)
# `read x < FILE` in busybox sh: open, read, close (plus a dup2 pair) per round.
"$SRC/scripts/demo_container.sh" --work "$WORK/c" "tlbench-$$" -- \
  sh -c "end=\$((\$(date +%s) + $SECONDS_LOOP)); n=0; while [ \$(date +%s) -lt \$end ]; do i=0; while [ \$i -lt 1000 ]; do read x < /etc/passwd; i=\$((i+1)); done; n=\$((n+1000)); done; echo rounds=\$n" \
  > "$WORK/rounds" 2>&1 || true
S1=$(date +%s%N)
while [ ! -e "$WORK/state/tlbench-$$.tl" ]; do sleep 0.05; done
T1=$(cpu_ticks "$DAEMON")
ROUNDS=$(sed -n 's/rounds=//p' "$WORK/rounds")
EVENTS=$("$CLI" list --dir "$WORK/state" | awk -v id="tlbench-$$" '$5 == id { print $7 }')
awk -v t="$((T1 - T0))" -v hz="$HZ" -v s0="$S0" -v s1="$S1" -v rounds="$ROUNDS" -v ev="$EVENTS" 'BEGIN {
  wall = (s1 - s0) / 1e9; cpu = t / hz;
  printf "container wall %.2f s, loop rounds %d, events kept in history %d\n", wall, rounds, ev;
  printf "daemon CPU %.2f s = %.1f%% of one core\n", cpu, 100 * cpu / wall }'
ls -l "$WORK/state/tlbench-$$.tl" | awk '{ print "published history: " $5 " bytes" }'

echo "== 3. untraced host process: open/read/close loop, daemon off vs on (recording a container that wakes every 50 ms)"
# The recorded container must not compete for the CPU itself (2 cores here):
# what is measured is what the daemon's BPF programs cost a process they do
# not trace.
kill -TERM "$DAEMON"; wait "$DAEMON" || true; DAEMON=""
A=""; B=""
i=0
while [ $i -lt "$REPEAT" ]; do
  A=$(min "$A" "$("$LOOP" 200000 | loop_ns)")
  "$CLI" daemon --dir "$WORK/state2" &
  DAEMON=$!
  wait_socket "$WORK/state2/control.sock"
  "$SRC/scripts/demo_container.sh" --work "$WORK/c" --detach "tlbench-$$" -- sh -c 'while :; do sleep 0.05; done'
  B=$(min "$B" "$("$LOOP" 200000 | loop_ns)")
  runc delete -f "tlbench-$$" >/dev/null 2>&1
  kill -TERM "$DAEMON"; wait "$DAEMON" || true; DAEMON=""
  rm -rf "$WORK/state2"
  i=$((i + 1))
done
echo "daemon off   ${A} ns"
echo "daemon on    ${B} ns   on/off = $(ratio "$B" "$A")   (target <= 1.1; empty sys_enter/sys_exit hooks alone cost about 1.15, see e2e_bench.sh)"

echo "== 4. syscall rates and memory (daemon_rate_bench.sh)"
sh "$SRC/bench/recorder/daemon/daemon_rate_bench.sh" "$BUILD"
