"""Parquet input: files written by pyarrow (plain, large and dictionary-encoded strings; int, float,
bool and list labels; several row groups) and by Hugging Face `datasets` prepare to the same shards as
the same rows given as JSONL, and encode to the same embeddings as a text file; wrong column types,
nulls, non-Parquet and empty files are clear errors naming file and column; memory stays bounded."""
import json
import os
import subprocess

import h5py
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import DATA, mixed_sentences, negatron_bin, run_negatron
from test_prepare import load

PREPARE = ["--no-progress", "--keep-text", "--shard-rows", 200]


def shard_bytes(dataset):
    manifest = json.loads((dataset / "manifest.json").read_text())
    return [c for c in manifest["columns"]], [(dataset / s["file"]).read_bytes() for s in manifest["shards"]]


@pytest.fixture(scope="module")
def texts():
    return mixed_sentences(120)[:500]


def test_pyarrow_types_prepare_like_jsonl(tmp_path, minilm, texts):
    n = len(texts)
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, 3)).astype(np.float32)
    table = pa.table({
        "text": pa.array(texts, pa.string()),
        "large": pa.array(texts[::-1], pa.large_string()),
        "dict": pa.array([f"class {i % 7}" for i in range(n)]).dictionary_encode(),
        "id": pa.array(range(n), pa.int32()),
        "score": pa.array(rng.random(n), pa.float64()),
        "flag": pa.array([i % 3 == 0 for i in range(n)]),
        "vec": pa.array(list(vectors), pa.list_(pa.float32())),
        "unused": pa.array([{"x": i} for i in range(n)]),  # a struct: never read, never an error
    })
    parquet = tmp_path / "t.parquet"
    pq.write_table(table, parquet, row_group_size=64)
    jsonl = tmp_path / "t.jsonl"
    with open(jsonl, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps({"text": texts[i], "large": texts[n - 1 - i], "dict": f"class {i % 7}", "id": i,
                                "score": float(table["score"][i].as_py()), "flag": int(i % 3 == 0),
                                "vec": [float(v) for v in vectors[i]]}, ensure_ascii=False) + "\n")
    for label, kind in [("id", "int64"), ("score", "float32"), ("flag", "int64"), ("vec", "float32_vector"),
                        ("dict", "int64")]:
        outputs = []
        for source in (parquet, jsonl):
            out = tmp_path / f"{source.suffix[1:]}_{label}"
            run_negatron("prepare", "--model", minilm, "--input", source, "--columns", "text,large", "--label", label,
                         "--label-type", "float-vector" if label == "vec" else "auto", "--output", out, *PREPARE)
            outputs.append(shard_bytes(out))
        assert outputs[0] == outputs[1], label
        assert outputs[0][0][2]["kind"] == kind
    manifest, _, raw, _, labels = load(tmp_path / "parquet_vec")
    assert raw["text"] == texts and raw["large"] == texts[::-1] and len(manifest["shards"]) == 3
    np.testing.assert_array_equal(labels, vectors)


def test_datasets_to_parquet(tmp_path, minilm, texts):
    from datasets import ClassLabel, Dataset, Features, Value

    features = Features({"sentence": Value("string"), "label": ClassLabel(names=["neg", "pos"])})
    dataset = Dataset.from_dict({"sentence": texts, "label": [i % 2 for i in range(len(texts))]}, features=features)
    parquet = tmp_path / "hf.parquet"
    dataset.to_parquet(str(parquet))
    out = tmp_path / "hf"
    run_negatron("prepare", "--model", minilm, "--input", parquet, "--columns", "sentence", "--label", "label",
                 "--output", out, *PREPARE)
    _, _, raw, _, labels = load(out)
    assert raw["sentence"] == texts and labels.tolist() == dataset["label"]


def test_encode_reads_a_parquet_column(tmp_path, minilm, texts):
    parquet = tmp_path / "e.parquet"
    pq.write_table(pa.table({"n": list(range(40)), "text": texts[:40]}), parquet, row_group_size=16)
    txt = tmp_path / "e.txt"
    txt.write_text("".join(t.replace("\n", " ") + "\n" for t in texts[:40]), encoding="utf-8")
    pq.write_table(pa.table({"text": [t.replace("\n", " ") for t in texts[:40]]}), parquet, row_group_size=16)
    for source in (parquet, txt):
        run_negatron("encode", "--model", minilm, "--input", source, "--column", "text" if source == parquet else "",
                     "--output", tmp_path / f"{source.suffix[1:]}.h5", "--no-progress")
    with h5py.File(tmp_path / "parquet.h5") as a, h5py.File(tmp_path / "txt.h5") as b:
        np.testing.assert_array_equal(a["embeddings"][:], b["embeddings"][:])


def test_bad_parquet_inputs(tmp_path, minilm):
    parquet = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"text": ["fine", None, "also fine"], "n": [1, 2, 3],
                             "nested": [{"a": 1}, {"a": 2}, {"a": 3}]}), parquet)

    def prepare(*args, source=parquet):
        return run_negatron("prepare", "--model", minilm, "--input", source, "--output", tmp_path / "out",
                            "--no-progress", *args, check=False)

    result = prepare("--columns", "n")
    assert result.returncode != 0 and f"{parquet}: column 'n' has type int64, expected a string column" in result.stderr
    result = prepare("--columns", "text", "--label", "nested")
    assert result.returncode != 0
    assert f"{parquet}: column 'nested' has type struct<a: int64>, which negatron cannot read" in result.stderr
    result = prepare("--columns", "title")
    assert result.returncode != 0 and f"{parquet}: no column 'title' (columns: text, n, nested)" in result.stderr
    result = prepare("--columns", "text")
    assert result.returncode != 0 and f"{parquet}:2: column 'text' is null" in result.stderr, result.stderr
    assert prepare("--columns", "text", "--on-error", "skip").returncode == 0
    assert json.loads((tmp_path / "out/manifest.json").read_text())["skipped_rows"] == 1

    not_parquet = tmp_path / "text.parquet"
    not_parquet.write_text("a,b\n1,2\n")
    result = prepare("--columns", "a", source=not_parquet)
    assert result.returncode != 0 and f"{not_parquet}: not a readable Parquet file" in result.stderr
    empty = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"text": pa.array([], pa.string())}), empty)
    result = prepare("--columns", "text", source=empty)
    assert result.returncode != 0 and f"{empty}: no usable rows" in result.stderr
    assert not list(tmp_path.glob("out.tmp-*"))


def peak_rss_mib(*args) -> float:
    process = subprocess.Popen([negatron_bin(), *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, stderr.decode()
    return usage.ru_maxrss / 1024


def test_row_groups_are_streamed(tmp_path, minilm):
    """148k rows (30 row groups) peak within a few MiB of 1.5k rows."""
    lines = (DATA / "snli/pairs_dev.tsv").read_text(encoding="utf-8").splitlines()[1:]
    small, large = tmp_path / "small.parquet", tmp_path / "large.parquet"
    pairs = [line.split("\t")[:2] for line in lines]
    pq.write_table(pa.table({"a": [p[0] for p in pairs[:1500]], "b": [p[1] for p in pairs[:1500]]}), small)
    writer = pq.ParquetWriter(large, pa.schema([("a", pa.string()), ("b", pa.string())]))
    for _ in range(15):
        writer.write_table(pa.table({"a": [p[0] for p in pairs], "b": [p[1] for p in pairs]}), row_group_size=5000)
    writer.close()
    common = ["--model", minilm, "--columns", "a,b", "--shard-rows", 50000, "--chunk-rows", 5000, "--threads", 2,
              "--no-progress"]
    base = peak_rss_mib("prepare", "--input", small, "--output", tmp_path / "s", *common)
    peak = peak_rss_mib("prepare", "--input", large, "--output", tmp_path / "l", *common)
    assert json.loads((tmp_path / "l/manifest.json").read_text())["rows"] == 15 * len(pairs)
    assert peak - base < 64, f"peak RSS {peak:.0f} MiB on {15 * len(pairs)} rows vs {base:.0f} MiB on 1.5k"
