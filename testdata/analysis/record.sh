#!/bin/sh
# Records the real trace pairs of the tl-diff / tl-grep / tl-stats tests into
# testdata/analysis/real/ (root, BPF, a build with the recorder):
#
#   testdata/analysis/record.sh BUILD_DIR
#
# then regenerate the goldens with TRACELOOP_UPDATE_GOLDEN=1 and review them.
#   demo-a.tl, demo-b.tl        SPEC story 1 twice (other $RANDOM, pids, addresses)
#   cat-exists.tl, cat-missing.tl  the same script where the file exists and where it does not
#   bash-a.tl, bash-b.tl        a bash script twice: its signal actions hold ASLR'd addresses
#   empty.tl                    a recording without events (nothing matched the filter)
#   storm.tl                    a ring overflow: real loss markers
#   container-mult.tl, container-ls.tl  two containers recorded by the daemon
set -eu
build=${1:?usage: record.sh BUILD_DIR}
record="$build/recorder/traceloop-record"
out=$(cd "$(dirname "$0")" && pwd)/real
src=$(cd "$(dirname "$0")/../.." && pwd)
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
for run in a b; do
  "$record" run -o "$out/bash-$run.tl" -- /bin/bash -c 'trap "echo int" INT; read -r line < /etc/hostname; echo done' >/dev/null
done
chmod 0644 "$out"/*.tl

# empty.tl: a real recording in which nothing matched the syscall filter
"$record" run --syscall-filters kexec_load -o "$out/empty.tl" -- true

# storm.tl: a real ring overflow (one-page ring, a getppid storm): loss markers
"$record" run --ring-size 4096 --syscall-filters getppid,exit_group -o "$out/storm.tl" -- \
  "$build/tests/recorder/tl_storm" 20000

# container-mult.tl, container-ls.tl: two real containers recorded by the
# daemon (SPEC stories 1 and 2, runc + busybox, Kubernetes annotations)
dir=$(mktemp -d /tmp/tl-analysis-daemon.XXXXXX)
"$record" daemon --dir "$dir" >"$dir/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 150); do [ -S "$dir/control.sock" ] && break; sleep 0.1; done
"$src/scripts/demo_container.sh" --pod mypod --namespace test --container mult mult-demo -- \
  sh -c 'RANDOM=output ; echo "3*7*2" | bc > /tmp/file-$RANDOM ; cat /tmp/file-$RANDOM' || true
"$src/scripts/demo_container.sh" --pod lister --namespace test --container ls ls-demo -- \
  sh -c 'ls -l /bin | grep mv' || true
for id in mult-demo ls-demo; do
  for _ in $(seq 150); do [ -f "$dir/$id.tl" ] && break; sleep 0.1; done
done
"$record" stop --dir "$dir" >/dev/null
wait "$daemon" || true
cp "$dir/mult-demo.tl" "$out/container-mult.tl"
cp "$dir/ls-demo.tl" "$out/container-ls.tl"
rm -rf "$dir"
chmod 0644 "$out"/*.tl
