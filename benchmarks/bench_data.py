#!/usr/bin/env python3
"""Data path throughput: `negatron prepare` rows/s, the prefetching reader's batches/s, and the rate
at which training all-MiniLM-L6-v2 consumes batches (sentence-transformers MNRL step on the same
threads, as a stand-in for the trainer), with the reader / consumption ratio (target >= 10x).

  .venv/bin/python benchmarks/bench_data.py --copies 20 --threads 2 --batch-size 64

--consumption R skips the sentence-transformers step and compares the reader with R batches/s
instead (e.g. the trainer's measured rate); --no-cache also measures the reader with the HDF5
chunk cache off (NEGATRON_HDF5_CHUNK_CACHE_MB=0), the regime of a dataset far larger than the cache.
NEGATRON_BIN selects the binary (default build/src/negatron).
"""
import os
import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
from conftest import DATA, minilm_path, negatron_bin  # noqa: E402


def triplets():
    lines = (DATA / "snli" / "triplets_dev.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [line.split("\t") for line in lines]


def write_input(path: Path, copies: int) -> int:
    rows = triplets()
    with open(path, "w", encoding="utf-8") as f:
        for copy in range(copies):  # distinct texts per copy, so NO_DUPLICATES has work to do
            for a, p, n in rows:
                f.write(json.dumps({"anchor": f"{a} #{copy}", "positive": p, "negative": n}) + "\n")
    return copies * len(rows)


def prepare(model, source, out, threads):
    start = time.perf_counter()
    subprocess.run([negatron_bin(), "prepare", "--model", model, "--input", source, "--columns",
                    "anchor,positive,negative", "--threads", str(threads), "--shard-rows", "20000",
                    "--no-progress", "--output", out], check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def read_bench(dataset, sampler, batch_size, steps, window, env=None):
    result = subprocess.run([negatron_bin(), "read-bench", "--dataset", dataset, "--sampler", sampler,
                             "--batch-size", str(batch_size), "--steps", str(steps), "--window", str(window)],
                            check=True, capture_output=True, text=True, env={**os.environ, **(env or {})})
    return float(re.search(r"BATCHES_PER_S ([0-9.e+]+)", result.stderr + result.stdout).group(1))


def training_steps_per_second(model, batch_size, threads, steps=3):
    import torch
    from sentence_transformers import SentenceTransformer, losses

    torch.set_num_threads(threads)
    st = SentenceTransformer(str(model), device="cpu")
    loss = losses.MultipleNegativesRankingLoss(st)
    optimizer = torch.optim.AdamW(st.parameters(), lr=2e-5)
    rows = triplets()[:batch_size]
    features = [st.tokenize([r[i] for r in rows]) for i in range(3)]
    timings = []
    for _ in range(steps + 1):
        start = time.perf_counter()
        optimizer.zero_grad()
        loss(features, None).backward()
        optimizer.step()
        timings.append(time.perf_counter() - start)
    return 1.0 / min(timings[1:])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=300, help="batches per reader measurement")
    parser.add_argument("--window", type=int, default=8, help="prefetch window")
    parser.add_argument("--repeats", type=int, default=1, help="reader runs per sampler; the best is reported")
    parser.add_argument("--consumption", type=float, default=None,
                        help="training consumption in batches/s to compare with (skips the ST measurement)")
    parser.add_argument("--no-cache", action="store_true", help="also measure with the HDF5 chunk cache off")
    args = parser.parse_args()
    model = minilm_path()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "triplets.jsonl"
        rows = write_input(source, args.copies)
        seconds = prepare(model, source, Path(tmp) / "ds", args.threads)
        print(f"prepare: {rows} triplets in {seconds:.2f} s (whole process) = {rows / seconds:.0f} rows/s")
        if args.consumption is None:
            train = training_steps_per_second(model, args.batch_size, args.threads)
            print(f"training consumption (ST MNRL step, batch {args.batch_size} triplets, {args.threads} threads): "
                  f"{train:.2f} batches/s")
        else:
            train = args.consumption
            print(f"training consumption (given): {train:.2f} batches/s")
        modes = [("", {})] + ([(" (chunk cache off)", {"NEGATRON_HDF5_CHUNK_CACHE_MB": "0"})] if args.no_cache else [])
        for label, env in modes:
            for sampler in ("BATCH_SAMPLER", "NO_DUPLICATES"):
                rate = max(read_bench(Path(tmp) / "ds", sampler, args.batch_size, args.steps, args.window, env)
                           for _ in range(args.repeats))
                print(f"reader {sampler}{label}: {rate:.1f} batches/s of {args.batch_size} triplets "
                      f"= {rate / train:.0f}x training")


if __name__ == "__main__":
    main()
