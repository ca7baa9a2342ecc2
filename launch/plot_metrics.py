#!/usr/bin/env python3
"""Plots a negatron metrics.jsonl: training loss per step, and every evaluation metric over steps.

  .venv/bin/python launch/plot_metrics.py out/demo/metrics.jsonl out/demo/training.png
"""
import argparse
import json
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("metrics")
    parser.add_argument("png")
    parser.add_argument("--eval-metrics", default="spearman_cosine",
                        help="substring selecting which evaluation metrics to plot")
    args = parser.parse_args()
    losses = defaultdict(list)
    evals = defaultdict(list)
    with open(args.metrics) as f:
        for line in f:
            record = json.loads(line)
            if record["type"] == "train":
                losses[record.get("dataset", "train")].append((record["step"], record["loss"]))
            elif record["type"] == "eval":
                for key, value in record.items():
                    if args.eval_metrics in key:
                        evals[key].append((record["step"], value))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for name, points in losses.items():
        left.plot(*zip(*points), label=name)
    left.set(title="training loss (logged window mean)", xlabel="step", ylabel="loss")
    left.legend()
    for name, points in evals.items():
        right.plot(*zip(*points), marker="o", label=name)
    right.set(title="evaluation", xlabel="step")
    right.legend()
    fig.tight_layout()
    fig.savefig(args.png, dpi=110)
    print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
