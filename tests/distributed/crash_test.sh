#!/usr/bin/env bash
# A failing rank must end the whole job quickly: non-zero exit within 30 s, with the failing
# rank's message (or the watchdog's, naming the collective) in stderr, instead of a hang.
# Usage: crash_test.sh MPIEXEC FAILURE_PROBE   (ctest passes both; see tests/CMakeLists.txt)
set -euo pipefail
mpiexec=$1
probe=$2
limit_s=30
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run_case MODE EXPECT_RC(zero|nonzero) PATTERN
run_case() {
  local mode=$1 expect=$2 pattern=$3 rc start elapsed
  start=$(date +%s)
  set +e
  timeout 90 "$mpiexec" -n 2 "$probe" "$mode" >"$work/$mode.out" 2>"$work/$mode.err"
  rc=$?
  set -e
  elapsed=$(($(date +%s) - start))
  echo "case $mode: rc=$rc after ${elapsed}s"
  if [[ $expect == nonzero && $rc -eq 0 ]] || [[ $expect == zero && $rc -ne 0 ]]; then
    echo "FAIL: case $mode expected $expect exit, got $rc"; cat "$work/$mode.err"; exit 1
  fi
  if ((elapsed > limit_s)); then
    echo "FAIL: case $mode took ${elapsed}s > ${limit_s}s"; cat "$work/$mode.err"; exit 1
  fi
  if ! grep -q -- "$pattern" "$work/$mode.out" "$work/$mode.err"; then
    echo "FAIL: case $mode: output lacks '$pattern'"; cat "$work/$mode.out" "$work/$mode.err"; exit 1
  fi
}

run_case throw nonzero "rank 1 failed: injected failure on rank 1"
run_case hang nonzero "collective all_reduce on rank 0 ran"
run_case ok zero "distributed: 2 rank(s), backend mpi"
echo "crash_test: all cases passed"
