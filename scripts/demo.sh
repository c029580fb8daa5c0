#!/usr/bin/env bash
# The README's demo: sets up (packages + build), starts the flight recorder
# daemon, runs the multiplication demo of the original traceloop in a real OCI
# container (runc, busybox-static rootfs, Kubernetes annotations), lets the
# container die and be deleted, then recovers from its saved history what the
# script lost: bc's result (42), the file it really wrote, the file cat
# failed to open, and exit_group never returning.
#   scripts/demo.sh [BUILD_DIR]        (as root: BPF needs CAP_BPF + CAP_SYS_ADMIN)
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-$top/build}
"$top/scripts/setup.sh" "$build_dir" >/dev/null

record="$build_dir/recorder/traceloop-record"
dir=$(mktemp -d /tmp/traceloop-demo.XXXXXX)
say() { printf '\n$ %s\n' "$*"; }

"$record" daemon --dir "$dir" >"$dir/daemon.log" 2>&1 &
daemon=$!
trap 'kill -TERM "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null || true' EXIT
for _ in $(seq 150); do [[ -S "$dir/control.sock" ]] && break; sleep 0.1; done
[[ -S "$dir/control.sock" ]] || { cat "$dir/daemon.log" >&2; exit 1; }
echo "traceloop-record daemon --dir $dir   (running, pid $daemon)"

id="mypod-$$"
script='RANDOM=output ; echo "3*7*2" | bc > /tmp/file-$RANDOM ; cat /tmp/file-$RANDOM'
say "run a container (pod test/mypod): sh -c '$script'"
"$top/scripts/demo_container.sh" --pod mypod --namespace test --container mypod "$id" -- sh -c "$script" || true
echo "(the container exited and runc deleted it: its output is lost)"
for _ in $(seq 150); do [[ -f "$dir/$id.tl" ]] && break; sleep 0.1; done

say "traceloop-record list"
"$record" list --dir "$dir"
say "traceloop-record show $id | grep -E 'write|/tmp/file|exit_group'"
"$record" show --dir "$dir" "$id" | grep -E 'SYSCALL|write|/tmp/file|exit_group'
say "tl-show --format strace --comm bc $dir/$id.tl"
"$build_dir/tools/tl-show" --format strace --comm bc "$dir/$id.tl" | tail -n 4
say "tl-stats $dir/$id.tl | head"
"$build_dir/tools/tl-stats" "$dir/$id.tl" | head -n 12

"$record" stop --dir "$dir" >/dev/null
wait "$daemon" 2>/dev/null || true
trap - EXIT
printf '\nThe trace is %s: copy it anywhere and read it with tl-show.\n' "$dir/$id.tl"
