"""Every recipe in configs/ trains: the shipped data is prepared (launch/prepare_data.sh) and each
config runs 2 optimizer steps at a small batch with its own loss and sampler (evaluators are
switched off here for time; tests/python/test_evaluator_parity.py checks them)."""
import os
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, minilm_path, negatron_bin, run_negatron

CONFIGS = sorted((REPO / "configs").glob("*.yaml"))


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    data = tmp_path_factory.mktemp("prepared")
    environment = dict(os.environ, NEGATRON_DATA=str(data), NEGATRON_MINILM=str(minilm_path()),
                       NEGATRON_BIN=negatron_bin())
    subprocess.run(["bash", str(REPO / "launch" / "prepare_data.sh")], check=True, env=environment,
                   capture_output=True)
    return environment


@pytest.mark.parametrize("config", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_config_trains(config, env, tmp_path):
    environment = dict(env, NEGATRON_OUTPUT=str(tmp_path / "out"))
    overrides = ["training.max_steps=2", "training.per_device_train_batch_size=8", "training.threads=1",
                 "training.eval_steps=0", "model.max_seq_length=32", "evaluators=[]"]
    args = ["train", "--config", config, *[a for o in overrides for a in ("--set", o)]]
    result = run_negatron(*args, env=environment, cwd=REPO)
    assert "done: 2 steps (0 skipped)" in result.stderr
    assert (tmp_path / "out" / "final" / "modules.json").exists()
