#!/usr/bin/env bash
# GPU check of the distributed layer (not runnable on the CPU build machines): builds against this
# machine's torch, then runs one rank of the NCCL tests (all_gather with unequal rows, all_reduce,
# broadcast, and all_gather_with_grad on CUDA vs the single-process CPU reference) plus the MPI and
# bootstrap tests. Logs go to $OUT. Fails if the NCCL tests were skipped (no GPU seen).
# Usage: OUT=/tmp/gpu_check benchmarks/gpu_check.sh      (env: NEGATRON_PYTHON, BUILD_DIR, NP)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/negatron_gpu_check}
BUILD_DIR=${BUILD_DIR:-build-gpu}
NP=${NP:-1}
PYTHON=${NEGATRON_PYTHON:-$( [[ -x .venv/bin/python ]] && echo .venv/bin/python || command -v python3 )}
mkdir -p "$OUT"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMP_NUM_THREADS=1 NCCL_DEBUG=${NCCL_DEBUG:-WARN}

{ nvidia-smi || true; "$PYTHON" -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.nccl.version())'; } \
  >"$OUT/environment.log" 2>&1
echo "+ cmake/ninja in $BUILD_DIR (log: $OUT/build.log)"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNEGATRON_PYTHON="$PYTHON" >"$OUT/build.log" 2>&1
ninja -C "$BUILD_DIR" -j"$(nproc)" dist_tests dist_mpi_tests >>"$OUT/build.log" 2>&1

echo "+ unit tests (log: $OUT/dist_tests.log)"
"$BUILD_DIR/tests/dist_tests" >"$OUT/dist_tests.log" 2>&1
echo "+ mpirun -n $NP dist_mpi_tests (log: $OUT/dist_mpi_tests.log)"
NEGATRON_TEST_XML_DIR="$OUT" mpirun -n "$NP" "$BUILD_DIR/tests/dist_mpi_tests" >"$OUT/dist_mpi_tests.log" 2>&1
if grep -q "SKIPPED .*Nccl\." "$OUT/dist_mpi_tests.log"; then
  echo "FAIL: NCCL tests were skipped (no GPU or no NCCL?)"; exit 1
fi
grep -E "\[mpi\]|PASSED|FAILED" "$OUT/dist_mpi_tests.log"
echo "gpu_check: passed"
