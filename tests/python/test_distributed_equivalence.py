"""W ranks == 1 rank on the global batch: `mpirun -np W negatron train` at local batch B gives the same
loss at every step and the same weights after 3 AdamW steps as one process at batch W*B (dropout off,
same sample order). Tolerance 1e-10 (relative on losses, absolute on weights): the runs are float64, where
only the summation order differs (measured: losses within 1e-15 relative, weights within 5e-13 after 3 steps).

The runs use float64 parameters: in float32, AdamW's m / (sqrt(v) + eps) turns the last-bit
differences of a different reduction order in near-zero gradients into updates of up to ~lr
(measured: 2.9e-4 after 3 steps at lr 1e-3), which says nothing about the distributed math."""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest
from safetensors.numpy import load_file
from conftest import DATA, negatron_bin, run_negatron
from loss_harness import make_tiny_st_model

GLOBAL_BATCH = 8
STEPS = 3
TOLERANCE = 1e-10

LOSSES = {
    "mnrl": ("triplets", {"name": "MultipleNegativesRankingLoss"}),
    "mnsrl": ("pairs", {"name": "MultipleNegativesSymmetricRankingLoss"}),
    "cached_mnrl": ("triplets", {"name": "CachedMultipleNegativesRankingLoss", "mini_batch_size": 3}),
    "cached_mnsrl": ("pairs", {"name": "CachedMultipleNegativesSymmetricRankingLoss", "mini_batch_size": 3}),
    "gist": ("triplets", {"name": "GISTEmbedLoss"}),
    "cached_gist": ("triplets", {"name": "CachedGISTEmbedLoss", "mini_batch_size": 3}),
    "cosent": ("sts", {"name": "CoSENTLoss"}),
}
GUIDED = {"gist", "cached_gist"}


@pytest.fixture(scope="module")
def setup(tmp_path_factory, minilm):
    root = tmp_path_factory.mktemp("equivalence")
    model = make_tiny_st_model(root, minilm, pooling_mode="mean", normalize=True)
    datasets = {}
    triplets = root / "triplets.tsv"
    triplets.write_text("".join((DATA / "snli" / "triplets_dev.tsv").read_text().splitlines(True)[:65]))
    pairs = root / "pairs.tsv"
    pairs.write_text("".join("\t".join(l.split("\t")[:2]) + "\n" for l in triplets.read_text().splitlines()))
    sts = root / "sts.tsv"
    sts.write_text("".join((DATA / "stsbenchmark" / "sts-train.csv").read_text().splitlines(True)[:64]))
    for name, args in {"triplets": [triplets, "--columns", "anchor,positive,negative"],
                       "pairs": [pairs, "--columns", "anchor,positive"],
                       "sts": [sts, "--format", "tsv", "--no-header", "--columns", "5,6", "--label", "4",
                               "--label-type", "float"]}.items():
        out = root / f"ds_{name}"
        run_negatron("prepare", "--model", model, "--input", *args, "--output", out, "--no-progress")
        datasets[name] = out
    return root, model, datasets


def train(root, model, dataset, loss, world, tag, distributed=None):
    out = root / f"run_{tag}_np{world}"
    shutil.rmtree(out, ignore_errors=True)
    config = root / f"{tag}.yaml"
    config.write_text(json.dumps({
        "model": {"path": str(model), "dropout": False, "dtype": "float64"},
        "datasets": [{"name": tag, "path": str(dataset), "loss": loss}],
        "training": {"per_device_train_batch_size": GLOBAL_BATCH // world, "max_steps": STEPS, "learning_rate": 1e-3,
                     "logging_steps": 1, "warmup_ratio": 0.0, "max_grad_norm": 0.0, "seed": 5, "threads": 1},
        "distributed": distributed or {},
        "output_dir": str(out)}))
    root_flag = ["--allow-run-as-root"] if os.geteuid() == 0 else []
    cmd = ["mpirun", "-np", str(world), "--oversubscribe", *root_flag, negatron_bin(), "train", "--config", str(config)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    (out / "console.log").write_text(result.stdout + result.stderr)
    records = [r for r in map(json.loads, open(out / "metrics.jsonl")) if r["type"] == "train"]
    for r in records:  # the per-phase step times: present, non-negative, slowest rank >= rank 0
        times = [r[k] for k in ("time_data_s", "time_compute_s", "time_grad_reduce_s", "time_optimizer_s")]
        assert min(times) >= 0 and r["time_slowest_compute_s"] >= r["time_compute_s"], r
    losses = [r["loss"] for r in records]
    weights = load_file(str(out / "final" / "model.safetensors"))
    return losses, weights


@pytest.mark.parametrize("world", [2, 4])
@pytest.mark.parametrize("tag", list(LOSSES))
def test_ranks_match_single_process(setup, tag, world):
    root, model, datasets = setup
    kind, loss = LOSSES[tag]
    if tag in GUIDED:
        loss = dict(loss, guide=str(model))  # the tiny model guides itself (frozen copy)
    single_losses, single_weights = train(root, model, datasets[kind], loss, 1, tag)
    multi_losses, multi_weights = train(root, model, datasets[kind], loss, world, tag)
    assert len(single_losses) == len(multi_losses) == STEPS
    np.testing.assert_allclose(multi_losses, single_losses, rtol=TOLERANCE)
    worst = max(np.abs(multi_weights[k] - single_weights[k]).max() for k in single_weights)
    print(f"{tag} np={world}: losses {multi_losses}, worst weight diff {worst:.2e}")
    assert worst <= TOLERANCE
    if tag != "cosent":  # the gathered gradients of an in-batch loss: one reduce-scatter per step
        assert calls_per_step(root, tag, world, "reduce_scatter_calls") == [1] * (STEPS - 1)


def calls_per_step(root, tag, world, counter):
    records = [r for r in map(json.loads, open(root / f"run_{tag}_np{world}" / "metrics.jsonl")) if r["type"] == "train"]
    calls = [r[counter] for r in records]
    return [b - a for a, b in zip(calls, calls[1:])]


def all_reduce_calls_per_step(root, tag, world):
    return calls_per_step(root, tag, world, "all_reduce_calls")


@pytest.mark.parametrize("tag", ["mnrl", "cached_mnrl"])
def test_overlapped_gradient_reduce_matches_post_backward(setup, tag):
    """distributed.overlap_grad_reduce=true (bucket all-reduces started from backward hooks) trains
    to the same weights as the post-backward average at 2 ranks (a sum of two values does not
    depend on the order, so bit for bit), and a cached loss still reduces once per step: the same
    all-reduce count per step as the post-backward path, not one per mini-batch."""
    root, model, datasets = setup
    kind, loss = LOSSES[tag]
    off_losses, off_weights = train(root, model, datasets[kind], loss, 2, tag + "_overlap_off",
                                    {"overlap_grad_reduce": "false"})
    on_losses, on_weights = train(root, model, datasets[kind], loss, 2, tag + "_overlap_on",
                                  {"overlap_grad_reduce": "true"})
    assert on_losses == off_losses
    worst = max(np.abs(on_weights[k] - off_weights[k]).max() for k in off_weights)
    print(f"{tag} overlap on vs off: worst weight diff {worst:.2e}")
    assert worst == 0.0
    assert "overlapped with backward" in (root / f"run_{tag}_overlap_on_np2" / "console.log").read_text()
    assert "overlapped with backward" not in (root / f"run_{tag}_overlap_off_np2" / "console.log").read_text()
    on_calls = all_reduce_calls_per_step(root, tag + "_overlap_on", 2)
    assert on_calls == all_reduce_calls_per_step(root, tag + "_overlap_off", 2), on_calls


def test_token_balancing_moves_rows_between_ranks_only(setup):
    """distributed.balance_tokens (on by default) hands each rank rows of the global batch by token
    count instead of the r-th slice. With negatives gathered, the loss sees the same global batch, so
    training is the same up to summation order; with gather off, each rank's in-batch negatives
    change, which shows that rows did move."""
    root, model, datasets = setup
    kind, loss = LOSSES["mnrl"]
    runs = {}
    for gather in (True, False):
        for balance in (True, False):
            tag = f"balance_{'on' if balance else 'off'}_gather_{'on' if gather else 'off'}"
            runs[gather, balance] = train(root, model, datasets[kind], loss, 2, tag,
                                          {"balance_tokens": balance, "gather_across_devices": gather})
    (on_losses, on_weights), (off_losses, off_weights) = runs[True, True], runs[True, False]
    np.testing.assert_allclose(on_losses, off_losses, rtol=1e-12)
    assert max(np.abs(on_weights[k] - off_weights[k]).max() for k in off_weights) <= 1e-12
    local_on, local_off = runs[False, True][0], runs[False, False][0]
    assert np.abs(np.array(local_on) - np.array(local_off)).max() > 1e-6, (local_on, local_off)
    # Gathering costs one all-gather and one reduce-scatter per step: the row counts come with the
    # batch plan, not from another collective.
    gathered, local = "balance_on_gather_on", "balance_on_gather_off"
    extra = np.subtract(calls_per_step(root, gathered, 2, "all_gather_calls"),
                        calls_per_step(root, local, 2, "all_gather_calls"))
    assert extra.tolist() == [1] * (STEPS - 1)
    assert calls_per_step(root, gathered, 2, "reduce_scatter_calls") == [1] * (STEPS - 1)
    assert calls_per_step(root, local, 2, "reduce_scatter_calls") == [0] * (STEPS - 1)
