#!/usr/bin/env bash
# The GPU check, for the lent machine (one H100/H200, torch 2.11 + CUDA 13, cmake and ninja, but no MPI,
# HDF5 or other Debian -dev packages and no network). Prepare HERE first, in the checkout that calls
# the device tool:   bash benchmarks/gpu_fetch_deps.sh        (.gpu-carry/: ~24 MiB of .deb files, 3 wheels,
# MiniLM's tokenizer), then:   run(command="bash benchmarks/gpu_check.sh", carry=[".gpu-carry"], timeout_s=600)
# Stages (each logs to $OUT/<stage>.log; $OUT/summary.txt has one PASS/FAIL line per stage; a failing
# stage does not stop the others; the script exits 1 if any failed), in about 8 minutes:
#   setup      unpack the .deb files into a private prefix (dpkg -x), install the wheels to /tmp/site
#   build      the CUDA/NCCL build of negatron and the test binaries touched here
#   nccl       NCCL at world size 1 (all_gather, all_reduce, async all-reduce, all_gather_with_grad, the
#              overlapped averager) against CPU results, the bootstrap census, the fused AdamW and the
#              token-layout tests on this machine
#   bf16       a bf16-autocast training run on the GPU against the float32 CPU run of the same config,
#              step by step (MiniLM-shaped model, dropout off): |loss_gpu - loss_cpu| <= 0.03 * |loss_cpu|
#              at every one of 20 steps; float32 GPU vs float32 CPU within 1e-3 relative
#   sync       steady-state steps under CUDA's sync debug mode "error" (NEGATRON_STRICT_SYNC=1): any
#              host wait throws; and the counted helper's host_reads_steady_steps == 0
#   resume     4 steps straight vs 2 + resume + 2 with dropout on (CUDA generator saved and restored):
#              the same losses (1e-6 relative) and weights (1e-5)
#   speed      negatron train vs SentenceTransformerTrainer, bf16 on both sides, MiniLM- and
#              BERT-base-shaped models (random weights), MNRL batch 128: samples/s and model FLOPs
#              utilisation (achieved FLOP/s over the GPU's dense bf16 peak)
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
OUT=${OUT:-/tmp/negatron_gpu_check}
BUILD_DIR=${BUILD_DIR:-build-gpu}
CARRY=${CARRY:-.gpu-carry}
PYTHON=${NEGATRON_PYTHON:-$(command -v python3)}
mkdir -p "$OUT"
: >"$OUT/summary.txt"
FAILED=0
stage() {  # stage NAME SECONDS COMMAND...: runs, logs, records PASS/FAIL
  local name=$1 limit=$2; shift 2
  local start=$SECONDS
  echo "+ $name (log: $OUT/$name.log)"
  if timeout "$limit" "$@" >"$OUT/$name.log" 2>&1; then
    echo "PASS $name ($((SECONDS - start)) s)" | tee -a "$OUT/summary.txt"
  else
    echo "FAIL $name ($((SECONDS - start)) s): $(tail -n 3 "$OUT/$name.log" | tr '\n' ' ' | cut -c1-300)" | tee -a "$OUT/summary.txt"
    FAILED=1
  fi
}

{ nvidia-smi; "$PYTHON" -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.nccl.version(), torch.cuda.get_device_name())'; nproc; } \
  >"$OUT/environment.log" 2>&1

setup() {
  export DEPS=/tmp/negatron-deps
  source benchmarks/gpu_env.sh
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$CARRY"/wheels/*.whl
  "$PYTHON" benchmarks/gpu_models.py "$CARRY/tokenizer" /tmp/negatron-models
  mpirun --version | head -1
}
stage setup 120 setup
export DEPS=/tmp/negatron-deps
source benchmarks/gpu_env.sh >/dev/null 2>&1
export PYTHONPATH=/tmp/site:${PYTHONPATH:-}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 NCCL_DEBUG=WARN
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
MINILM=/tmp/negatron-models/minilm_shaped
BERT_BASE=/tmp/negatron-models/bert_base_shaped
NEG="$BUILD_DIR/src/negatron"

build() {
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNEGATRON_PYTHON="$PYTHON" "${CMAKE_DEPS_ARGS[@]}" &&
    ninja -C "$BUILD_DIR" -j"$(nproc)" negatron distributed_mpi_tests distributed_tests train_tests model_tests
}
stage build 330 build

unit() {
  NEGATRON_TEST_XML_DIR="$OUT" mpirun -n 1 "$BUILD_DIR/tests/distributed_mpi_tests" || return 1
  "$BUILD_DIR/tests/distributed_tests" --gtest_brief=1 && "$BUILD_DIR/tests/train_tests" --gtest_brief=1 &&
    "$BUILD_DIR/tests/model_tests" --gtest_brief=1 --gtest_filter='Token*' || return 1
}
stage nccl 90 unit
if grep -q "SKIPPED .*Nccl\." "$OUT/nccl.log"; then
  echo "FAIL nccl: the NCCL tests were skipped (no GPU or no NCCL seen)" | tee -a "$OUT/summary.txt"; FAILED=1
fi

# One tiny prepared dataset (SNLI dev triplets) for the training stages.
WORK=/tmp/negatron-gpu-work
rm -rf "$WORK"; mkdir -p "$WORK"
head -n 2049 data/snli/triplets_dev.tsv >"$WORK/triplets.tsv"
"$NEG" prepare --model "$MINILM" --input "$WORK/triplets.tsv" --columns anchor,positive,negative \
  --output "$WORK/ds" --no-progress >"$OUT/prepare.log" 2>&1

config() {  # config NAME '{"device": ..., "training": {...}, "model": {...}}' -> path of the written config
  "$PYTHON" - "$WORK" "$MINILM" "$1" "$2" <<'PY'
import json, sys
work, model, name, extra = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
config = {"model": {"path": model, "dropout": False},
          "datasets": [{"name": "snli", "path": f"{work}/ds", "loss": {"name": "MultipleNegativesRankingLoss"}}],
          "training": {"per_device_train_batch_size": 64, "max_steps": 20, "learning_rate": 5e-5, "logging_steps": 1,
                       "warmup_ratio": 0.0, "seed": 11, "threads": 16},
          "device": "cuda", "output_dir": f"{work}/{name}"}
for key, value in extra.items():
    if isinstance(value, dict): config[key].update(value)
    else: config[key] = value
open(f"{work}/{name}.yaml", "w").write(json.dumps(config))
print(f"{work}/{name}.yaml")
PY
}

bf16() {
  "$NEG" train --config "$(config gpu_bf16 '{"training": {"bf16": true}}')" &&
    "$NEG" train --config "$(config gpu_fp32 '{}')" &&
    "$NEG" train --config "$(config cpu_fp32 '{"device": "cpu"}')" || return 1
  "$PYTHON" - "$WORK" <<'PY'
import json, sys
root = sys.argv[1]
def losses(run): return [r["loss"] for r in map(json.loads, open(f"{root}/{run}/metrics.jsonl")) if r["type"] == "train"]
cpu, bf16, fp32 = losses("cpu_fp32"), losses("gpu_bf16"), losses("gpu_fp32")
ok = len(cpu) == len(bf16) == len(fp32) == 20
for step, (c, b, f) in enumerate(zip(cpu, bf16, fp32), 1):
    good = abs(b - c) <= 0.03 * abs(c) and abs(f - c) <= 1e-3 * abs(c)
    ok &= good
    print(f"step {step:2d}: cpu fp32 {c:.6f}  gpu bf16 {b:.6f} ({(b - c) / c:+.2e})  gpu fp32 {f:.6f} ({(f - c) / c:+.2e}) {'' if good else 'MISMATCH'}")
sys.exit(0 if ok else 1)
PY
}
stage bf16 120 bf16

sync() {
  NEGATRON_STRICT_SYNC=1 "$NEG" train --config \
    "$(config strict '{"model": {"dropout": true}, "training": {"bf16": true, "max_steps": 12, "logging_steps": 6}}')" || return 1
  "$PYTHON" -c '
import json, sys
records = [r for r in map(json.loads, open(sys.argv[1])) if r["type"] == "train"]
print(records)
sys.exit(0 if records and all(r["host_reads_steady_steps"] == 0 for r in records) else 1)' "$WORK/strict/metrics.jsonl"
}
stage sync 90 sync

resume() {
  # 4 steps with a checkpoint at step 2, then a second run resumed from that checkpoint: steps 3 and 4
  # must repeat (dropout on, so the CUDA generator's state matters).
  "$NEG" train --config "$(config straight '{"model": {"dropout": true}, "training": {"max_steps": 4, "save_steps": 2}}')" &&
    "$NEG" train --config "$(config resumed '{"model": {"dropout": true}, "training": {"max_steps": 4, "save_steps": 2}}')" \
      --resume "$WORK/straight/checkpoint-2" || return 1
  "$PYTHON" - "$WORK" <<'PY'
import json, sys
import numpy as np
from safetensors.numpy import load_file
root = sys.argv[1]
def losses(run): return {r["step"]: r["loss"] for r in map(json.loads, open(f"{root}/{run}/metrics.jsonl")) if r["type"] == "train"}
a, b = losses("straight"), losses("resumed")
a_w, b_w = load_file(f"{root}/straight/final/model.safetensors"), load_file(f"{root}/resumed/final/model.safetensors")
loss_diff = max(abs(a[s] - b[s]) / abs(a[s]) for s in (3, 4))
weight_diff = max(float(np.abs(a_w[k] - b_w[k]).max()) for k in a_w)
print(f"steps 3-4 losses straight {[a[3], a[4]]} resumed {[b[3], b[4]]}: max rel diff {loss_diff:.2e}; max |weight diff| {weight_diff:.2e}")
sys.exit(0 if loss_diff <= 1e-6 and weight_diff <= 1e-5 else 1)
PY
}
stage resume 120 resume

speed() {
  for model in "$MINILM" "$BERT_BASE"; do
    "$PYTHON" benchmarks/bench_vs_st_trainer.py --binary "$NEG" --model "$model" --device cuda --bf16 --tasks mnrl \
      --batch 128 --max-seq-length 128 --steps 20 --warmup 5 --threads 8 --workdir "$WORK/speed_$(basename "$model")" || return 1
  done
}
stage speed 200 speed

cat "$OUT/summary.txt"
exit $FAILED
