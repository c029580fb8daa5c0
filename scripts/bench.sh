#!/usr/bin/env bash
# Runs every benchmark and prints its figures (ratios measured side by side in
# one run; see SPEC "Performance targets"). Builds first (scripts/setup.sh).
#   scripts/bench.sh [BUILD_DIR] [EVENTS]     as root (the recorder benchmarks load BPF)
# EVENTS (default 10000000) sizes the synthetic traces of the format and tools benchmarks.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-$top/build}
events=${2:-10000000}
"$top/scripts/setup.sh" "$build_dir" >/dev/null

section() { printf '\n===== %s =====\n' "$*"; }

section "trace format: write/read $events synthetic events, vs zstd -dc"
"$build_dir/bench/format/format_bench" "$events"

section "tl-show rendering throughput"
"$build_dir/bench/tools/render_bench" --events "$events"

section "tl-stats vs zstd -dc, tl-grep vs tl-show | grep"
"$build_dir/bench/tools/analysis_bench" --events "$events"

section "recorder: start-up, whole commands, file size, cost inside the traced program (traceloop-record run)"
"$top/bench/recorder/e2e_bench.sh" "$build_dir"

section "daemon: history depth and CPU"
"$top/bench/recorder/daemon/daemon_bench.sh" "$build_dir"

section "daemon: what 8 containers it did not choose pay while it records 2 others"
"$top/bench/recorder/daemon/selection_bench.sh" "$build_dir"

section "daemon: bytes written to DIR (live histories kept on disk) per 100k syscalls/s"
"$top/bench/recorder/daemon/disk_rate_bench.sh" "$build_dir"
