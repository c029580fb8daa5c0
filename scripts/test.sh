#!/usr/bin/env bash
# The test command of the README: sets up (packages + build) and runs every
# test. BPF tests run for real; run as root. With TRACELOOP_REQUIRE_BPF=1 a
# test that cannot load BPF fails instead of skipping.
#
# Then the tools alone, built without the recorder (BUILD_DIR-tools): they
# read a trace, and make their package.
#
# Then the same suite again, built by clang with AddressSanitizer and
# UndefinedBehaviorSanitizer (BUILD_DIR-sanitize, every report fatal), and
# each libFuzzer target for TRACELOOP_FUZZ_SECONDS (default 15) seconds
# (scripts/fuzz.sh). TRACELOOP_SANITIZE_RUN=0 leaves the sanitizer part out.
#   scripts/test.sh [BUILD_DIR]
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=$(realpath -m -- "${1:-$top/build}")
# ccache (when setup installed it) keys objects by paths relative to the
# checkout, so the tools-only build below reuses the first build's objects
# instead of compiling them again.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$top} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
"$top/scripts/setup.sh" "$build_dir"
(cd "$build_dir" && ctest --output-on-failure --timeout 600 -j1)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)

# The tools build, read a trace and make their package without the recorder:
# the configure must not even look for libbpf, bpftool or the BPF clang. Their
# tests ran above, on the same sources.
SECONDS=0
tools_dir=$build_dir-tools
cmake -S "$top" -B "$tools_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRACELOOP_BUILD_RECORDER=OFF \
  -DTRACELOOP_BUILD_TESTS=OFF -DTRACELOOP_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
if grep -E '^(LIBBPF_|pkgcfg_lib_LIBBPF_|BPFTOOL:|BPF_CLANG:)' "$tools_dir/CMakeCache.txt"; then
  echo "test: the build without the recorder looked for the recorder's dependencies" >&2
  exit 1
fi
cmake --build "$tools_dir" -j"$(nproc)" >/dev/null
"$tools_dir/tools/tl-show" "$top/testdata/real/listing.tl" | grep -q execve
"$tools_dir/tools/tl-stats" "$top/testdata/real/listing.tl" >/dev/null
rm -rf "$tools_dir/packages"
(cd "$tools_dir" && cpack -G DEB -B "$tools_dir/packages" >/dev/null)
packages=$(cd "$tools_dir/packages" && ls -- *.deb)
if [[ "$packages" != traceloop-tools_*.deb ]]; then
  echo "test: the build without the recorder packaged: $packages" >&2
  exit 1
fi
echo "test: build, a trace read and the package without the recorder in ${SECONDS} s ($tools_dir)"

[[ "${TRACELOOP_SANITIZE_RUN:-1}" == 0 ]] && exit 0
san_dir=$build_dir-sanitize
SECONDS=0
cmake -S "$top" -B "$san_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DTRACELOOP_SANITIZE=ON -DTRACELOOP_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build "$san_dir" -j"$(nproc)" >/dev/null
echo "test: sanitizer build in ${SECONDS} s ($san_dir)"
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
SECONDS=0
# The manual page, completion, browser and deployment tests, and the
# generators' checks, test scripts, pages, a browser's drawing and manifests,
# not our code's memory: they ran above.
(cd "$san_dir" && ctest --output-on-failure --timeout 900 -j1 -LE 'docs|browser|deploy' \
  -E '^(generated_tables_up_to_date|gen_catalogue_conditions)$')
echo "test: suite under ASan+UBSan in ${SECONDS} s"
SECONDS=0
"$top/scripts/fuzz.sh" "$san_dir" "${TRACELOOP_FUZZ_SECONDS:-15}"
echo "test: fuzzers in ${SECONDS} s"
