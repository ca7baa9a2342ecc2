#!/usr/bin/env bash
# mpirun wrapper: one rank per GPU (or per CPU slot), ranks bound to cores, the environment every
# rank needs forwarded. Usage: launch/mpirun.sh -np N <command...>
# Env: NEGATRON_MPIRUN_ARGS (extra mpirun flags), OMP_NUM_THREADS (default 1 per rank on CPU).
set -euo pipefail
NP=""
if [[ "${1:-}" == "-np" || "${1:-}" == "-n" ]]; then NP="$2"; shift 2; fi
if [[ -z "$NP" ]]; then
  if command -v nvidia-smi >/dev/null 2>&1; then NP="$(nvidia-smi -L | wc -l)"; else NP=2; fi
fi
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
ARGS=(-np "$NP" --bind-to "${NEGATRON_BIND:-none}" -x OMP_NUM_THREADS -x HF_HUB_OFFLINE=1)
for var in NEGATRON_MINILM NEGATRON_DATA NEGATRON_OUTPUT LD_LIBRARY_PATH CUDA_VISIBLE_DEVICES; do
  if [[ -n "${!var:-}" ]]; then ARGS+=(-x "$var"); fi
done
if [[ $(id -u) -eq 0 ]]; then ARGS+=(--allow-run-as-root); fi
if (( NP > $(nproc) )); then ARGS+=(--oversubscribe); fi
# shellcheck disable=SC2206
ARGS+=(${NEGATRON_MPIRUN_ARGS:-})
echo "+ mpirun ${ARGS[*]} $*" >&2
exec mpirun "${ARGS[@]}" "$@"
