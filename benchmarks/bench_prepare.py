#!/usr/bin/env python3
"""negatron prepare throughput at 1 and 2 threads and at 1 and 2 ranks, beside Hugging Face
`tokenizers`' batch encoding of the same rows (what a Python user would run to tokenize them).

Input: SNLI dev triplets repeated --copies times (TSV, 3 text columns). Each configuration runs as a
child process, all configurations in turn per repeat (A B C D E F, A B C ...), and reports rows/s of
the work itself: negatron's own "prepared N rows in S s" (reading, checking, tokenizing, compressing
and writing shards; model load excluded), and for tokenizers reading the TSV plus encode_batch of the
three columns (no output written). Medians over --repeats.

  .venv/bin/python benchmarks/bench_prepare.py --copies 20 --repeats 3
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
from conftest import minilm_path  # noqa: E402

TOKENIZERS_SCRIPT = r"""
import sys, time
from tokenizers import Tokenizer
tokenizer = Tokenizer.from_file(sys.argv[1] + "/tokenizer.json")
tokenizer.no_padding()
tokenizer.enable_truncation(256)
start = time.perf_counter()
with open(sys.argv[2], encoding="utf-8") as f:
    next(f)
    rows = [line.rstrip("\n").split("\t") for line in f]
for column in range(3):
    tokenizer.encode_batch([r[column] for r in rows])
print("SECONDS", time.perf_counter() - start, "ROWS", len(rows))
"""


def run(command, env):
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, command))}\n{result.stderr}")
    text = result.stdout + result.stderr
    match = re.search(r"prepared (\d+) rows in .* in ([0-9.e+-]+) s", text)
    if match:
        return int(match.group(1)) / float(match.group(2))
    match = re.search(r"SECONDS ([0-9.]+) ROWS (\d+)", text)
    return int(match.group(2)) / float(match.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(minilm_path()))
    parser.add_argument("--negatron", default=str(REPO / "build" / "src" / "negatron"))
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--shard-rows", type=int, default=10000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_prepare_"))
    lines = (REPO / "data/snli/triplets_dev.tsv").read_text(encoding="utf-8").splitlines(True)
    source = work / "triplets.tsv"
    with open(source, "w", encoding="utf-8") as f:
        f.write(lines[0])
        for _ in range(args.copies):
            f.writelines(lines[1:])
    rows = args.copies * (len(lines) - 1)
    mpirun = shutil.which("mpirun") or "mpirun"
    common = ["prepare", "--model", args.model, "--input", str(source), "--columns", "anchor,positive,negative",
              "--shard-rows", str(args.shard_rows), "--no-progress"]
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMP_NUM_THREADS="1")
    configs = {
        "negatron 1 rank x 1 thread": ([args.negatron, *common, "--threads", "1"], env),
        "negatron 1 rank x 2 threads": ([args.negatron, *common, "--threads", "2"], env),
        "negatron 2 ranks x 1 thread": ([mpirun, "-np", "2", args.negatron, *common, "--threads", "1"], env),
        "tokenizers encode_batch, 1 thread": ([sys.executable, "-c", TOKENIZERS_SCRIPT, args.model, str(source)],
                                              dict(env, RAYON_NUM_THREADS="1", TOKENIZERS_PARALLELISM="true")),
        "tokenizers encode_batch, 2 threads": ([sys.executable, "-c", TOKENIZERS_SCRIPT, args.model, str(source)],
                                               dict(env, RAYON_NUM_THREADS="2", TOKENIZERS_PARALLELISM="true")),
    }
    results = {name: [] for name in configs}
    for repeat in range(args.repeats):
        for name, (command, command_env) in configs.items():
            out = work / "out"
            results[name].append(run([*command, "--output", str(out)] if "prepare" in command else command, command_env))
            shutil.rmtree(out, ignore_errors=True)
            print(f"repeat {repeat}: {name}: {results[name][-1]:.0f} rows/s", flush=True)
    medians = {name: statistics.median(values) for name, values in results.items()}
    print(json.dumps({"rows": rows, "rows_per_s": medians}, indent=2))
    one = medians["negatron 1 rank x 1 thread"]
    print(f"scaling 1 -> 2 threads: {medians['negatron 1 rank x 2 threads'] / one:.2f}; "
          f"1 -> 2 ranks: {medians['negatron 2 ranks x 1 thread'] / one:.2f}; "
          f"tokenizers 1 -> 2 threads: {medians['tokenizers encode_batch, 2 threads'] / medians['tokenizers encode_batch, 1 thread']:.2f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
