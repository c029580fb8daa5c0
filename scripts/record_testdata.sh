#!/bin/sh
# Records the real traces of testdata/real/ with `traceloop-record run` and
# regenerates their golden outputs (testdata/golden/real/), see
# testdata/README.md. Needs root (BPF) and a build with the recorder.
#
#   scripts/record_testdata.sh [BUILD_DIR]    (default: build)
#
# The demos run busybox-static applets from a fixed directory, like the
# SPEC's busybox containers, so the traces stay small and the same on every
# Debian machine: the multiplication demo and the listing demo (SPEC user
# stories 1 and 2).
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
case "$build" in /*) ;; *) build=$src/$build ;; esac
record=${TRACELOOP_RECORD:-$build/recorder/traceloop-record}
golden_test=$build/tests/tools/tools_show_golden_test
[ -x "$record" ] || { echo "record_testdata.sh: no recorder at $record (build with -DTRACELOOP_BUILD_RECORDER=ON)" >&2; exit 2; }
[ -x "$golden_test" ] || { echo "record_testdata.sh: build tools_show_golden_test first" >&2; exit 2; }
busybox=$(command -v busybox) || { echo "record_testdata.sh: busybox-static is needed" >&2; exit 2; }

bin=/tmp/traceloop-testdata/bin
rm -rf /tmp/traceloop-testdata
mkdir -p "$bin"
for applet in sh echo bc cat ls grep mv cp rm sleep; do ln -s "$busybox" "$bin/$applet"; done

out=$src/testdata/real
mkdir -p "$out"
cd /tmp/traceloop-testdata
# The demos fail on purpose (cat of the wrong file; grep exit statuses): keep going.
env -i PATH="$bin" "$record" run -o "$out/multiplication.tl" -- \
  sh -c 'RANDOM=output ; echo "3*7*2" | bc > /tmp/file-$RANDOM ; cat /tmp/file-$RANDOM' || true
env -i PATH="$bin" "$record" run -o "$out/listing.tl" -- sh -c "ls -l $bin | grep mv" || true
# A child killed by a signal, the shell's SIGCHLD and its exit status (format 4.3 notices).
env -i PATH="$bin" "$record" run -o "$out/signals.tl" -- sh -c 'sleep 5 & kill -USR1 $!; wait; exit 3' || true
chmod 0644 "$out"/*.tl  # test data, not secrets: readable in the repository

TRACELOOP_UPDATE_GOLDEN=1 TRACELOOP_SOURCE_DIR=$src "$golden_test" --gtest_filter='GoldenTest.RealTraces*'
ls -l "$out" "$src/testdata/golden/real"
