"""A steady-state training step reads nothing back from the device, and non-finite steps are skipped on it.

Every host read of tensor values on the training path goes through one counted helper (common/host_read.h),
and metrics.jsonl records the reads made inside steady-state steps (every step but the first of each
dataset, from fetching the batch to the end of the optimizer step; the logging itself is outside).
On CPU the counter counts too, so this CPU run at two ranks catches what would stall a GPU: plain,
cached (GradCache) and pair-score losses, two datasets, gradients averaged after backward and
overlapped with it. The second part checks nan_policy: the found-inf flag is decided on the device,
so `skip` leaves the weights bit-identical and `abort` stops at the next logging step naming the step."""
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest
from safetensors.numpy import load_file
from conftest import DATA, negatron_bin, prepare_datasets
from loss_harness import make_tiny_st_model


STS_FLOAT = ["--format", "tsv", "--no-header", "--columns", "5,6", "--label", "4", "--label-type", "float"]


@pytest.fixture(scope="module")
def setup(tmp_path_factory, minilm):
    root = tmp_path_factory.mktemp("host_reads")
    snli = (DATA / "snli" / "triplets_dev.tsv").read_text().splitlines(True)
    sts_rows = [l.rstrip("\n").split("\t") for l in (DATA / "stsbenchmark" / "sts-train.csv").read_text().splitlines()]
    files = {"triplets.tsv": snli[:65], "sts.tsv": ["\t".join(r) + "\n" for r in sts_rows[:64]],
             # Scores of 3e38 (prepare refuses NaN and Inf): CosineSimilarityLoss's squared error overflows
             # float32, so every loss on this dataset is Inf and its gradient non-finite.
             "huge.tsv": ["\t".join(r[:4] + ["3e38"] + r[5:]) + "\n" for r in sts_rows[:64]]}
    for name, lines in files.items():
        (root / name).write_text("".join(lines))
    (root / "pairs.tsv").write_text("".join((DATA / "snli" / "pairs_dev.tsv").read_text().splitlines(True)[:65]))
    model = make_tiny_st_model(root, minilm, pooling_mode="mean", normalize=True)
    datasets = prepare_datasets(root, model, {
        "triplets": [root / "triplets.tsv", "--columns", "anchor,positive,negative"],
        "nli_pairs": [root / "pairs.tsv", "--columns", "sentence1,sentence2", "--label", "label"],
        "sts": [root / "sts.tsv", *STS_FLOAT, "--label-scale", "0.2"],
        "nan_sts": [root / "huge.tsv", *STS_FLOAT]})
    return root, model, datasets


def train(root, model, datasets, tag, world=2, training=None, distributed=None, check=True):
    out = root / f"run_{tag}"
    shutil.rmtree(out, ignore_errors=True)
    config = root / f"{tag}.yaml"
    config.write_text(json.dumps({
        "model": {"path": str(model)},
        "datasets": datasets,
        "training": {"per_device_train_batch_size": 4, "max_steps": 8, "learning_rate": 1e-3, "logging_steps": 4,
                     "seed": 3, "threads": 1, "multi_dataset_batch_sampler": "round_robin", **(training or {})},
        "distributed": distributed or {},
        "output_dir": str(out)}))
    root_flag = ["--allow-run-as-root"] if os.geteuid() == 0 else []
    cmd = ["mpirun", "-np", str(world), "--oversubscribe", *root_flag, negatron_bin(), "train", "--config", str(config)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    records = []
    if (out / "metrics.jsonl").exists():
        records = [r for r in map(json.loads, open(out / "metrics.jsonl")) if r["type"] == "train"]
    return out, records, result


@pytest.mark.parametrize("overlap", ["false", "true"])
@pytest.mark.parametrize("loss", [{"name": "MultipleNegativesRankingLoss"},
                                  {"name": "CachedMultipleNegativesRankingLoss", "mini_batch_size": 3}])
def test_steady_state_steps_read_nothing_at_two_ranks(setup, loss, overlap):
    root, model, datasets = setup
    _, records, _ = train(root, model, [{"name": "triplets", "path": str(datasets["triplets"]), "loss": loss},
                                        {"name": "sts", "path": str(datasets["sts"]), "loss": {"name": "CoSENTLoss"}}],
                          f"reads_{loss['name']}_{overlap}", distributed={"overlap_grad_reduce": overlap},
                          training={"nan_policy": "skip"})
    assert {r["step"] for r in records} == {4, 8} and {r["dataset"] for r in records} == {"triplets", "sts"}
    for r in records:
        assert r["host_reads_steady_steps"] == 0, r
        assert r["host_reads"] > 0, r  # the logging steps' reads are counted: the counter works here
        assert np.isfinite(r["loss"]) and r["time_compute_s"] > 0, r


def test_softmax_labels_are_checked_on_the_host(setup):
    """SoftmaxLoss's label range is checked by the prefetch thread on host batches: no read in the step,
    and an out-of-range label fails the job naming the dataset and the row."""
    root, model, datasets = setup
    pairs = str(datasets["nli_pairs"])
    sts = {"name": "sts", "path": str(datasets["sts"]), "loss": {"name": "CoSENTLoss"}}
    _, records, _ = train(root, model, [{"name": "nli", "path": pairs, "loss": {"name": "SoftmaxLoss", "num_labels": 3}},
                                        sts], "softmax_reads")
    assert {r["dataset"] for r in records} == {"nli", "sts"}
    for r in records:
        assert r["host_reads_steady_steps"] == 0 and r["host_reads"] > 0, r

    _, _, result = train(root, model, [{"name": "nli", "path": pairs, "loss": {"name": "SoftmaxLoss", "num_labels": 2}}],
                         "softmax_bad_label", check=False)
    assert result.returncode != 0
    match = re.search(re.escape(pairs) + r": row (\d+): SoftmaxLoss: label (\d+) is outside \[0, num_labels = 2\)",
                      result.stderr)
    assert match, result.stderr[-3000:]
    row, label = int(match.group(1)), int(match.group(2))
    manifest = json.loads((datasets["nli_pairs"] / "manifest.json").read_text())
    label_map = next(c["label_map"] for c in manifest["columns"] if "label_map" in c)
    input_rows = (root / "pairs.tsv").read_text().splitlines()[1:]
    assert label >= 2 and input_rows[row].split("\t")[2] == label_map[label]


def test_nan_policy_skip_applies_no_non_finite_step(setup):
    root, model, datasets = setup
    nan_only = [{"name": "nan", "path": str(datasets["nan_sts"]), "loss": {"name": "CosineSimilarityLoss"}}]
    out, records, result = train(root, model, nan_only, "nan_skip", training={"nan_policy": "skip"})
    assert "done: 8 steps (8 skipped)" in result.stderr, result.stderr[-3000:]
    assert records == []  # no step of the window was kept: nothing to log
    start = load_file(str(model / "model.safetensors"))
    final = load_file(str(out / "final" / "model.safetensors"))
    for key, value in final.items():
        assert np.array_equal(value, start[key]), key  # bit for bit: every update was skipped on the device

    mixed = nan_only + [{"name": "sts", "path": str(datasets["sts"]), "loss": {"name": "CoSENTLoss"}}]
    _, records, result = train(root, model, mixed, "nan_skip_mixed", training={"nan_policy": "skip"})
    assert "done: 8 steps (4 skipped)" in result.stderr, result.stderr[-3000:]
    assert {r["dataset"] for r in records} == {"sts"} and all(np.isfinite(r["loss"]) for r in records)
    assert all(r["host_reads_steady_steps"] == 0 for r in records)


def test_nan_policy_abort_stops_naming_the_first_non_finite_step(setup):
    root, model, datasets = setup
    mixed = [{"name": "sts", "path": str(datasets["sts"]), "loss": {"name": "CoSENTLoss"}},
             {"name": "nan", "path": str(datasets["nan_sts"]), "loss": {"name": "CosineSimilarityLoss"}}]
    _, _, result = train(root, model, mixed, "nan_abort", check=False)
    assert result.returncode != 0
    assert ("non-finite loss or gradient at step 2 (not applied) in CosineSimilarityLoss on dataset 'nan'"
            in result.stderr), result.stderr[-3000:]
