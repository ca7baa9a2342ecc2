"""Checkpoints: a resumed CPU run is bit-identical to an uninterrupted one (dropout on, so the RNG
state is restored too; with SoftmaxLoss the loss-owned classifier is restored too), a run killed while saving leaves a usable latest checkpoint, and the CLI
reports config errors with the key."""
import json
import os
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest
from safetensors.numpy import load_file
from conftest import DATA, negatron_bin, prepare_triplets, run_negatron, snli_triplets
from loss_harness import make_tiny_st_model


@pytest.fixture(scope="module")
def setup(tmp_path_factory, minilm):
    root = tmp_path_factory.mktemp("resume")
    model = make_tiny_st_model(root, minilm, pooling_mode="mean", normalize=True)
    dataset = prepare_triplets(model, snli_triplets(root / "triplets.tsv", 96), root / "ds")
    pairs = root / "pairs.tsv"
    pairs.write_text("".join((DATA / "snli" / "pairs_dev.tsv").read_text().splitlines(True)[:97]))
    run_negatron("prepare", "--model", model, "--input", pairs, "--columns", "sentence1,sentence2", "--label", "label",
                 "--output", root / "pairs_ds", "--no-progress")
    return root, model, dataset


LOSSES = {"mnrl": ("ds", {"name": "MultipleNegativesRankingLoss"}),
          "softmax": ("pairs_ds", {"name": "SoftmaxLoss", "num_labels": 3})}


def write_config(root, model, dataset, out, loss=LOSSES["mnrl"][1], **training):
    config = root / f"{out.name}.yaml"
    base = {"per_device_train_batch_size": 8, "max_steps": 6, "learning_rate": 1e-3, "logging_steps": 1,
            "warmup_ratio": 0.2, "seed": 3, "threads": 1}
    config.write_text(json.dumps({
        "model": {"path": str(model)},
        "datasets": [{"name": "nli", "path": str(dataset), "loss": loss}],
        "training": {**base, **training}, "output_dir": str(out)}))
    return config


@pytest.mark.parametrize("loss", list(LOSSES))
def test_resume_is_bit_identical(setup, loss):
    root, model, _ = setup
    dataset, loss_config = root / LOSSES[loss][0], LOSSES[loss][1]
    straight = root / f"straight_{loss}"
    config = write_config(root, model, dataset, straight, loss_config, save_steps=3)
    run_negatron("train", "--config", config)
    resumed = root / f"resumed_{loss}"
    resumed.mkdir()
    shutil.copytree(straight / "checkpoint-3", resumed / "checkpoint-3")
    config_resumed = write_config(root, model, dataset, resumed, loss_config, save_steps=3)
    run_negatron("train", "--config", config_resumed, "--resume", "latest")
    files = ["model.safetensors"] + (["loss_parameters.safetensors"] if loss == "softmax" else [])
    for name in files:
        a = load_file(str(straight / "final" / name))
        b = load_file(str(resumed / "final" / name))
        assert a.keys() == b.keys()
        for key in a:
            assert np.array_equal(a[key], b[key]), f"{name}: {key} differs after resume"
    if loss == "softmax":  # the classifier is saved with the model: 3 classes x (u, v, |u - v|)
        classifier = load_file(str(straight / "final" / "loss_parameters.safetensors"))
        assert sorted(classifier) == ["loss.nli.classifier.bias", "loss.nli.classifier.weight"]
        assert classifier["loss.nli.classifier.weight"].shape[0] == 3
        assert not np.array_equal(classifier["loss.nli.classifier.weight"],
                                  load_file(str(straight / "checkpoint-3" / "loss_parameters.safetensors"))[
                                      "loss.nli.classifier.weight"]), "the classifier was not trained"
    losses = lambda d: [r["loss"] for r in map(json.loads, open(d / "metrics.jsonl")) if r["type"] == "train"]
    assert losses(straight)[3:] == losses(resumed)
    from PIL import Image  # the trainer plots its own loss and evaluation curves
    for out in (straight, resumed):
        with Image.open(out / "training_curves.png") as image:
            image.load()
            assert image.format == "PNG" and image.mode == "RGB" and image.size == (1280, 440)


def test_killed_run_leaves_a_usable_checkpoint(setup):
    root, model, dataset = setup
    out = root / "killed"
    config = write_config(root, model, dataset, out, max_steps=400, save_steps=1)
    process = subprocess.Popen([negatron_bin(), "train", "--config", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline and len(list(out.glob("checkpoint-*"))) < 3:
        time.sleep(0.05)
    time.sleep(0.13)  # land somewhere inside a save, more often than not
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = sorted(int(p.name.split("-")[1]) for p in out.glob("checkpoint-*") if p.name.split("-")[1].isdigit())
    assert finished, "no complete checkpoint was written before the kill"
    result = run_negatron("train", "--config", config, "--resume", "latest",
                          "--set", f"training.max_steps={finished[-1] + 1}")
    assert f"resuming from {out}/checkpoint-{finished[-1]}" in result.stderr


def test_unknown_key_is_reported(setup, tmp_path):
    root, model, dataset = setup
    config = write_config(root, model, dataset, tmp_path / "bad")
    result = run_negatron("train", "--config", config, "--set", "training.learnig_rate=1", check=False)
    assert result.returncode != 0
    assert "unknown config key 'training.learnig_rate' (did you mean 'training.learning_rate'?)" in result.stderr


def test_print_config_lists_every_default(setup, tmp_path):
    root, model, dataset = setup
    config = write_config(root, model, dataset, tmp_path / "print")
    printed = run_negatron("train", "--config", config, "--print-config").stdout
    for key in ("per_device_train_batch_size", "lr_scheduler_type", "gather_across_devices", "save_total_limit"):
        assert key in printed


def test_mixed_precision_options(setup, tmp_path):
    """bf16 trains the CPU run in float32 with a warning; bf16 together with fp16 is refused."""
    root, model, dataset = setup
    config = write_config(root, model, dataset, tmp_path / "bf16", max_steps=1)
    result = run_negatron("train", "--config", config, "--set", "training.bf16=true")
    assert "training.bf16 applies to GPU runs only; this CPU run trains in float32" in result.stderr
    both = run_negatron("train", "--config", config, "--set", "training.bf16=true", "--set", "training.fp16=true",
                        check=False)
    assert both.returncode != 0
    assert "training.bf16 and training.fp16 are both true; choose one" in both.stderr
