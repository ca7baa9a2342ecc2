#!/usr/bin/env python3
"""BatchSemiHardTripletLoss forward+backward: negatron (sort + binary search, O(B^2) memory) vs
sentence-transformers (a [B^2, B] tile), same float32 embeddings, labels and thread count.

negatron is timed inside the process (`negatron loss --repeat N` logs the median of N passes after a
warm-up), sentence-transformers in this process (median of N after one warm-up); both on CPU.

  .venv/bin/python benchmarks/bench_losses.py --threads 2 --batch-sizes 128 256 512 --repeats 20
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]


def negatron_ms(binary, x, labels, threads, repeats, name="BatchSemiHardTripletLoss", with_grads=False):
    """Median ms of `negatron loss --repeat` and the loss. x: one [B, d] array or a list of columns;
    labels may be None. With with_grads also returns [grad per column]."""
    columns = x if isinstance(x, (list, tuple)) else [x]
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.h5", Path(tmp) / "out.h5"
        with h5py.File(inp, "w") as f:
            for i, column in enumerate(columns):
                f[f"columns/{i}"] = column
            if labels is not None:
                f["labels"] = labels
        result = subprocess.run([binary, "loss", "--name", name, "--input", str(inp),
                                 "--output", str(out), "--threads", str(threads), "--repeat", str(repeats)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(result.stderr)
        with h5py.File(out) as f:
            loss = float(f["loss"][()])
            grads = [f[f"grad/{i}"][:] for i in range(len(columns))] if with_grads else None
    ms = float(re.search(r"median ([0-9.e+-]+) ms", result.stdout + result.stderr).group(1))
    return (ms, loss, grads) if with_grads else (ms, loss)


def st_ms(x, labels, repeats):
    from sentence_transformers.sentence_transformer.losses import BatchSemiHardTripletLoss

    loss_fn = BatchSemiHardTripletLoss(model=None)
    times, loss = [], None
    for i in range(repeats + 1):
        emb = torch.from_numpy(x).requires_grad_(True)
        start = time.perf_counter()
        loss = loss_fn.compute_loss_from_embeddings([emb], torch.from_numpy(labels))
        loss.backward()
        if i:
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), float(loss.detach())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.environ.get("NEGATRON_BIN", str(REPO / "build" / "src" / "negatron")))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dimension", type=int, default=384)
    parser.add_argument("--classes", type=int, default=32)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[256])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"BatchSemiHardTripletLoss, float32, d={args.dimension}, {args.classes} classes, {args.threads} threads, "
          f"median of {args.repeats}")
    print("| B | negatron ms | sentence-transformers ms | speed-up | loss (negatron / ST) |")
    print("|---|---|---|---|---|")
    for b in args.batch_sizes:
        rng = np.random.default_rng(b)
        x = rng.standard_normal((b, args.dimension)).astype(np.float32)
        labels = rng.integers(0, args.classes, b)
        ours, our_loss = negatron_ms(args.binary, x, labels, args.threads, args.repeats)
        theirs, their_loss = st_ms(x, labels, args.repeats)
        print(f"| {b} | {ours:.2f} | {theirs:.2f} | {theirs / ours:.1f}x | {our_loss:.6f} / {their_loss:.6f} |")


if __name__ == "__main__":
    main()
