#!/usr/bin/env bash
# Runs every libFuzzer target of a TRACELOOP_SANITIZE build for a while,
# starting from its checked-in corpus (tests/fuzz/corpus/NAME), and prints
# libFuzzer's final figures (executions, coverage) per target. A crash, leak,
# timeout or sanitizer report fails the run; the input that caused it is
# left in the work directory, named crash-*, leak-*, timeout-* or oom-*.
#   scripts/fuzz.sh BUILD_DIR [SECONDS_EACH] [WORK_DIR]
# Default: 35 s each; WORK_DIR (default BUILD_DIR/fuzz-work) keeps what the
# runs found, so a later run goes on from there.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=$(cd "${1:?usage: scripts/fuzz.sh BUILD_DIR [SECONDS_EACH] [WORK_DIR]}" && pwd)
seconds=${2:-35}
work=${3:-$build_dir/fuzz-work}
# TRACELOOP_FUZZERS="a b" runs only those; TRACELOOP_FUZZ_JOBS=N runs N at once
# (default: one per core).
read -r -a fuzzers <<<"${TRACELOOP_FUZZERS:-frame_fuzzer trace_fuzzer catalogue_fuzzer control_fuzzer container_json_fuzzer bolt_fuzzer}"

# The fuzzers that read files write each input to a scratch directory:
# in memory, where there is a tmpfs.
[[ -z "${TMPDIR:-}" && -d /dev/shm && -w /dev/shm ]] && export TMPDIR=/dev/shm
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# One fuzzer per core at a time: each is single-threaded.
jobs=${TRACELOOP_FUZZ_JOBS:-$(nproc)}
run_one() {
  local f=$1 bin=$build_dir/tests/fuzz/$1 log=$work/$1/log
  mkdir -p "$work/$f/corpus" "$work/$f/artifacts"
  rm -f "$work/$f/status"
  # -rss_limit_mb: the readers' own limits keep far below it; -timeout: no
  # single input may take a second (hostile input must not stall a reader).
  if (cd "$work/$f" && "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$work/$f/artifacts/" "$work/$f/corpus" "$top/tests/fuzz/corpus/$f") >"$log" 2>&1; then
    echo ok >"$work/$f/status"
  else
    echo FAILED >"$work/$f/status"
  fi
}
for f in "${fuzzers[@]}"; do
  [[ -x $build_dir/tests/fuzz/$f ]] || { echo "fuzz: $build_dir/tests/fuzz/$f missing (configure with -DTRACELOOP_SANITIZE=ON)" >&2; exit 2; }
done
running=0
for f in "${fuzzers[@]}"; do
  if ((running >= jobs)); then
    wait -n
    running=$((running - 1))
  fi
  run_one "$f" &
  running=$((running + 1))
done
wait
failed=()
for f in "${fuzzers[@]}"; do
  log=$work/$f/log
  status=$(cat "$work/$f/status" 2>/dev/null || echo FAILED)
  [[ $status == ok ]] || failed+=("$f")
  # The last status line (#N DONE cov: .. ft: .. corp: .. exec/s: ..) and the run's totals.
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  printf 'fuzz: %-22s %-6s runs=%s %s\n' "$f" "$status" "${runs:-?}" "${done_line:-$(tail -1 "$log")}"
done
if ((${#failed[@]})); then
  for f in "${failed[@]}"; do
    echo "----- $f (log: $work/$f/log)" >&2
    grep -E -A40 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|Test unit written' "$work/$f/log" | head -80 >&2 || tail -40 "$work/$f/log" >&2
  done
  exit 1
fi
