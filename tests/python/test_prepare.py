"""negatron prepare on the shipped data: shards hold exactly what HF tokenizers produce, labels and
label maps match the source files, text hashes match an independent Python implementation, and
every bad-input case is reported with file:line (fail) or counted (skip) with no dataset left behind."""
import csv
import json
import os
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest
from tokenizers import Tokenizer

from conftest import DATA, negatron_bin, run_negatron

MAX_LEN = 256  # all-MiniLM-L6-v2's max_seq_length


def fnv_mix_hash(text: str) -> int:
    state = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        state = ((state ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    x = state
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


def load(dataset: Path):
    """Manifest and, per column, the rows' ids, texts and hashes; plus the labels."""
    manifest = json.loads((dataset / "manifest.json").read_text())
    texts = [c for c in manifest["columns"] if c["kind"] == "text"]
    ids = {c["name"]: [] for c in texts}
    raw = {c["name"]: [] for c in texts}
    hashes = {c["name"]: [] for c in texts}
    labels = []
    for shard in manifest["shards"]:
        with h5py.File(dataset / shard["file"], "r") as f:
            assert len(f["text_0/offsets"]) == shard["rows"] + 1
            for i, c in enumerate(texts):
                g = f[f"text_{i}"]
                values, offsets = g["ids"][:], g["offsets"][:]
                ids[c["name"]] += [values[offsets[r]:offsets[r + 1]].tolist() for r in range(shard["rows"])]
                hashes[c["name"]] += [int(h) for h in g["hashes"][:]]
                if manifest["has_text"]:
                    b, o = g["utf8"][:].tobytes(), g["utf8_offsets"][:]
                    raw[c["name"]] += [b[o[r]:o[r + 1]].decode("utf-8") for r in range(shard["rows"])]
            if "labels" in f:
                labels.append(f["labels"][:])
    return manifest, ids, raw, hashes, (np.concatenate(labels) if labels else None)


@pytest.fixture(scope="module")
def hf_tokenizer(minilm):
    tokenizer = Tokenizer.from_file(str(minilm / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_LEN)
    return tokenizer


def assert_tokenized(ids, texts, tokenizer):
    expected = [e.ids for e in tokenizer.encode_batch(texts)]
    assert ids == expected


def test_snli_triplets_round_trip(tmp_path, minilm, hf_tokenizer):
    out = tmp_path / "snli"
    run_negatron("prepare", "--model", minilm, "--input", DATA / "snli/triplets_dev.tsv", "--columns",
                 "anchor,positive,negative", "--rename", "anchor=query", "--keep-text", "--shard-rows", 1000,
                 "--no-progress", "--output", out)
    rows = [line.rstrip("\n").split("\t") for line in open(DATA / "snli/triplets_dev.tsv", encoding="utf-8")][1:]
    manifest, ids, raw, hashes, labels = load(out)
    assert manifest["rows"] == len(rows) == 3256 and len(manifest["shards"]) == 4 and manifest["skipped_rows"] == 0
    assert [c["name"] for c in manifest["columns"]] == ["query", "positive", "negative"] and labels is None
    for i, name in enumerate(["query", "positive", "negative"]):
        column = [r[i] for r in rows]
        assert raw[name] == column
        assert hashes[name] == [fnv_mix_hash(t) for t in column]
        assert_tokenized(ids[name], column, hf_tokenizer)
    assert not list(tmp_path.glob("*.tmp-*"))


def test_stsb_without_header_float_scores(tmp_path, minilm, hf_tokenizer):
    out = tmp_path / "sts"
    run_negatron("prepare", "--model", minilm, "--input", DATA / "stsbenchmark/sts-train.csv", "--format", "tsv",
                 "--no-header", "--columns", "5,6", "--label", 4, "--label-scale", 0.2, "--rename", "5=sentence1",
                 "--rename", "6=sentence2", "--rename", "4=score", "--no-progress", "--output", out)
    rows = [line.rstrip("\n").split("\t") for line in open(DATA / "stsbenchmark/sts-train.csv", encoding="utf-8")]
    manifest, ids, _, _, labels = load(out)
    assert manifest["rows"] == len(rows) == 5749
    assert manifest["columns"][2] == {"name": "score", "kind": "float32"}
    np.testing.assert_allclose(labels, np.array([float(r[4]) * 0.2 for r in rows], dtype=np.float32), rtol=1e-6)
    assert_tokenized(ids["sentence1"], [r[5] for r in rows], hf_tokenizer)
    assert_tokenized(ids["sentence2"], [r[6] for r in rows], hf_tokenizer)


def test_trec_latin1_with_a_label_map(tmp_path, minilm, hf_tokenizer):
    out = tmp_path / "trec"
    run_negatron("prepare", "--model", minilm, "--input", DATA / "trec/train_5500.label", "--encoding", "latin-1",
                 "--columns", "text", "--label", "label", "--keep-text", "--no-progress", "--output", out)
    rows = [line.rstrip("\n").split(" ", 1) for line in open(DATA / "trec/train_5500.label", encoding="latin-1")]
    manifest, ids, raw, _, labels = load(out)
    label_map = manifest["columns"][1]["label_map"]
    assert manifest["columns"][1]["kind"] == "int64" and label_map == sorted({r[0] for r in rows}) and len(label_map) == 50
    assert [label_map[i] for i in labels] == [r[0] for r in rows]
    assert raw["text"] == [r[1] for r in rows] and "sister\u00f0city" in raw["text"][65]
    assert_tokenized(ids["text"], [r[1] for r in rows], hf_tokenizer)


def test_banking77_multiline_csv_with_given_categories(tmp_path, minilm, hf_tokenizer):
    out = tmp_path / "banking"
    run_negatron("prepare", "--model", minilm, "--input", DATA / "banking77/train.csv", "--columns", "text", "--label",
                 "category", "--label-map", DATA / "banking77/categories.json", "--keep-text", "--no-progress",
                 "--output", out)
    with open(DATA / "banking77/train.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    categories = json.loads((DATA / "banking77/categories.json").read_text())
    manifest, ids, raw, _, labels = load(out)
    assert manifest["columns"][1]["label_map"] == categories
    assert labels.tolist() == [categories.index(r["category"]) for r in rows]
    assert raw["text"] == [r["text"] for r in rows] and any("\n" in t for t in raw["text"])
    assert_tokenized(ids["text"], [r["text"] for r in rows], hf_tokenizer)


BAD_LINES = [
    ('{"a": "fine", "b": "row", "y": 1.5}', None),
    ('{"a": "broken json", "b": ', "invalid JSON"),
    ('{"a": "no b here", "y": 2}', "missing key 'b'"),
    ('{"a": "score", "b": "not a number", "y": "high"}', "non-numeric label 'high'"),
    ('{"a": "   ", "b": "empty a", "y": 3}', "column 'a': empty text"),
    ('{"a": "another", "b": "good row", "y": 0.25}', None),
]


def write_bad_input(path: Path):
    path.write_text("".join(text + "\n" for text, _ in BAD_LINES), encoding="utf-8")
    return path


@pytest.mark.parametrize("line", [2, 3, 4, 5])
def test_each_bad_row_fails_with_file_and_line(tmp_path, minilm, line):
    only = tmp_path / "only.jsonl"  # good rows, then the bad one at `line`
    only.write_text("".join(BAD_LINES[0][0] + "\n" for _ in range(line - 1)) + BAD_LINES[line - 1][0] + "\n")
    out = tmp_path / "out"
    result = run_negatron("prepare", "--model", minilm, "--input", only, "--columns", "a,b", "--label", "y",
                          "--label-type", "float", "--no-progress", "--output", out, check=False)
    assert result.returncode != 0
    assert f"{only}:{line}:" in result.stderr and BAD_LINES[line - 1][1] in result.stderr, result.stderr
    assert not out.exists() and not list(tmp_path.glob("out.tmp-*"))


def test_invalid_utf8_in_a_tsv_fails_or_is_skipped(tmp_path, minilm):
    source = tmp_path / "bytes.tsv"
    source.write_bytes(b"a\tb\nfine\trow\nbad \xff byte\tx\nok\tagain\n")
    out = tmp_path / "out"
    result = run_negatron("prepare", "--model", minilm, "--input", source, "--columns", "a,b", "--no-progress",
                          "--output", out, check=False)
    assert result.returncode != 0 and f"{source}:3: column 'a': invalid UTF-8 at byte 4" in result.stderr, result.stderr
    assert not out.exists()
    run_negatron("prepare", "--model", minilm, "--input", source, "--columns", "a,b", "--on-error", "skip",
                 "--no-progress", "--output", out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["rows"] == 2 and manifest["skipped_rows"] == 1


def test_skip_counts_bad_rows_in_the_manifest(tmp_path, minilm, hf_tokenizer):
    source = write_bad_input(tmp_path / "bad.jsonl")
    out = tmp_path / "out"
    result = run_negatron("prepare", "--model", minilm, "--input", source, "--columns", "a,b", "--label", "y",
                          "--on-error", "skip", "--no-progress", "--output", out)
    manifest, ids, _, _, labels = load(out)
    assert manifest["rows"] == 2 and manifest["skipped_rows"] == 4
    assert "skipped 4 bad row(s)" in result.stderr + result.stdout
    assert labels.tolist() == [1.5, 0.25]
    assert_tokenized(ids["a"], ["fine", "another"], hf_tokenizer)


def test_missing_column_names_the_file_and_the_columns(tmp_path, minilm):
    result = run_negatron("prepare", "--model", minilm, "--input", DATA / "snli/pairs_dev.tsv", "--columns",
                          "sentence1,hypothesis", "--no-progress", "--output", tmp_path / "out", check=False)
    assert result.returncode != 0
    assert "pairs_dev.tsv: no column 'hypothesis' (columns: sentence1, sentence2, label)" in result.stderr


def test_teacher_labels_equal_sentence_transformers(tmp_path, minilm):
    from sentence_transformers import SentenceTransformer

    texts = [r.split("\t") for r in (DATA / "snli/triplets_dev.tsv").read_text().splitlines()[1:41]]
    source = tmp_path / "t.jsonl"
    source.write_text("".join(json.dumps({"q": a, "p": p, "n": n}) + "\n" for a, p, n in texts))
    model = SentenceTransformer(str(minilm), device="cpu")
    q, p, n = (model.encode([t[i] for t in texts], convert_to_numpy=True) for i in range(3))
    run_negatron("prepare", "--model", minilm, "--input", source, "--columns", "q,p,n", "--teacher", minilm,
                 "--no-progress", "--output", tmp_path / "mse")
    manifest, _, _, _, labels = load(tmp_path / "mse")
    assert manifest["columns"][3] == {"name": "teacher", "kind": "float32_vector", "dimension": 384}
    np.testing.assert_allclose(labels, q, atol=2e-5)
    run_negatron("prepare", "--model", minilm, "--input", source, "--columns", "q,p,n", "--teacher", minilm,
                 "--teacher-label", "margin", "--no-progress", "--output", tmp_path / "margin")
    _, _, _, _, margins = load(tmp_path / "margin")
    np.testing.assert_allclose(margins, (q * p).sum(1) - (q * n).sum(1), atol=5e-5)


def peak_rss_mib(*args) -> float:
    """Runs `negatron prepare ...` and returns that process's peak resident set size."""
    process = subprocess.Popen([negatron_bin(), "prepare", *map(str, args)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, stderr.decode()
    return usage.ru_maxrss / 1024


def test_prepare_streams_in_bounded_memory(tmp_path, minilm):
    """The input is streamed in chunks of rows: 390k rows (75 MB) peak within a few MiB of 3k rows
    (loading the model dominates both: 631 MiB on the dev VM). Reading the whole file first, as
    prepare once did, peaked 173 MiB higher on this input."""
    lines = (DATA / "snli/triplets_dev.tsv").read_text(encoding="utf-8").splitlines(True)
    small, large = tmp_path / "small.tsv", tmp_path / "large.tsv"
    small.write_text("".join(lines), encoding="utf-8")
    with open(large, "w", encoding="utf-8") as f:
        f.write(lines[0])
        for _ in range(120):
            f.writelines(lines[1:])
    common = ["--model", minilm, "--columns", "anchor,positive,negative", "--shard-rows", 50000, "--chunk-rows",
              5000, "--threads", 2, "--no-progress"]
    base = peak_rss_mib("--input", small, "--output", tmp_path / "small_ds", *common)
    peak = peak_rss_mib("--input", large, "--output", tmp_path / "large_ds", *common)
    manifest = json.loads((tmp_path / "large_ds" / "manifest.json").read_text())
    assert manifest["rows"] == 120 * (len(lines) - 1) and len(manifest["shards"]) == 8
    assert peak - base < 64, f"peak RSS {peak:.0f} MiB on {manifest['rows']} rows vs {base:.0f} MiB on {len(lines) - 1}"
