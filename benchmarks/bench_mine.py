#!/usr/bin/env python3
"""negatron mine vs sentence-transformers' mine_hard_negatives on a corpus of every distinct text in
data/ (57k: STS-B, SNLI, TREC, BANKING77), mining 3 negatives for SNLI's entailment pairs (dev + test).

Both sides use all-MiniLM-L6-v2, exact search (use_faiss=False), sampling "top", triplets, encode batch
32 and the same number of CPU threads; they run as child processes in turn. Times are each side's own
(model load excluded): the mine_hard_negatives call, and negatron's "mined ... in S s" (reading,
encoding, searching, choosing, writing the tokenized dataset). Peak RSS is the child's (for mpirun:
its largest process). sentence-transformers runs with faiss_batch_size 4096 (scores 4096 x 57k at a
time, ~0.9 GB; its default 16384 would hold 3.7 GB); negatron with --score-memory-mb 256.

  .venv/bin/python benchmarks/bench_mine.py --threads 2 --repeats 1
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
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
from conftest import DATA, banking_queries, minilm_path, snli_sentences, sts_sentences, trec_questions  # noqa: E402

ST_SCRIPT = r"""
import sys, time, torch
torch.set_num_threads(int(sys.argv[4]))
from datasets import Dataset
from sentence_transformers import SentenceTransformer
from sentence_transformers.util import mine_hard_negatives
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[2], encoding="utf-8")][1:]
corpus = [l.rstrip("\n") for l in open(sys.argv[3], encoding="utf-8")]
model = SentenceTransformer(sys.argv[1], device="cpu")
dataset = Dataset.from_dict({"anchor": [r[0] for r in rows], "positive": [r[1] for r in rows]})
start = time.perf_counter()
out = mine_hard_negatives(dataset, model, corpus=corpus, num_negatives=3, sampling_strategy="top",
                          use_faiss=False, batch_size=32, faiss_batch_size=4096, verbose=False)
print("SECONDS", time.perf_counter() - start, "ROWS", len(out))
"""


def build_inputs(work: Path):
    pairs = []
    for split in ("dev", "test"):
        for line in list(open(DATA / f"snli/pairs_{split}.tsv", encoding="utf-8"))[1:]:
            a, b, label = line.rstrip("\n").split("\t")
            if label == "entailment":
                pairs.append((a, b))
    seen, corpus = set(), []
    for source in (sts_sentences("train"), sts_sentences("dev"), sts_sentences("test"), snli_sentences("dev"),
                   snli_sentences("test"), trec_questions("train_5500.label"), trec_questions("TREC_10.label"),
                   banking_queries()):
        for text in source:
            text = text.replace("\n", " ")
            if text not in seen:
                seen.add(text)
                corpus.append(text)
    (work / "pairs.tsv").write_text("anchor\tpositive\n" + "".join(f"{a}\t{b}\n" for a, b in pairs), encoding="utf-8")
    (work / "corpus.txt").write_text("".join(t + "\n" for t in corpus), encoding="utf-8")
    return len(pairs), len(corpus)


def run(command, env):
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(map(str, command))}\n{output[-3000:]}")
    match = re.search(r"SECONDS ([0-9.]+) ROWS (\d+)", output) or re.search(r"mined (\d+) rows .* in ([0-9.]+) s", output)
    seconds, rows = (float(match.group(1)), int(match.group(2))) if "SECONDS" in match.group(0) else \
        (float(match.group(2)), int(match.group(1)))
    return {"seconds": seconds, "rows": rows, "wall": wall, "peak_rss_mib": usage.ru_maxrss / 1024}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(minilm_path()))
    parser.add_argument("--negatron", default=str(REPO / "build" / "src" / "negatron"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_mine_"))
    pairs, corpus = build_inputs(work)
    print(f"{pairs} pairs, corpus of {corpus} distinct texts", flush=True)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    mine = [args.negatron, "mine", "--model", args.model, "--input", str(work / "pairs.tsv"), "--corpus",
            str(work / "corpus.txt"), "--num-negatives", "3", "--batch-size", "32", "--no-progress"]
    configs = {
        "sentence-transformers": [sys.executable, "-c", ST_SCRIPT, args.model, str(work / "pairs.tsv"),
                                  str(work / "corpus.txt"), str(args.threads)],
        f"negatron, 1 rank x {args.threads} threads": [*mine, "--threads", str(args.threads), "--output",
                                                       str(work / "out1")],
        f"negatron, {args.threads} ranks x 1 thread": [shutil.which("mpirun") or "mpirun", "-np", str(args.threads),
                                                       *mine, "--threads", "1", "--output", str(work / "out2")],
    }
    results = {name: [] for name in configs}
    for repeat in range(args.repeats):
        for name, command in configs.items():
            results[name].append(run(command, env))
            print(f"repeat {repeat}: {name}: {results[name][-1]}", flush=True)
    summary = {name: {key: statistics.median(r[key] for r in runs) for key in runs[0]} for name, runs in results.items()}
    st = summary["sentence-transformers"]["seconds"]
    for name, values in summary.items():
        values["speedup_vs_st"] = st / values["seconds"]
    print(json.dumps(summary, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
