#!/usr/bin/env bash
# The libFuzzer targets of fuzz/ in ctest.
#   run_fuzz.sh build BUILD_DIR CLANGXX          configure (once) and build them with clang
#   run_fuzz.sh run BUILD_DIR TARGET SECONDS     run one from its seed corpus (fuzz/corpus/<name>) for SECONDS
# A run fails on any finding (crash, sanitizer report, uncaught exception, timeout, memory limit);
# the input that found it is kept as BUILD_DIR/artifacts/<target>-*. New corpus entries go to a
# scratch folder, never into the repository. The last line reports executions and coverage.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mode=$1 build=$2

if [[ $mode == build ]]; then
  clangxx=$3
  clang=${clangxx/clang++/clang}
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  if [[ ! -f $build/build.ninja ]]; then
    cmake -S "$ROOT/fuzz" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
          -DCMAKE_CXX_COMPILER="$clangxx" -DCMAKE_C_COMPILER="$clang" "${launcher[@]}" >/dev/null
  fi
  exec cmake --build "$build" -j "${NEGATRON_JOBS:-2}"
fi

target=$3 seconds=$4
seeds="$ROOT/fuzz/corpus/${target#fuzz_}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/artifacts"
log="$work/log"
set +e
LSAN_OPTIONS="suppressions=$ROOT/fuzz/lsan_suppressions.txt:print_suppressions=0" \
"$build/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
  -print_final_stats=1 -artifact_prefix="$build/artifacts/$target-" "$work" "$seeds" >"$log" 2>&1
rc=$?
set -e
grep -v -e '^#[0-9]* *\(NEW\|REDUCE\|pulse\)' -e '^"' -e 'recommended dictionary' "$log" | tail -n 40
edges=$(sed -n 's/.*Loaded 1 modules *(\([0-9]*\) inline 8-bit counters).*/\1/p' "$log" | head -1)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
cov=$(grep -o "cov: [0-9]*" "$log" | tail -1 | cut -d' ' -f2)
corpus=$(ls "$work" | wc -l)
echo "[fuzz] $target: ${execs:-?} executions in ${seconds} s, coverage ${cov:-?} of ${edges:-?} edges" \
     "($(awk -v c="${cov:-0}" -v e="${edges:-1}" 'BEGIN { printf "%.1f", 100 * c / e }')%), $corpus new corpus entries, exit $rc"
exit $rc
