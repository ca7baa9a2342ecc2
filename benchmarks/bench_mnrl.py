#!/usr/bin/env python3
"""MultipleNegativesRankingLoss forward+backward: negatron vs sentence-transformers on the same float32
(anchor, positive) embeddings, same thread count, CPU.

negatron is timed inside the process (`negatron loss --repeat N`: median of N passes after a warm-up,
via bench_losses.negatron_ms), sentence-transformers in this process (compute_loss_from_embeddings +
backward, median of N after one warm-up). Also reports how far apart the losses and gradients are.

  .venv/bin/python benchmarks/bench_mnrl.py --threads 2 --batch-sizes 256 1024 4096 --repeats 10
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_losses import REPO, negatron_ms  # noqa: E402

NAME = "MultipleNegativesRankingLoss"


def st_ms(columns, repeats):
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    loss_fn = MultipleNegativesRankingLoss(model=None)
    times, loss, grads = [], None, None
    for i in range(repeats + 1):
        embs = [torch.from_numpy(c).requires_grad_(True) for c in columns]
        start = time.perf_counter()
        loss = loss_fn.compute_loss_from_embeddings(embs, None)
        loss.backward()
        if i:
            times.append((time.perf_counter() - start) * 1000)
        grads = [e.grad.numpy() for e in embs]
    return statistics.median(times), float(loss.detach()), grads


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.environ.get("NEGATRON_BIN", str(REPO / "build" / "src" / "negatron")))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dimension", type=int, default=384)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[256, 1024, 4096])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{NAME}, (anchor, positive) float32, d={args.dimension}, {args.threads} threads, median of {args.repeats}")
    print("| B | negatron ms | sentence-transformers ms | speed-up | loss (negatron / ST) | max rel grad diff |")
    print("|---|---|---|---|---|---|")
    for b in args.batch_sizes:
        rng = np.random.default_rng(b)
        columns = [rng.standard_normal((b, args.dimension)).astype(np.float32) for _ in range(2)]
        ours, our_loss, our_grads = negatron_ms(args.binary, columns, None, args.threads, args.repeats,
                                                name=NAME, with_grads=True)
        theirs, their_loss, their_grads = st_ms(columns, args.repeats)
        rel = max(float(np.abs(a - t).max() / np.abs(t).max()) for a, t in zip(our_grads, their_grads))
        print(f"| {b} | {ours:.2f} | {theirs:.2f} | {theirs / ours:.2f}x | {our_loss:.6f} / {their_loss:.6f} "
              f"| {rel:.1e} |", flush=True)


if __name__ == "__main__":
    main()
