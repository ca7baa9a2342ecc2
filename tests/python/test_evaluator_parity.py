"""negatron's evaluators against sentence-transformers' on the real model and shipped data."""
import json

import pytest
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.evaluation import EmbeddingSimilarityEvaluator, TripletEvaluator
from conftest import DATA, run_negatron

TOLERANCE = 1e-6


def negatron_metrics(*args):
    return json.loads(run_negatron("evaluate", *args).stdout)


def test_embedding_similarity_matches(minilm, tmp_path):
    rows = [line.rstrip("\n").split("\t") for line in open(DATA / "stsbenchmark" / "sts-dev.csv", encoding="utf-8")]
    rows = rows[:300]
    subset = tmp_path / "sts.tsv"
    subset.write_text("".join("\t".join(r[:7]) + "\n" for r in rows), encoding="utf-8")
    ours = negatron_metrics("--model", minilm, "--name", "sts", "--input", subset, "--no-header",
                            "--columns", "5,6", "--score-column", "4", "--score-scale", "5")
    evaluator = EmbeddingSimilarityEvaluator([r[5] for r in rows], [r[6] for r in rows],
                                             [float(r[4]) / 5 for r in rows], name="sts",
                                             similarity_fn_names=["cosine", "dot", "euclidean", "manhattan"])
    theirs = evaluator(SentenceTransformer(str(minilm), device="cpu"))
    for key, value in theirs.items():
        if key.endswith("_max"):
            continue
        assert key in ours, f"missing metric {key}"
        assert ours[key] == pytest.approx(value, abs=TOLERANCE), key


def test_triplet_accuracy_matches(minilm, tmp_path):
    lines = open(DATA / "snli" / "triplets_test.tsv", encoding="utf-8").read().splitlines()[:201]
    subset = tmp_path / "triplets.tsv"
    subset.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = [l.split("\t") for l in lines[1:]]
    ours = negatron_metrics("--model", minilm, "--type", "TripletEvaluator", "--name", "snli", "--input", subset,
                            "--columns", "anchor,positive,negative")
    evaluator = TripletEvaluator([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], name="snli",
                                 similarity_fn_names=["cosine", "dot", "euclidean", "manhattan"])
    theirs = evaluator(SentenceTransformer(str(minilm), device="cpu"))
    for fn in ["cosine", "dot", "euclidean", "manhattan"]:
        assert ours[f"snli_{fn}_accuracy"] == pytest.approx(theirs[f"snli_{fn}_accuracy"], abs=TOLERANCE)
