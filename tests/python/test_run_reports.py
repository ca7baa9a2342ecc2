"""What a training run leaves for people to read: TensorBoard event files (read back with TensorBoard's own
event reader, which checks the TFRecord CRCs) holding every train, eval and timing number of metrics.jsonl,
and the model card (README.md) in the final model folder."""
import json

import numpy as np
import pytest
from conftest import DATA, run_negatron
from loss_harness import make_tiny_st_model

LOSS = {"name": "MultipleNegativesRankingLoss", "scale": 25.0, "similarity_fct": "cos_sim"}


@pytest.fixture(scope="module")
def run(tmp_path_factory, minilm):
    root = tmp_path_factory.mktemp("reports")
    model = make_tiny_st_model(root, minilm, pooling_mode="mean", normalize=True)
    pairs = root / "pairs.tsv"
    pairs.write_text("".join((DATA / "snli" / "pairs_dev.tsv").read_text().splitlines(True)[:41]))
    dataset = root / "ds"
    run_negatron("prepare", "--model", model, "--input", pairs, "--columns", "sentence1,sentence2",
                 "--output", dataset, "--no-progress")
    sts = root / "sts.tsv"
    sts.write_text("".join((DATA / "stsbenchmark" / "sts-dev.csv").read_text().splitlines(True)[:40]))
    out = root / "out"
    config = root / "run.yaml"
    config.write_text(json.dumps({
        "model": {"path": str(model)},
        "datasets": [{"name": "nli", "path": str(dataset), "loss": LOSS}],
        "evaluators": [{"type": "EmbeddingSimilarityEvaluator", "name": "sts", "path": str(sts), "format": "tsv",
                        "has_header": False, "columns": ["5", "6"], "score_column": "4", "score_scale": 5.0}],
        "training": {"per_device_train_batch_size": 8, "max_steps": 4, "logging_steps": 1, "eval_steps": 2,
                     "learning_rate": 1e-3, "seed": 1, "threads": 1, "report_to": ["tensorboard"]},
        "output_dir": str(out)}))
    result = run_negatron("train", "--config", config)
    records = [json.loads(line) for line in open(out / "metrics.jsonl")]
    return out, records, result


def scalars_of(out):
    from tensorboard.backend.event_processing.event_accumulator import SCALARS, EventAccumulator

    runs = list((out / "runs").iterdir())
    assert len(runs) == 1, runs
    assert len(list(runs[0].glob("events.out.tfevents.*"))) == 1
    accumulator = EventAccumulator(str(runs[0]), size_guidance={SCALARS: 0})
    accumulator.Reload()
    return {tag: {e.step: e.value for e in accumulator.Scalars(tag)} for tag in accumulator.Tags()["scalars"]}


def test_tensorboard_holds_every_metric_of_metrics_jsonl(run):
    out, records, _ = run
    scalars = scalars_of(out)
    expected = {}
    for record in records:
        for key, value in record.items():
            if key == "step" or isinstance(value, (str, bool)):
                continue
            tag = f"{record['type']}/{key}" + (f"/{record['dataset']}" if key == "loss" and "dataset" in record else "")
            expected.setdefault(tag, {})[record["step"]] = value
    assert set(scalars) == set(expected), (sorted(set(scalars) ^ set(expected)))
    for tag, by_step in expected.items():
        assert scalars[tag].keys() == by_step.keys(), tag
        for step, value in by_step.items():  # TensorBoard scalars are float32
            assert scalars[tag][step] == float(np.float32(value)), (tag, step)
    for tag in ("train/loss/nli", "train/learning_rate", "train/time_compute_s", "train/time_grad_reduce_s",
                "eval/sts_spearman_cosine"):
        assert tag in scalars, tag
    assert sorted(scalars["eval/sts_spearman_cosine"]) == [0, 2, 4]


def test_final_model_carries_a_model_card(run, minilm):
    from sentence_transformers import SentenceTransformer

    out, records, _ = run
    card = (out / "final" / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\n") and "library_name: sentence-transformers" in card
    assert "- dataset_size:40" in card and "- loss:MultipleNegativesRankingLoss" in card
    assert "#### nli" in card and "* Size: 40 training samples" in card
    assert '"scale": 25.0' in card and '"similarity_fct": "cos_sim"' in card
    assert "<code>sentence1</code>, <code>sentence2</code>" in card
    assert "- `learning_rate`: 0.001" in card and "- `max_steps`: 4" in card
    final = [r for r in records if r["type"] == "eval" and r["step"] == 4][0]
    assert f"**{final['sts_spearman_cosine']:.4f}**" in card
    assert 'SentenceTransformer("path/to/this/folder")' in card
    assert "- **Output Dimensionality:** 32 dimensions" in card
    model = SentenceTransformer(str(out / "final"), device="cpu")
    assert model.encode(["a card does not break loading"]).shape == (1, 32)
