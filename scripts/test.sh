#!/usr/bin/env bash
# The test command of the README: sets up (packages + build) and runs every
# test. BPF tests run for real; run as root. With TRACELOOP_REQUIRE_BPF=1 a
# test that cannot load BPF fails instead of skipping.
#
# Then the same suite again, built by clang with AddressSanitizer and
# UndefinedBehaviorSanitizer (BUILD_DIR-sanitize, every report fatal), and
# each libFuzzer target for TRACELOOP_FUZZ_SECONDS (default 35) seconds
# (scripts/fuzz.sh). TRACELOOP_SANITIZE_RUN=0 leaves the sanitizer part out.
#   scripts/test.sh [BUILD_DIR]
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-$top/build}
"$top/scripts/setup.sh" "$build_dir"
(cd "$build_dir" && ctest --output-on-failure --timeout 600 -j1)

[[ "${TRACELOOP_SANITIZE_RUN:-1}" == 0 ]] && exit 0
san_dir=$build_dir-sanitize
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
SECONDS=0
cmake -S "$top" -B "$san_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DTRACELOOP_SANITIZE=ON -DTRACELOOP_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build "$san_dir" -j"$(nproc)" >/dev/null
echo "test: sanitizer build in ${SECONDS} s ($san_dir)"
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
SECONDS=0
(cd "$san_dir" && ctest --output-on-failure --timeout 900 -j1)
echo "test: suite under ASan+UBSan in ${SECONDS} s"
SECONDS=0
"$top/scripts/fuzz.sh" "$san_dir" "${TRACELOOP_FUZZ_SECONDS:-35}"
echo "test: fuzzers in ${SECONDS} s"
