"""`mpirun -np N negatron prepare` writes the dataset one process writes, byte for byte (manifest,
shard files and their checksums), at N = 1, 2, 3; inputs mix CSV fields with newlines and bad rows
skipped with --on-error skip, so the ranks' parts start inside awkward places. Python's csv and json
modules give the expected rows independently. With --on-error fail the job stops on every rank with
the error a single process reports first, and leaves nothing behind."""
import csv
import json
from pathlib import Path

import pytest

from conftest import DATA, run_negatron_ranks
from test_prepare import load


def mpirun_prepare(np_, *args, check=True):
    return run_negatron_ranks(np_, "prepare", *args, "--no-progress", check=check)


def shard_bytes(dataset: Path):
    manifest = json.loads((dataset / "manifest.json").read_text())
    return manifest, [(dataset / s["file"]).read_bytes() for s in manifest["shards"]]


def assert_same_at_every_rank_count(tmp_path, *args):
    outputs = {}
    for np_ in (1, 2, 3):
        out = tmp_path / f"np{np_}"
        mpirun_prepare(np_, *args, "--output", out)
        outputs[np_] = shard_bytes(out)
        assert not list(tmp_path.glob(f"np{np_}.tmp-*"))
    for np_ in (2, 3):
        assert outputs[np_][0] == outputs[1][0], f"manifest at np {np_} differs"
        assert outputs[np_][1] == outputs[1][1], f"shard bytes at np {np_} differ"
    return tmp_path / "np1"


def banking_with_bad_rows(path: Path):
    """banking77 rows, every 40th given a second line with a comma and quotes, with bad rows mixed in:
    an empty text, a category not in the label map, a row with too few fields, invalid UTF-8.
    Returns the good rows."""
    with open(DATA / "banking77/train.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))[:2400]
    good = []
    with open(path, "wb") as f:
        f.write(b"text,category\n")
        for i, row in enumerate(rows):
            if i % 97 == 5:
                f.write(b'"   ",card_arrival\n')
            if i % 131 == 7:
                f.write(b'"a fine text","not a category"\n')
            if i % 173 == 11:
                f.write(b'"only one field"\n')
            if i % 211 == 13:
                f.write(b'"bad \xff byte",card_arrival\n')
            if i % 40 == 0:
                row = dict(row, text=row["text"] + '\nsecond line, with a comma and "quotes"')
            text = row["text"].replace('"', '""')
            f.write(f'"{text}",{row["category"]}\n'.encode())
            good.append(row)
    return good


def test_csv_with_newlines_and_skipped_rows_is_identical_at_1_2_3_ranks(tmp_path, minilm):
    source = tmp_path / "banking.csv"
    good = banking_with_bad_rows(source)
    assert sum("\n" in r["text"] for r in good) > 60
    out = assert_same_at_every_rank_count(tmp_path, "--model", minilm, "--input", source, "--columns", "text", "--label",
                                          "category", "--label-map", DATA / "banking77/categories.json",
                                          "--on-error", "skip", "--keep-text", "--shard-rows", 350)
    manifest, _, raw, _, labels = load(out)
    categories = json.loads((DATA / "banking77/categories.json").read_text())
    assert manifest["rows"] == len(good) and len(manifest["shards"]) == 7
    assert manifest["skipped_rows"] == sum(1 for i in range(2400) for m, r in ((97, 5), (131, 7), (173, 11), (211, 13))
                                          if i % m == r)
    assert raw["text"] == [r["text"] for r in good]
    assert labels.tolist() == [categories.index(r["category"]) for r in good]


def test_jsonl_label_map_and_vector_dimension_agree_across_ranks(tmp_path, minilm):
    """The label map (auto: sorted distinct strings of every part) and a float32_vector label's
    dimension (its first good row's) need every part of the input: the ranks must agree."""
    lines, expected = [], []
    for i in range(900):
        if i % 50 == 3:
            lines.append('{"t": "broken json')
        if i % 70 == 9:
            lines.append(json.dumps({"t": "vector of 2", "y": "c", "v": [1, 2]}))  # dimension differs: bad
        row = {"t": f"sentence number {i} of the test", "y": f"class{(i * 7) % 13}", "v": [i, i / 2, 1.5]}
        lines.append(json.dumps(row))
        expected.append(row)
    source = tmp_path / "rows.jsonl"
    source.write_text("\n".join(lines) + "\n")
    by_map = assert_same_at_every_rank_count(tmp_path / "map", "--model", minilm, "--input", source, "--columns", "t",
                                             "--label", "y", "--on-error", "skip", "--shard-rows", 128)
    manifest, _, _, _, labels = load(by_map)
    names = manifest["columns"][1]["label_map"]
    assert names == sorted({r["y"] for r in expected} | {"c"})
    vectors = assert_same_at_every_rank_count(tmp_path / "vec", "--model", minilm, "--input", source, "--columns", "t",
                                              "--label", "v", "--label-type", "float-vector", "--on-error", "skip",
                                              "--shard-rows", 128)
    manifest, _, _, _, labels = load(vectors)
    assert manifest["columns"][1]["dimension"] == 3 and manifest["rows"] == len(expected)
    assert labels.tolist() == [r["v"] for r in expected]


def test_parquet_is_split_by_rows(tmp_path, minilm):
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = [f"text {i} with words" for i in range(1000)]
    source = tmp_path / "rows.parquet"
    pq.write_table(pa.table({"text": texts, "score": [i / 1000 for i in range(1000)]}), source, row_group_size=150)
    out = assert_same_at_every_rank_count(tmp_path, "--model", minilm, "--input", source, "--columns", "text",
                                          "--label", "score", "--keep-text", "--shard-rows", 300)
    _, _, raw, _, labels = load(out)
    assert raw["text"] == texts and labels[999] == pytest.approx(0.999)


@pytest.mark.parametrize("bad_lines", [[1500], [300, 1500]])
def test_fail_stops_every_rank_with_the_first_error(tmp_path, minilm, bad_lines):
    """A bad row in the second rank's part (or in both parts): both ranks stop, the message is the
    one a single process gives (the first bad line), and no dataset or temporary directory is left."""
    lines = ["a,b"] + [f"row {i},second {i}" for i in range(2000)]
    for line in bad_lines:
        lines[line - 1] = f'"row {line}",'  # empty second column
    source = tmp_path / "in.csv"
    source.write_text("\n".join(lines) + "\n")
    first = min(bad_lines)
    for np_ in (1, 2):
        out = tmp_path / f"out{np_}"
        result = mpirun_prepare(np_, "--model", minilm, "--input", source, "--columns", "a,b", "--output", out,
                                check=False)
        assert result.returncode != 0
        assert f"{source}:{first}: column 'b': empty text" in result.stderr, result.stderr
        assert result.stderr.count("empty text") == 1, result.stderr  # told once, by rank 0
        assert not out.exists() and not list(tmp_path.glob(f"out{np_}.tmp-*"))
