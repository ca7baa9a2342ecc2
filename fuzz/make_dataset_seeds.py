"""Writes the seed corpus of fuzz_dataset (fuzz/corpus/dataset/*.bin): small datasets prepared by
`negatron prepare` with a random tiny model on MiniLM's tokenizer, each as 4 bytes (little-endian
length of manifest.json), manifest.json, then its first shard.
Run: NEGATRON_BIN=build/src/negatron .venv/bin/python fuzz/make_dataset_seeds.py"""
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "python"))
from conftest import minilm_path, negatron_bin  # noqa: E402
from loss_harness import make_tiny_st_model  # noqa: E402

ROWS = [("A cat sits on the mat.", "A cat is sitting.", "A dog runs.", "1", "0.5"),
        ("Two men play chess.", "People play a game.", "Nobody is here.", "0", "4.25"),
        ("Café au lait, naïve façade.", "Coffee with milk.", "Tea.", "2", "3")]
CASES = {  # name -> prepare arguments beyond --input/--output/--model
    "triplets_text": ["--columns", "a,p,n", "--keep-text"],
    "pairs_int_labels": ["--columns", "a,p", "--label", "c"],
    "pairs_float_labels": ["--columns", "a,p", "--label", "s", "--label-type", "float"],
    "single_class_names": ["--columns", "a", "--label", "n", "--label-type", "int"],
}


def main():
    out = ROOT / "fuzz" / "corpus" / "dataset"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = make_tiny_st_model(tmp, minilm_path())
        table = tmp / "rows.tsv"
        table.write_text("a\tp\tn\tc\ts\n" + "".join("\t".join(r) + "\n" for r in ROWS), encoding="utf-8")
        for name, args in CASES.items():
            dataset = tmp / name
            subprocess.run([negatron_bin(), "prepare", "--model", str(model), "--input", str(table), "--output",
                            str(dataset), "--no-progress", *args], check=True, capture_output=True)
            manifest = (dataset / "manifest.json").read_bytes()
            shard = (dataset / "shard-00000.h5").read_bytes()
            (out / f"{name}.bin").write_bytes(struct.pack("<I", len(manifest)) + manifest + shard)
            print(name, len(manifest), len(shard))


if __name__ == "__main__":
    main()
