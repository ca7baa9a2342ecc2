#!/usr/bin/env python3
"""negatron tokenize vs Hugging Face `tokenizers` (Rust, batch encoding): the same tokenizer.json, texts,
truncation and threads, each writing the ids as JSON lines.

Both run as child processes of this one, alternating A B A B; each times its own tokenize-and-write phase
(reading the input and loading the tokenizer excluded), and the figure is the median ratio.

  .venv/bin/python benchmarks/bench_tokenize.py --threads 2 --repeats 5
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
from conftest import minilm_path, write_jsonl  # noqa: E402
from test_tokenizer_parity import shipped_texts  # noqa: E402

HF_SCRIPT = r"""
import json, sys, time
from tokenizers import Tokenizer
texts = [json.loads(l)["text"] for l in open(sys.argv[2], encoding="utf-8")]
tokenizer = Tokenizer.from_file(sys.argv[1])
tokenizer.enable_truncation(int(sys.argv[4]))
tokenizer.no_padding()
start = time.perf_counter()
encodings = tokenizer.encode_batch(texts)
with open(sys.argv[3], "w") as out:
    for e in encodings:
        out.write(json.dumps(e.ids, separators=(",", ":")) + "\n")
print("TOKENIZE_SECONDS", time.perf_counter() - start)
"""


def timed(cmd, env):
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{result.stderr}")
    match = re.search(r"TOKENIZE_SECONDS ([0-9.eE+-]+)| in ([0-9.eE+-]+) s \(max_seq_length", result.stdout + result.stderr)
    return float(match.group(1) or match.group(2))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(minilm_path()))
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--max-seq-length", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--negatron", default=str(REPO / "build" / "src" / "negatron"))
    args = parser.parse_args()

    texts = shipped_texts()
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads), TOKENIZERS_PARALLELISM="true")
    with tempfile.TemporaryDirectory() as tmp:
        inputs = write_jsonl(Path(tmp) / "texts.jsonl", texts)
        ours_cmd = [args.negatron, "tokenize", "--model", args.model, "--input", str(inputs), "--column", "text",
                    "--max-seq-length", str(args.max_seq_length), "--threads", str(args.threads),
                    "--output", str(Path(tmp) / "ours.jsonl")]
        theirs_cmd = [sys.executable, "-c", HF_SCRIPT, str(Path(args.model) / "tokenizer.json"), str(inputs),
                      str(Path(tmp) / "theirs.jsonl"), str(args.max_seq_length)]
        ours, theirs = [], []
        for _ in range(args.repeats):
            ours.append(timed(ours_cmd, env))
            theirs.append(timed(theirs_cmd, env))
        same = (Path(tmp) / "ours.jsonl").read_text() == (Path(tmp) / "theirs.jsonl").read_text()
    n = len(texts)
    print(f"{n} texts, {args.threads} thread(s), max_seq_length {args.max_seq_length}; identical ids: {same}")
    print(f"negatron tokenize   {n / statistics.median(ours):10.0f} texts/s (median of {args.repeats})")
    print(f"tokenizers (Rust)   {n / statistics.median(theirs):10.0f} texts/s")
    print(f"ratio negatron / tokenizers: {statistics.median(t / o for o, t in zip(ours, theirs)):.2f}")


if __name__ == "__main__":
    main()
