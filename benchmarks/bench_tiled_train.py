#!/usr/bin/env python3
"""Peak RSS per rank of CachedMultipleNegativesRankingLoss training steps against the global batch
(issue 14): `mpirun -np 2 negatron train`, a small random BERT (hidden 32, 2 layers, MiniLM's
tokenizer) at max_seq_length 16, so that the encoder is cheap and the loss (tiled, gathered across
both ranks) dominates. Each global batch size runs --steps optimizer steps on synthetic (anchor,
positive) pairs of distinct texts (no_duplicates sampler); every rank runs under /usr/bin/time, which
reports its peak RSS. The batch sizes run alternately, --rounds times. Every process runs with one
OpenMP thread and under an address-space cap (--max-gib per process, RLIMIT_AS): the machine is shared.

  .venv/bin/python benchmarks/bench_tiled_train.py --global-batches 4096 65536 --rounds 2
"""
import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
from conftest import minilm_path  # noqa: E402
from loss_harness import make_tiny_st_model  # noqa: E402

WORDS = ("river stone light garden window market winter paper engine forest silver music table rain "
         "bridge letter mountain coffee island station yellow quiet morning travel doctor").split()


def write_pairs(path, rows, seed=0):
    """rows distinct (anchor, positive) pairs of about 8-12 tokens each."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        f.write("anchor\tpositive\n")
        for i in range(rows):
            words = rng.sample(WORDS, 5)
            f.write(f"query {i} {' '.join(words)}\tpassage {i} about {' '.join(reversed(words))}\n")


def train(binary, model, dataset, global_batch, steps, mini_batch, tile_size, root, max_gib):
    out = root / f"run_{global_batch}"
    config = root / f"config_{global_batch}.json"
    loss = {"name": "CachedMultipleNegativesRankingLoss", "mini_batch_size": mini_batch, "tile_size": tile_size}
    config.write_text(json.dumps({
        "model": {"path": str(model), "max_seq_length": 16},
        "datasets": [{"name": "pairs", "path": str(dataset), "loss": loss}],
        "training": {"per_device_train_batch_size": global_batch // 2, "max_steps": steps, "learning_rate": 1e-4,
                     "logging_steps": 1, "threads": 1, "batch_sampler": "no_duplicates", "save_steps": 0},
        "distributed": {"gather_across_devices": True},
        "output_dir": str(out)}))
    root_flag = ["--allow-run-as-root"] if os.geteuid() == 0 else []
    cmd = ["mpirun", "-np", "2", "--oversubscribe", *root_flag, "/usr/bin/time", "-f", "peak_rss_kb %M",
           binary, "train", "--config", str(config)]
    cap = int(max_gib * 2**30)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, env=env,
                            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (cap, cap)))
    wall = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(result.stdout[-2000:] + result.stderr[-4000:])
    rss = [int(kb) / 1024 for kb in re.findall(r"peak_rss_kb (\d+)", result.stderr)]
    records = [json.loads(line) for line in open(out / "metrics.jsonl")]
    train_records = [r for r in records if r["type"] == "train"]
    step_s = [r["time_compute_s"] for r in train_records]
    return rss, step_s, wall, train_records[-1]["loss"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.environ.get("NEGATRON_BIN", str(REPO / "build" / "src" / "negatron")))
    parser.add_argument("--global-batches", type=int, nargs="+", default=[4096, 65536])
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--mini-batch", type=int, default=4096)
    parser.add_argument("--tile-size", type=int, default=None, help="default: auto")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--max-gib", type=float, default=6.0, help="address-space cap of every process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = make_tiny_st_model(root, minilm_path())
        rows = max(args.global_batches) * args.steps
        pairs = root / "pairs.tsv"
        write_pairs(pairs, rows)
        dataset = root / "pairs_ds"
        subprocess.run([args.binary, "prepare", "--model", str(model), "--input", str(pairs), "--columns",
                        "anchor,positive", "--output", str(dataset), "--no-progress"], check=True, capture_output=True)
        print(f"CachedMultipleNegativesRankingLoss, 2 ranks (MPI), tiny BERT hidden 32 x 2 layers, max_seq_length 16, "
              f"mini_batch_size {args.mini_batch}, tile_size {args.tile_size or 'auto'}, {args.steps} steps, "
              f"{rows} distinct pairs")
        print("| global batch | round | peak RSS rank 0 / rank 1 MiB | compute s per step (rank 0) | wall s | last loss |")
        print("|---|---|---|---|---|---|")
        for round_index in range(args.rounds):
            for g in args.global_batches:
                rss, step_s, wall, loss = train(args.binary, model, dataset, g, args.steps, args.mini_batch,
                                                args.tile_size, root, args.max_gib)
                print(f"| {g} | {round_index + 1} | {' / '.join(f'{r:.0f}' for r in rss)} | "
                      f"{', '.join(f'{s:.1f}' for s in step_s)} | {wall:.0f} | {loss:.4f} |", flush=True)


if __name__ == "__main__":
    main()
