#!/usr/bin/env python3
"""Tiled against untiled in-batch softmax (issue 14), embedding level: MultipleNegativesRankingLoss on
(anchor, positive, hard negative) float32 embeddings, d=384, forward + backward, CPU.

For every batch size B the contenders run in turn, each in a process of its own (so that its peak
RSS is its own), --rounds times, alternating:
  tiled      `negatron loss --params '{"tile_size": T}'` (default T: null, i.e. auto)
  untiled    `negatron loss --params '{"tile_size": 0}'` (the whole [B, 2B] score matrix)
  main       `negatron loss` of --baseline-binary (main's build: the untiled code before issue 14)
  st         sentence-transformers' MultipleNegativesRankingLoss.compute_loss_from_embeddings +
             backward, in a child Python process
Time per step: the median over --repeats passes inside the process (after one untimed pass); peak
RSS: the child's ru_maxrss (os.wait4), which includes the executable's own baseline (~0.5 GB for the
CUDA-enabled torch wheel; --baseline-rss measures it with a 2-row batch). Every child runs with
OMP_NUM_THREADS=--threads and under an address-space cap (--max-gib, RLIMIT_AS), so that none can take
the shared machine's memory; a contender that fails under the cap is reported as such. A contender
whose score matrices would exceed --max-score-gib (three float32 copies of [B, 2B], what the
whole-matrix paths keep alive) is skipped at that B.

  .venv/bin/python benchmarks/bench_tiled.py --batch-sizes 1024 4096 8192 --rounds 3
"""
import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

REPO = Path(__file__).resolve().parents[1]
NAME = "MultipleNegativesRankingLoss"

ST_CHILD = r"""
import statistics, sys, time
import h5py, torch
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
torch.set_num_threads(int(sys.argv[2]))
with h5py.File(sys.argv[1]) as f:
    columns = [torch.from_numpy(f[f"columns/{i}"][:]) for i in range(len(f["columns"]))]
loss_fn = MultipleNegativesRankingLoss(model=None)
times = []
for i in range(int(sys.argv[3]) + 1):
    embs = [c.clone().requires_grad_(True) for c in columns]
    start = time.perf_counter()
    loss = loss_fn.compute_loss_from_embeddings(embs, None)
    loss.backward()
    if i:
        times.append((time.perf_counter() - start) * 1000)
print(f"median {statistics.median(times)} ms loss {float(loss)}")
"""


CAP = {"bytes": resource.RLIM_INFINITY, "threads": 1}


class OverCap(Exception):
    pass


def cap_child():
    resource.setrlimit(resource.RLIMIT_AS, (CAP["bytes"], CAP["bytes"]))


def run_child(cmd):
    """(stdout + stderr, peak RSS in MiB, wall seconds) of one child process, capped and with
    CAP["threads"] OpenMP threads; OverCap when it fails for lack of memory."""
    threads = str(CAP["threads"])
    env = dict(os.environ, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True, env=env, preexec_fn=cap_child)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        text = log.read()
    if proc.returncode != 0 and re.search(r"alloc|memory|MemoryError|bad_alloc", text, re.I):
        raise OverCap(text[-300:])
    if proc.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{text[-3000:]}")
    return text, usage.ru_maxrss / 1024, time.perf_counter() - start


def negatron(binary, inp, out, threads, repeats, params):
    cmd = [binary, "loss", "--name", NAME, "--input", inp, "--output", out, "--threads", str(threads),
           "--repeat", str(repeats)]
    if params is not None:
        cmd += ["--params", json.dumps(params)]
    text, rss, _ = run_child(cmd)
    ms = float(re.search(r"median ([0-9.e+-]+) ms", text).group(1))
    loss = float(re.search(r"loss ([0-9.e+-]+) on", text).group(1))
    return ms, rss, loss


def sentence_transformers(inp, threads, repeats):
    text, rss, _ = run_child([sys.executable, "-c", ST_CHILD, inp, str(threads), str(repeats)])
    match = re.search(r"median ([0-9.e+-]+) ms loss ([0-9.e+-]+)", text)
    return float(match.group(1)), rss, float(match.group(2))


def run_contender(c, args, inp, out):
    if c == "tiled":
        return negatron(args.binary, inp, out, args.threads, args.repeats, {"tile_size": args.tile_size})
    if c == "untiled":
        return negatron(args.binary, inp, out, args.threads, args.repeats, {"tile_size": 0})
    if c == "main":
        return negatron(args.baseline_binary, inp, out, args.threads, args.repeats, None)
    return sentence_transformers(str(inp), args.threads, args.repeats)


def print_baselines(args):
    """Peak RSS of each contender's executable on a 2-row batch: what it holds before any loss."""
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.h5", Path(tmp) / "out.h5"
        with h5py.File(inp, "w") as f:
            for i in range(3):
                f[f"columns/{i}"] = np.ones((2, args.dimension), np.float32)
        for c in args.contenders:
            rss = run_contender(c, args, inp, out)[1]
            print(f"baseline peak RSS (2 rows) {c}: {rss:.0f} MiB", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.environ.get("NEGATRON_BIN", str(REPO / "build" / "src" / "negatron")))
    parser.add_argument("--baseline-binary", default="/work/main/build/src/negatron",
                        help="for contender 'main': main's build (the untiled code before issue 14)")
    parser.add_argument("--threads", type=int, default=1, help="torch / OpenMP threads of every contender")
    parser.add_argument("--dimension", type=int, default=384)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1024, 4096, 8192, 16384, 32768])
    parser.add_argument("--tile-size", type=int, default=None, help="tiled contender's tile_size (default: auto)")
    parser.add_argument("--repeats", type=int, default=2, help="timed passes per process")
    parser.add_argument("--rounds", type=int, default=2, help="alternating runs of every contender")
    parser.add_argument("--max-score-gib", type=float, default=7.0)
    parser.add_argument("--max-gib", type=float, default=8.0, help="address-space cap of every child (RLIMIT_AS)")
    parser.add_argument("--baseline-rss", action="store_true",
                        help="also report each executable's peak RSS on a 2-row batch (its fixed baseline)")
    parser.add_argument("--contenders", nargs="+", default=["tiled", "untiled", "st"],
                        choices=["tiled", "untiled", "main", "st"])
    args = parser.parse_args()
    CAP["bytes"] = int(args.max_gib * 2**30)
    CAP["threads"] = args.threads
    print(f"{NAME}, (anchor, positive, negative) float32, d={args.dimension}, {args.threads} threads, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}, {args.rounds} alternating rounds of "
          f"{args.repeats} timed passes; per contender the median ms and the max peak RSS over rounds")
    if args.baseline_rss:
        print_baselines(args)
    print("| B | contender | ms per step (rounds) | median ms | peak RSS MiB | loss |")
    print("|---|---|---|---|---|---|")
    for b in args.batch_sizes:
        score_gib = 3 * b * 2 * b * 4 / 2**30
        contenders = [c for c in args.contenders if c == "tiled" or score_gib <= args.max_score_gib]
        if "main" in contenders and not args.baseline_binary:
            contenders.remove("main")
        rng = np.random.default_rng(b)
        with tempfile.TemporaryDirectory() as tmp:
            inp, out = Path(tmp) / "in.h5", Path(tmp) / "out.h5"
            with h5py.File(inp, "w") as f:
                for i in range(3):
                    f[f"columns/{i}"] = rng.standard_normal((b, args.dimension)).astype(np.float32)
            results = {c: [] for c in contenders}
            over_cap = set()
            for _ in range(args.rounds):
                for c in contenders:
                    if c in over_cap:
                        continue
                    try:
                        results[c].append(run_contender(c, args, inp, out))
                    except OverCap:
                        over_cap.add(c)
            for c in contenders:
                if c in over_cap:
                    print(f"| {b} | {c} | failed under the {args.max_gib:g} GiB cap | | | |", flush=True)
                    continue
                ms = [r[0] for r in results[c]]
                print(f"| {b} | {c} | {', '.join(f'{m:.0f}' for m in ms)} | {statistics.median(ms):.0f} | "
                      f"{max(r[1] for r in results[c]):.0f} | {results[c][0][2]:.6f} |", flush=True)
        skipped = [c for c in args.contenders if c not in contenders]
        if skipped:
            print(f"| {b} | {', '.join(skipped)} | skipped: {score_gib:.1f} GiB of score matrices | | | |", flush=True)


if __name__ == "__main__":
    main()
