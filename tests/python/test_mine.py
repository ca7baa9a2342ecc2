"""negatron mine against sentence-transformers' mine_hard_negatives(..., use_faiss=False,
sampling_strategy="top") on the same model and data: the same rows in the same order with the same
negatives and scores. Scores agree to float32 noise (the encoders differ in their last bits), so two
candidates whose scores tie within that noise may trade places; each such difference must be a tie in
sentence-transformers' own scores, and they must stay rare. Also: the output is byte for byte the same
at 1 and 2 ranks, and bad inputs are clear errors that leave nothing behind."""
import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import DATA, run_negatron, run_negatron_ranks, sts_sentences

TIE = 2e-5  # float32 noise between the two encoders' scores (cosine in [-1, 1])


def entailment_pairs(n):
    rows = [line.rstrip("\n").split("\t") for line in open(DATA / "snli/pairs_dev.tsv", encoding="utf-8")][1:]
    pairs = [(a, b) for a, b, label in rows if label == "entailment"][:n]
    # An anchor with three rows (two distinct positives: one row repeats) and texts that tokenize alike
    # (uncased, punctuation split), which embed alike: exact ties among candidates.
    pairs += [("A man plays a guitar.", "Someone is making music."), ("A man plays a guitar.", "A person plays."),
              ("A man plays a guitar.", "Someone is making music.")]
    return pairs


def corpus_texts(n):
    seen, out = set(), []
    for text in sts_sentences("test"):
        if text not in seen:
            seen.add(text)
            out.append(text)
    out = out[:n]
    return out + ["A man is playing a guitar.", "a man is playing a guitar .", "A MAN is playing a guitar!",
                  "A man is playing a guitar !"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("mine")
    pairs, corpus = entailment_pairs(220), corpus_texts(380)
    (directory / "pairs.tsv").write_text("anchor\tpositive\n" + "".join(f"{a}\t{b}\n" for a, b in pairs))
    (directory / "corpus.txt").write_text("".join(t + "\n" for t in corpus))
    return directory, pairs, corpus


@pytest.fixture(scope="module")
def st_model(minilm):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(minilm), device="cpu")


def st_mine(st_model, inputs, **options):
    from datasets import Dataset
    from sentence_transformers.util import mine_hard_negatives

    directory, pairs, corpus = inputs
    dataset = Dataset.from_dict({"anchor": [a for a, _ in pairs], "positive": [p for _, p in pairs]})
    return mine_hard_negatives(dataset, st_model, corpus=corpus, use_faiss=False, sampling_strategy="top",
                               output_scores=True, verbose=False, batch_size=32,
                               cache_folder=str(directory / "st_cache"), **options)


def negatron_mine(minilm, inputs, out, *args, np_=1):
    directory, _, _ = inputs
    return run_negatron_ranks(np_, "mine", "--model", minilm, "--input", directory / "pairs.tsv", "--corpus",
                              directory / "corpus.txt", "--output-scores", "--keep-text", "--no-progress", "--output",
                              out, *args)


def read_dataset(out: Path):
    manifest = json.loads((out / "manifest.json").read_text())
    names = [c["name"] for c in manifest["columns"] if c["kind"] == "text"]
    columns, scores = {n: [] for n in names}, []
    for shard in manifest["shards"]:
        with h5py.File(out / shard["file"]) as f:
            for i, name in enumerate(names):
                b, o = f[f"text_{i}/utf8"][:].tobytes(), f[f"text_{i}/utf8_offsets"][:]
                columns[name] += [b[o[r]:o[r + 1]].decode() for r in range(shard["rows"])]
            scores.append(f["labels"][:])
    return names, [[columns[n][r] for n in names] for r in range(manifest["rows"])], np.concatenate(scores)


def st_scorer(st_model):
    cache = {}

    def score(query, text):
        for t in (query, text):
            if t not in cache:
                cache[t] = st_model.encode([t], normalize_embeddings=True, convert_to_numpy=True)[0]
        return float(cache[query] @ cache[text])

    return score


def assert_same_as_sentence_transformers(st_rows, names, rows, scores, score, max_ties=0.03):
    """Rows, texts and scores equal; a differing negative must tie (in ST's own scores) with the one
    sentence-transformers chose in that place."""
    assert len(rows) == len(st_rows), (len(rows), len(st_rows))
    ties = slots = 0
    for r, (st_row, row) in enumerate(zip(st_rows, rows)):
        assert row[:2] == [st_row[names[0]], st_row[names[1]]], f"row {r}: {row[:2]}"
        np.testing.assert_allclose(scores[r], st_row["scores"], atol=TIE, err_msg=f"row {r}")
        for i, name in enumerate(names[2:], start=1):
            slots += 1
            if row[1 + i] != st_row[name]:
                ties += 1
                assert abs(score(row[0], row[1 + i]) - st_row["scores"][i]) < TIE, (
                    f"row {r} {name}: negatron chose {row[1 + i]!r}, sentence-transformers {st_row[name]!r}")
    assert ties <= max_ties * slots, f"{ties} of {slots} negatives differ (ties)"
    return ties


SETTINGS = [
    ("n-tuple", dict(num_negatives=3), []),
    ("triplet", dict(num_negatives=2, range_min=2, max_score=0.9, relative_margin=0.05),
     ["--num-negatives", 2, "--range-min", 2, "--max-score", 0.9, "--relative-margin", 0.05]),
    ("n-tuple", dict(num_negatives=4, absolute_margin=0.1, min_score=0.2, range_max=30),
     ["--num-negatives", 4, "--absolute-margin", 0.1, "--min-score", 0.2, "--range-max", 30]),
]


@pytest.mark.parametrize("output_format,st_options,args", SETTINGS)
def test_top_negatives_equal_mine_hard_negatives(tmp_path, minilm, inputs, st_model, output_format, st_options, args):
    expected = st_mine(st_model, inputs, output_format=output_format, **st_options)
    out = tmp_path / "mined"
    negatron_mine(minilm, inputs, out, "--output-format", output_format, *args)
    names, rows, scores = read_dataset(out)
    assert names == expected.column_names[:-1]
    assert_same_as_sentence_transformers(list(expected), names, rows, scores, st_scorer(st_model))


def test_same_bytes_at_two_ranks_and_random_sampling(tmp_path, minilm, inputs):
    for np_ in (1, 2):
        negatron_mine(minilm, inputs, tmp_path / f"np{np_}", "--sampling-strategy", "random", "--num-negatives", 2,
                      "--range-max", 12, "--score-memory-mb", 1, np_=np_)
    one, two = (json.loads((tmp_path / f"np{n}/manifest.json").read_text()) for n in (1, 2))
    assert one["shards"] == two["shards"]
    names, rows, scores = read_dataset(tmp_path / "np1")
    assert names == ["anchor", "positive", "negative"] and len(rows) > 400
    assert all(s[0] >= -1 and s[1] <= 1 for s in scores)


def test_bad_inputs_are_errors_that_leave_nothing(tmp_path, minilm, inputs):
    directory, _, _ = inputs
    out = tmp_path / "out"

    def mine(source, *args):
        result = run_negatron("mine", "--model", minilm, "--input", source, "--output", out, "--no-progress", *args,
                              check=False)
        assert result.returncode != 0
        assert not out.exists() and not list(tmp_path.glob("out.tmp-*"))
        return result.stderr

    pairs = directory / "pairs.tsv"
    assert f"{pairs}: no column 'query' (columns: anchor, positive)" in mine(pairs, "--anchor-column", "query",
                                                                            "--positive-column", "positive")
    missing = tmp_path / "missing.jsonl"
    missing.write_text('{"q": "a question", "p": "its answer"}\n{"q": "no answer here", "p": ""}\n')
    assert f"{missing}:2: column 'p': empty text" in mine(missing, "--anchor-column", "q", "--positive-column", "p")
    assert "name the columns with --anchor-column" in mine(missing)
    small = tmp_path / "small.tsv"
    small.write_text("a\tb\nfirst\tsecond\nthird\tfourth\n")
    assert "has 2 distinct text(s), fewer than --num-negatives 3" in mine(small)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert f"{empty}: empty file" in mine(empty)
    import pyarrow as pa
    import pyarrow.parquet as pq

    typed = tmp_path / "typed.parquet"
    pq.write_table(pa.table({"a": ["x", "y"], "b": [1, 2]}), typed)
    assert f"{typed}: column 'b' has type int64, expected a string column" in mine(typed)
