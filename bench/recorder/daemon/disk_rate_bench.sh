#!/bin/sh
# What the daemon writes to its --dir while it records: every sealed frame of
# a live history goes to the history's journal as it seals (so that a crash
# loses at most the last second). A container runs, for SECONDS:
#   getppid, write: a static program in a runc container (busybox-static
#     rootfs) calls getppid, or writes 64 bytes to /dev/null (the data
#     captured), at RATE per second;
#   shell: a busybox shell runs ls -l, bc, cat, find and sed in a loop (a
#     typical workload, at its own rate).
# Over a window in the middle of the run, the container's journal's growth
# is sampled (the budget is large enough that no segment is removed
# meanwhile, so its size is every byte written for it), and the container's
# syscalls from the daemon's count of its events. Printed: bytes/s written,
# per 100k syscalls/s, per syscall; and the daemon's whole write() volume
# (/proc/PID/io wchar) over the window, which counts the other containers on
# the host too.
#   usage: bench/recorder/daemon/disk_rate_bench.sh BUILD_DIR
#   env: SECONDS_RATE (12), RATE (100000), MODES ("getppid write shell"),
#        BUDGET (64M), TL_CLI (traceloop-record)
# Needs root (BPF), runc and busybox-static.
set -eu

BUILD=${1:?usage: $0 BUILD_DIR}
SECS=${SECONDS_RATE:-12}
RATE=${RATE:-100000}
MODES=${MODES-"getppid write shell"}
BUDGET=${BUDGET:-64M}
SRC=$(cd "$(dirname "$0")/../../.." && pwd)
. "$SRC/bench/recorder/daemon/bench_lib.sh"
CLI=${TL_CLI:-"$BUILD/recorder/traceloop-record"}
PROG="$BUILD/bench/recorder/daemon/tl_bench_syscall_rate"
for f in "$CLI" "$PROG"; do
  [ -x "$f" ] || { echo "missing $f (build traceloop-record, tl_bench_syscall_rate)" >&2; exit 2; }
done
[ "$SECS" -ge 6 ] || { echo "SECONDS_RATE must be at least 6" >&2; exit 2; }

WORK=$(mktemp -d /tmp/tl-disk-bench-XXXXXX)
DAEMON=""
IDS=""
cleanup() {
  [ -n "$DAEMON" ] && kill -TERM "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
  for id in $IDS; do runc delete -f "$id" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

container_rootfs_with "$WORK" "$PROG"
wchar() { awk '$1 == "wchar:" { print $2 }' "/proc/$1/io"; }
# The bytes of container $1's journal (apparent size: as written).
journal_bytes() { find "$WORK/state/journal" -path "*/$1.*" -type f -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
# The events the daemon holds of container $1 (all it recorded: nothing is overwritten within BUDGET).
events_of() { "$CLI" list --dir "$WORK/state" | awk -v id="$1" '$5 == id { print $7 }'; }

"$CLI" daemon --dir "$WORK/state" --budget-per-container "$BUDGET" --budget-total "$BUDGET" &
DAEMON=$!
wait_socket "$WORK/state/control.sock"

echo "container budget $BUDGET; ${SECS}s per container; window: from 2 s after the start to 2 s before the end"
for mode in $MODES; do
  id="tldisk-$$-$mode"
  IDS="$IDS $id"
  if [ "$mode" = shell ]; then
    "$SRC/scripts/demo_container.sh" --work "$WORK/c" "$id" -- sh -c \
      "end=\$((\$(date +%s) + $SECS)); while [ \$(date +%s) -lt \$end ]; do ls -l /bin >/dev/null; echo 3*7 | bc >/dev/null;
       cat /etc/passwd >/dev/null; find / -xdev -name '*sh*' >/dev/null 2>&1; sed -n 1p /etc/passwd >/dev/null; done" \
      > "$WORK/out-$mode" 2>&1 &
  else
    "$SRC/scripts/demo_container.sh" --work "$WORK/c" "$id" -- /bin/tl_bench_syscall_rate "$mode" "$RATE" "$SECS" \
      > "$WORK/out-$mode" 2>&1 &
  fi
  RUNNER=$!
  sleep 2
  J0=$(journal_bytes "$id"); E0=$(events_of "$id"); W0=$(wchar "$DAEMON"); S0=$(date +%s%N)
  sleep $((SECS - 4))
  J1=$(journal_bytes "$id"); E1=$(events_of "$id"); W1=$(wchar "$DAEMON"); S1=$(date +%s%N)
  wait "$RUNNER" || { cat "$WORK/out-$mode" >&2; exit 1; }
  while [ ! -e "$WORK/state/$id.tl" ]; do sleep 0.05; done
  awk -v j="$((J1 - J0))" -v e="$((E1 - E0))" -v w="$((W1 - W0))" -v s0="$S0" -v s1="$S1" -v mode="$mode" 'BEGIN {
    secs = (s1 - s0) / 1e9; bps = j / secs; rate = e / secs; per = 0; if (rate > 0) per = bps / rate;
    printf "%-8s %8.0f syscalls/s  journal %8.0f B/s = %7.0f B/s per 100k syscalls/s = %5.2f B/syscall  (daemon wchar %.0f B/s)\n",
      mode, rate, bps, per * 100000, per, w / secs }'
done
