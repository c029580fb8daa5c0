#!/bin/sh
# Recorder benchmarks (SPEC "Performance targets"), all ratios measured side
# by side in this one run. Builds nothing: pass the build directory.
#   usage: bench/recorder/run_benchmarks.sh BUILD_DIR [ITERATIONS]
# Needs root (BPF), strace and zstd. Timings are the loop's own wall time
# (printed by the loop program, so recorder start-up is not counted).
set -eu

BUILD=${1:?usage: $0 BUILD_DIR [ITERATIONS]}
ITER=${2:-200000}
REPEAT=${REPEAT:-3}
RECORD="$BUILD/recorder/traceloop-record"
LOOP="$BUILD/bench/recorder/tl_bench_open_read_close"
for f in "$RECORD" "$LOOP"; do
  [ -x "$f" ] || { echo "missing $f (build the targets traceloop-record and tl_bench_open_read_close)" >&2; exit 2; }
done
command -v strace >/dev/null || { echo "strace not installed" >&2; exit 2; }
command -v zstd >/dev/null || { echo "zstd not installed" >&2; exit 2; }

WORK=$(mktemp -d /tmp/tl-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# loop_ns of one run of the loop, as printed by the loop program itself
loop_ns() { sed -n 's/.*loop_ns=\([0-9]*\).*/\1/p' | tail -n 1; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
min() { if [ -z "$1" ] || [ "$2" -lt "$1" ]; then echo "$2"; else echo "$1"; fi; }

plain() { "$LOOP" "$ITER" | loop_ns; }
traced() { "$RECORD" run -o "$WORK/loop.tl" -- "$LOOP" "$ITER" | loop_ns; }
straced() { strace -f -o /dev/null "$LOOP" "$ITER" | loop_ns; }

# The machine is shared: conditions alternate round by round so that a load
# change hits both sides of a ratio alike; each side keeps its best round.
echo "== overhead: open/read/close loop, $ITER iterations ($((ITER * 3)) syscalls), best of $REPEAT alternating rounds"
A=""; B=""
i=0
while [ $i -lt "$REPEAT" ]; do
  A=$(min "$A" "$(plain)")
  B=$(min "$B" "$(traced)")
  i=$((i + 1))
done
C=$(straced)  # strace is slow (tens of seconds): one round
echo "plain                     ${A} ns"
echo "traceloop-record run      ${B} ns   b/a = $(ratio "$B" "$A")   (target <= 1.5)"
echo "strace -f -o /dev/null    ${C} ns   c/a = $(ratio "$C" "$A")"
"$RECORD" run -v -o "$WORK/loop.tl" -- "$LOOP" "$ITER" 2>&1 >/dev/null | sed 's/^/  (one more traced run: /; s/$/)/'

echo "== untraced process while the recorder traces another cgroup, best of $REPEAT alternating rounds"
A2=""; D=""
i=0
while [ $i -lt "$REPEAT" ]; do
  A2=$(min "$A2" "$(plain)")
  rm -f "$WORK/started"
  "$RECORD" run -o "$WORK/other.tl" -- sh -c "touch $WORK/started; while :; do sleep 0.05; done" &
  REC=$!
  while [ ! -e "$WORK/started" ]; do sleep 0.05; done  # attached: its target runs
  D=$(min "$D" "$(plain)")
  kill -TERM "$REC"
  wait "$REC" || true
  i=$((i + 1))
done
echo "plain, no recorder        ${A2} ns"
echo "plain, recorder active    ${D} ns   ratio = $(ratio "$D" "$A2")   (target <= 1.3)"

echo "== trace file size vs strace -f -s 256 text compressed by zstd -19"
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
