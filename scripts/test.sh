#!/usr/bin/env bash
# The test command of the README: sets up (packages + build) and runs every
# test. BPF tests run for real; run as root. With TRACELOOP_REQUIRE_BPF=1 a
# test that cannot load BPF fails instead of skipping.
#   scripts/test.sh [BUILD_DIR]
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-$top/build}
"$top/scripts/setup.sh" "$build_dir"
cd "$build_dir"
ctest --output-on-failure --timeout 600 -j1
