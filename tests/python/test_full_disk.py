"""Every writer under a full disk: each command runs under a file-size limit (RLIMIT_FSIZE) at several sizes.
A run either succeeds with complete output, or exits 1 naming the file and the OS error ("File too large"),
leaves what was at the destination before byte for byte, leaves no temporary file or folder, and never
crashes (no SIGSEGV at exit after a failed HDF5 write, no std::terminate from torch::save)."""
import hashlib
import json
import os
import shutil
import subprocess

import h5py
import numpy as np
import pytest
from conftest import assert_clean_failure, negatron_bin, prepare_triplets, run_negatron, snli_triplets
from loss_harness import make_tiny_st_model

BIG = 10**10
TEMPORARY_MARKERS = (".tmp-", ".partial", ".old-")


def run_limited(limit, *args):
    """negatron under mpirun with a file-size limit on the negatron process only: MPI's own runtime (the
    PMIx server in mpirun, or in a singleton's helper) needs shared-memory files larger than the limits
    used here, and prepare and train start MPI. SIGXFSZ keeps its default action (negatron must ignore
    it itself)."""
    root_flag = ["--allow-run-as-root"] if os.geteuid() == 0 else []
    command = ["mpirun", "-np", "1", *root_flag, "prlimit", f"--fsize={limit}", negatron_bin(), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def train_limited(limit, config):
    return run_limited(limit, "train", "--config", config)


def digest(path):
    """{relative path: sha256} of a file or a folder tree."""
    if path.is_file():
        return {".": hashlib.sha256(path.read_bytes()).hexdigest()}
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.rglob("*"))
            if p.is_file()}


def leftovers(folder):
    return [str(p) for p in folder.rglob("*") if any(m in p.name for m in TEMPORARY_MARKERS)]


def check_outcome(result, destination, before, limit):
    """Returns True if the run succeeded; else asserts it failed cleanly and left `destination` as it was."""
    assert leftovers(destination.parent) == [], f"limit {limit}: temporary files left"
    if result.returncode == 0:
        return True
    assert_clean_failure(result, "File too large", destination, context=f"limit {limit}")
    assert digest(destination) == before, f"limit {limit}: {destination} changed although the run failed"
    return False


@pytest.fixture(scope="module")
def setup(tmp_path_factory, minilm):
    root = tmp_path_factory.mktemp("full_disk")
    model = make_tiny_st_model(root, minilm, pooling_mode="mean")
    triplets = snli_triplets(root / "triplets.tsv", 240)
    texts = root / "texts.txt"
    texts.write_text("".join(line.split("\t")[0] + "\n" for line in triplets.read_text().splitlines()[1:]))
    return root, model, triplets, texts


def sweep(setup, name, limits, destination, make_previous, command, check_success):
    """Runs `command` at each limit with `make_previous` output at `destination` beforehand."""
    outcomes = []
    for limit in limits:
        make_previous()
        before = digest(destination)
        result = run_limited(limit, *command)
        succeeded = check_outcome(result, destination, before, limit)
        if succeeded:
            check_success()
        outcomes.append(succeeded)
    assert not outcomes[0] and outcomes[-1], f"{name}: expected a failure at the smallest limit and success at the last"


def test_prepare(setup):
    root, model, triplets, _ = setup
    out = root / "prepared"
    small = root / "small.tsv"
    small.write_text("".join(triplets.read_text().splitlines(True)[:11]))

    def previous():
        shutil.rmtree(out, ignore_errors=True)
        run_negatron("prepare", "--model", model, "--input", small, "--columns", "anchor,positive", "--output", out,
                     "--no-progress")

    def complete():
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["rows"] == 240 and len(manifest["shards"]) == 3

    sweep(setup, "prepare", [0, 700, 8192, 30000, BIG], out, previous,
          ["prepare", "--model", model, "--input", triplets, "--columns", "anchor,positive,negative", "--output", out,
           "--shard-rows", "100", "--no-progress"], complete)


def test_encode(setup):
    root, model, _, texts = setup
    out = root / "embeddings.h5"
    first = root / "first.txt"
    first.write_text("an older text\nand another\n")

    def previous():
        run_negatron("encode", "--model", model, "--input", first, "--output", out, "--no-progress")

    def complete():
        with h5py.File(out) as f:
            assert f["embeddings"].shape == (240, 32)

    sweep(setup, "encode", [0, 1000, 20000, BIG], out, previous,
          ["encode", "--model", model, "--input", texts, "--output", out, "--no-progress"], complete)


def test_tokenize(setup):
    root, model, _, texts = setup
    out = root / "ids.jsonl"

    def previous():
        out.write_text("[101, 102]\n")

    def complete():
        assert len(out.read_text().splitlines()) == 240

    sweep(setup, "tokenize", [0, 100, 5000, BIG], out, previous,
          ["tokenize", "--model", model, "--input", texts, "--output", out], complete)


def test_convert(setup):
    root, model, _, _ = setup
    out = root / "converted"

    def previous():
        if not out.exists():
            run_negatron("convert", "--model", model, "--output", out, "--max-seq-length", "32")

    def complete():
        assert json.loads((out / "sentence_bert_config.json").read_text())["max_seq_length"] == 48
        shutil.rmtree(out)

    sweep(setup, "convert", [0, 300, 100000, 2000000, BIG], out, previous,
          ["convert", "--model", model, "--output", out, "--max-seq-length", "48"], complete)


def test_loss_output(setup):
    root, _, _, _ = setup
    inp, out = root / "emb.h5", root / "loss.h5"
    rng = np.random.default_rng(0)
    with h5py.File(inp, "w") as f:
        for c in range(2):
            f[f"columns/{c}"] = rng.standard_normal((6, 8)).astype(np.float32)

    def previous():
        out.write_bytes(b"previous loss output")

    def complete():
        with h5py.File(out) as f:
            assert np.isfinite(f["loss"][()])

    sweep(setup, "loss", [0, 1000, BIG], out, previous,
          ["loss", "--name", "MultipleNegativesRankingLoss", "--input", inp, "--output", out], complete)


def train_config(root, model, dataset, out, **training):
    config = root / f"{out.name}.json"
    config.write_text(json.dumps({
        "model": {"path": str(model)},
        "datasets": [{"name": "nli", "path": str(dataset), "loss": {"name": "MultipleNegativesRankingLoss"}}],
        "training": {"per_device_train_batch_size": 8, "max_steps": 2, "logging_steps": 1, "threads": 1, **training},
        "output_dir": str(out)}))
    return config


@pytest.fixture(scope="module")
def trained(setup):
    """A finished run (checkpoint-2, final, metrics, plot) whose files later runs must not damage."""
    root, model, triplets, _ = setup
    dataset = prepare_triplets(model, triplets, root / "train_ds")
    out = root / "train_out"
    run_negatron("train", "--config", train_config(root, model, dataset, out))
    assert (out / "checkpoint-2" / "optimizer.pt").exists() and (out / "training_curves.png").exists()
    return root, model, dataset, out


@pytest.mark.parametrize("limit,failing_file", [
    (100000, "model.safetensors"),  # the checkpoint's weights (~4 MB) do not fit
    (6000000, "optimizer.pt"),      # the weights fit, the optimizer state (~8 MB) does not
])
def test_train_checkpoint_files(trained, limit, failing_file):
    root, model, dataset, out = trained
    before = {name: digest(out / name) for name in ("checkpoint-2", "final")}
    result = train_limited(limit, train_config(root, model, dataset, out))
    assert_clean_failure(result, failing_file, "File too large")
    assert {name: digest(out / name) for name in before} == before, "a failed save changed the previous checkpoint"
    assert leftovers(out) == []


def test_train_metrics_log(trained):
    root, model, dataset, _ = trained
    out = root / "metrics_out"
    out.mkdir()
    lines = "".join(json.dumps({"type": "train", "step": s, "loss": 1.0, "padding": "x" * 60}) + "\n" for s in range(80))
    (out / "metrics.jsonl").write_text(lines)
    result = train_limited(len(lines) + 20, train_config(root, model, dataset, out))
    assert_clean_failure(result, out / "metrics.jsonl", "File too large")
    assert (out / "metrics.jsonl").read_text() == lines, "the metrics log lost records or holds a partial line"
