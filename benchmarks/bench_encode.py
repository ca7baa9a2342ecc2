#!/usr/bin/env python3
"""negatron encode vs SentenceTransformer.encode: same model, texts, batch size and threads.

Runs both as child processes of this one, alternating A B A B, and reports sentences/s of the
encode phase (model load excluded; each side times its own encode) and of the whole process,
with the median ratio negatron / sentence-transformers.

  .venv/bin/python benchmarks/bench_encode.py --threads 2 --batch-size 32 --texts 2000 --repeats 3
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
sys.path.insert(0, str(REPO / "tests" / "python"))
from conftest import banking_queries, minilm_path, snli_sentences, sts_sentences, write_jsonl  # noqa: E402

ST_SCRIPT = r"""
import sys, time, json, torch
torch.set_num_threads(int(sys.argv[3]))
from sentence_transformers import SentenceTransformer
texts = [json.loads(l)["text"] for l in open(sys.argv[2], encoding="utf-8")]
model = SentenceTransformer(sys.argv[1], device="cpu")
start = time.perf_counter()
model.encode(texts, batch_size=int(sys.argv[4]), convert_to_numpy=True)
print("ENCODE_SECONDS", time.perf_counter() - start)
"""


def texts_for(n):
    out = []
    for source in (sts_sentences("train"), snli_sentences("test"), banking_queries()):
        for t in source:
            out.append(t)
            if len(out) % (n // 3 + 1) == 0:
                break
    return out[:n]


def run(cmd, env):
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{result.stderr}")
    match = re.search(r"ENCODE_SECONDS ([0-9.]+)|encoded \d+ texts in ([0-9.]+) s", result.stdout + result.stderr)
    return float(match.group(1) or match.group(2)), wall


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(minilm_path()))
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--negatron", default=str(REPO / "build" / "src" / "negatron"))
    args = parser.parse_args()

    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS=str(args.threads))
    with tempfile.TemporaryDirectory() as tmp:
        inputs = write_jsonl(Path(tmp) / "texts.jsonl", texts_for(args.texts))
        ours_cmd = [args.negatron, "encode", "--model", args.model, "--input", str(inputs), "--column", "text",
                    "--output", str(Path(tmp) / "o.h5"), "--batch-size", str(args.batch_size),
                    "--threads", str(args.threads), "--no-progress"]
        theirs_cmd = [sys.executable, "-c", ST_SCRIPT, args.model, str(inputs), str(args.threads),
                      str(args.batch_size)]
        ours, theirs = [], []
        for _ in range(args.repeats):
            ours.append(run(ours_cmd, env))
            theirs.append(run(theirs_cmd, env))
    n = args.texts
    encode_ratio = statistics.median(t[0] / o[0] for o, t in zip(ours, theirs))
    wall_ratio = statistics.median(t[1] / o[1] for o, t in zip(ours, theirs))
    report = {
        "model": Path(args.model).name, "texts": n, "batch_size": args.batch_size, "threads": args.threads,
        "negatron_encode_sent_per_s": round(n / statistics.median(o[0] for o in ours), 1),
        "st_encode_sent_per_s": round(n / statistics.median(t[0] for t in theirs), 1),
        "encode_ratio": round(encode_ratio, 3),
        "negatron_wall_s": round(statistics.median(o[1] for o in ours), 2),
        "st_wall_s": round(statistics.median(t[1] for t in theirs), 2),
        "wall_ratio": round(wall_ratio, 3),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
