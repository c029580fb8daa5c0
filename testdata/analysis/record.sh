#!/bin/sh
# Records the real trace pairs of the tl-diff / tl-grep / tl-stats tests into
# testdata/analysis/real/ (root, BPF, a build with the recorder):
#
#   testdata/analysis/record.sh BUILD_DIR
#
# then regenerate the goldens with TRACELOOP_UPDATE_GOLDENS=1 and review them.
#   demo-a.tl, demo-b.tl        SPEC story 1 twice (other $RANDOM, pids, addresses)
#   cat-exists.tl, cat-missing.tl  the same script where the file exists and where it does not
set -eu
build=${1:?usage: record.sh BUILD_DIR}
record="$build/recorder/traceloop-record"
out=$(cd "$(dirname "$0")" && pwd)/real
bin=/tmp/tl-analysis-bin
mkdir -p "$out" "$bin"
for applet in sh bc cat echo; do ln -sf "$(command -v busybox)" "$bin/$applet"; done
export PATH="$bin:$PATH"
cd /tmp
for run in a b; do
  "$record" run -o "$out/demo-$run.tl" -- sh -c 'RANDOM=output ; echo "3*7*2" | bc > /tmp/file-$RANDOM ; cat /tmp/file-$RANDOM' || true
done
echo 42 > /tmp/tl-analysis-input
"$record" run -o "$out/cat-exists.tl" -- sh -c 'cat /tmp/tl-analysis-input; echo "status $?"'
rm -f /tmp/tl-analysis-input
"$record" run -o "$out/cat-missing.tl" -- sh -c 'cat /tmp/tl-analysis-input; echo "status $?"'
chmod 0644 "$out"/*.tl
