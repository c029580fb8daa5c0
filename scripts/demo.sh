#!/usr/bin/env bash
# The README's demo: sets up (packages + build), then records the
# multiplication demo of the original traceloop and shows how the trace
# recovers what the script lost: bc's result (42), the file it really wrote,
# the file cat failed to open, and exit_group never returning.
#   scripts/demo.sh [BUILD_DIR]        (as root: BPF needs CAP_BPF + CAP_SYS_ADMIN)
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-$top/build}
"$top/scripts/setup.sh" "$build_dir" >/dev/null

out=$(mktemp -d /tmp/traceloop-demo.XXXXXX)
trace="$out/multiplication.tl"
script='RANDOM=output ; echo "3*7*2" | bc > /tmp/file-$RANDOM ; cat /tmp/file-$RANDOM'

echo "\$ traceloop-record run -o $trace -- busybox sh -c '$script'"
"$build_dir/recorder/traceloop-record" run -o "$trace" -- busybox sh -c "$script" || true
echo
echo "\$ tl-show $trace | grep -E 'write|/tmp/file|exit_group'"
"$build_dir/tools/tl-show" "$trace" | grep -E 'SYSCALL|write|/tmp/file|exit_group'
echo
echo "\$ tl-show --format strace --syscall openat,write $trace"
"$build_dir/tools/tl-show" --format strace --syscall openat,write "$trace"
echo
echo "The trace is $trace: copy it anywhere and read it with tl-show."
