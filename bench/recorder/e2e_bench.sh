#!/bin/sh
# End-to-end benchmark of `traceloop-record run` (SPEC "Performance targets"):
# every ratio is measured side by side in this one run.
#  1. start-up: what the kernel's verifier spent on each BPF program;
#  2. whole commands as a user times them (start, record, finish), paired
#     with strace -f and with the plain command;
#  3. trace file size against strace -f -s 256 text compressed by zstd -19;
#  4. inside the traced program: the loop's own time, plain, under empty
#     sys_enter/sys_exit programs (the floor) and recorded, in alternating
#     rounds, and the BPF programs' cost per call (kernel.bpf_stats_enabled).
#   usage: bench/recorder/e2e_bench.sh BUILD_DIR
# Environment: ROUNDS (paired whole-process rounds, 7), REPEAT (inner-loop
# rounds, 5), ITER (loop iterations, 200000: 600k syscalls).
# Needs root (BPF), strace, zstd, python3.
set -eu

BUILD=${1:?usage: $0 BUILD_DIR}
ROUNDS=${ROUNDS:-7}
REPEAT=${REPEAT:-5}
ITER=${ITER:-200000}
HERE=$(cd "$(dirname "$0")" && pwd)
RECORD="$BUILD/recorder/traceloop-record"
LOOP="$BUILD/bench/recorder/tl_bench_open_read_close"
FLOOR="$BUILD/bench/recorder/tl_bench_empty_hooks"
PAIRED="$HERE/paired_times.py"
for f in "$RECORD" "$LOOP" "$FLOOR"; do
  [ -x "$f" ] || { echo "missing $f (build traceloop-record, tl_bench_open_read_close, tl_bench_empty_hooks)" >&2; exit 2; }
done
for c in strace zstd python3; do
  command -v "$c" >/dev/null || { echo "$c not installed" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/tl-e2e-bench-XXXXXX)
STATS_BEFORE=$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || echo 0)
cleanup() {
  echo "$STATS_BEFORE" > /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
loop_ns() { sed -n 's/.*loop_ns=\([0-9]*\).*/\1/p' | tail -n 1; }

echo "== 1. start-up: BPF verification of every program (the kernel's own figures)"
"$RECORD" run -v -o "$WORK/true.tl" -- true 2>"$WORK/true.err" >/dev/null
sed -n 's/^traceloop-record: \(bpf .*\)/  \1/p; s/^traceloop-record: \(started .*\)/  \1/p' "$WORK/true.err"
VERIFY_MS=$(sed -n 's/.* verified in \([0-9.]*\) ms.*/\1/p' "$WORK/true.err" | awk '{ s += $1 } END { printf "%.1f", s }')
echo "verification, all programs: $VERIFY_MS ms   (target <= 50 ms)"

# paired LABEL 'A' 'B': prints the paired figures and sets A_MED, B_MED, PAIR_RATIO
paired() {
  echo "-- $1"
  python3 "$PAIRED" "$ROUNDS" "$2" "$3" > "$WORK/paired"
  grep -v '^a_median=' "$WORK/paired"
  A_MED=$(sed -n 's/^a_median=\([0-9.]*\) .*/\1/p' "$WORK/paired")
  B_MED=$(sed -n 's/.* b_median=\([0-9.]*\) .*/\1/p' "$WORK/paired")
  PAIR_RATIO=$(sed -n 's/.* ratio=\([0-9.]*\)$/\1/p' "$WORK/paired")
}

echo
echo "== 2. whole commands as a user times them (start, record, finish): medians of $ROUNDS paired rounds"
paired "A: traceloop-record run -- true   B: strace -f -o /dev/null true" \
  "$RECORD run -o $WORK/t.tl -- true" "strace -f -o /dev/null true"
TRUE_RUN=$A_MED
TRUE_STRACE=$B_MED
paired "A: traceloop-record run -- ls -l /usr/bin   B: strace -f -o /dev/null ls -l /usr/bin" \
  "$RECORD run -o $WORK/ls.tl -- ls -l /usr/bin" "strace -f -o /dev/null ls -l /usr/bin"
LS_RUN=$A_MED
LS_STRACE=$B_MED
LS_RATIO=$PAIR_RATIO
paired "A: traceloop-record run -- loop ($((ITER * 3)) syscalls)   B: the loop alone" \
  "$RECORD run -o $WORK/loop.tl -- $LOOP $ITER" "$LOOP $ITER"
LOOP_RUN=$A_MED
LOOP_PLAIN=$B_MED
LOOP_RATIO=$PAIR_RATIO
# strace slows the loop tens of times: one round
S0=$(date +%s%N)
strace -f -o /dev/null "$LOOP" "$ITER" > "$WORK/strace-loop.out"
S1=$(date +%s%N)
LOOP_STRACE=$(awk -v a="$S0" -v b="$S1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
STRACE_INNER=$(loop_ns < "$WORK/strace-loop.out")
echo "-- summary (whole process)"
echo "run -- true               ${TRUE_RUN} s   (target <= 0.1 s); strace -f ${TRUE_STRACE} s"
echo "run -- ls -l /usr/bin     ${LS_RUN} s   strace -f ${LS_STRACE} s   run/strace = ${LS_RATIO}   (target <= 1.0)"
echo "run -- loop               ${LOOP_RUN} s   plain ${LOOP_PLAIN} s   run/plain = ${LOOP_RATIO}   (target <= 1.6);" \
     "strace -f ${LOOP_STRACE} s = $(ratio "$LOOP_STRACE" "$LOOP_PLAIN")x plain"

echo
echo "== 3. trace file size vs strace -f -s 256 text compressed by zstd -19"
size_of() { wc -c < "$1" | tr -d ' '; }
filesize() { # name, command...
  name=$1
  shift
  "$RECORD" run -v -o "$WORK/$name.tl" -- "$@" >/dev/null 2>"$WORK/$name.err" || true
  events=$(sed -n 's/^traceloop-record: \([0-9]*\) events.*/\1/p' "$WORK/$name.err")
  strace -f -s 256 -o "$WORK/$name.strace" "$@" >/dev/null 2>&1 || true
  zstd -q -19 -f "$WORK/$name.strace" -o "$WORK/$name.strace.zst"
  lines=$(wc -l < "$WORK/$name.strace" | tr -d ' ')
  tl=$(size_of "$WORK/$name.tl")
  st=$(size_of "$WORK/$name.strace.zst")
  echo "$name: trace $tl B / $events syscalls = $(ratio "$tl" "$events") B/syscall;" \
       "strace+zstd $st B / $lines lines = $(ratio "$st" "$lines") B/line;" \
       "ratio = $(ratio "$tl" "$st")   (target <= 1.0)"
}
filesize ls-usr-bin ls -l /usr/bin
filesize python-start python3 -c pass

echo
echo "== 4. inside the traced program: the loop's own time ($((ITER * 3)) syscalls), medians of $REPEAT alternating rounds"
: > "$WORK/plain"; : > "$WORK/floor"; : > "$WORK/traced"
i=0
while [ $i -lt "$REPEAT" ]; do
  "$LOOP" "$ITER" | loop_ns >> "$WORK/plain"
  "$FLOOR" "$LOOP" "$ITER" | loop_ns >> "$WORK/floor"
  "$RECORD" run -o "$WORK/loop.tl" -- "$LOOP" "$ITER" | loop_ns >> "$WORK/traced"
  i=$((i + 1))
done
P=$(median < "$WORK/plain")
F=$(median < "$WORK/floor")
T=$(median < "$WORK/traced")
echo "plain                          ${P} ns"
echo "empty sys_enter/sys_exit hooks ${F} ns   floor/plain = $(ratio "$F" "$P")"
echo "traceloop-record run           ${T} ns   traced/floor = $(ratio "$T" "$F")   (target <= 1.1);" \
     "traced/plain = $(ratio "$T" "$P")"
echo "strace -f                      ${STRACE_INNER} ns   strace/plain = $(ratio "$STRACE_INNER" "$P")"
echo "-- BPF cost per call (kernel.bpf_stats_enabled=1, which adds its own clock reads)"
echo 1 > /proc/sys/kernel/bpf_stats_enabled
"$RECORD" run -v -o "$WORK/loop.tl" -- "$LOOP" "$ITER" 2>"$WORK/stats.err" >/dev/null
echo "$STATS_BEFORE" > /proc/sys/kernel/bpf_stats_enabled
sed -n 's/^traceloop-record: bpf \([a-z_]*\): .*; \(.*\)/  \1: \2/p' "$WORK/stats.err"
sed -n 's/^traceloop-record: \(started .*\)/  \1/p' "$WORK/stats.err"

echo
echo "== 5. an untraced process while the recorder traces another cgroup: the loop's own time, medians of $REPEAT alternating rounds"
: > "$WORK/alone"; : > "$WORK/beside"
i=0
while [ $i -lt "$REPEAT" ]; do
  "$LOOP" "$ITER" | loop_ns >> "$WORK/alone"
  rm -f "$WORK/started"
  "$RECORD" run -o "$WORK/other.tl" -- sh -c "touch $WORK/started; while :; do sleep 0.05; done" &
  REC=$!
  while [ ! -e "$WORK/started" ]; do sleep 0.02; done  # attached: its target runs
  "$LOOP" "$ITER" | loop_ns >> "$WORK/beside"
  kill -TERM "$REC"
  wait "$REC" || true
  i=$((i + 1))
done
A=$(median < "$WORK/alone")
B=$(median < "$WORK/beside")
echo "no recorder        ${A} ns"
echo "recorder active    ${B} ns   ratio = $(ratio "$B" "$A")   (target <= 1.1)"
