"""Shared tooling for the loss parity tests: run a loss through `negatron loss` and the same loss
through sentence-transformers, on the same embeddings (embedding level) or the same tiny model and
texts (model level), and compare losses and gradients.

Embedding level: `run_embedding_loss` writes columns/labels/guide to HDF5 and reads back `loss` and
`grad/i`; `st_embedding_loss` evaluates an ST loss object on the same tensors with torch.autograd.
Model level: `make_tiny_st_model` saves a random 2-layer BERT with ST; `run_model_loss` and
`st_model_loss` return (loss, {negatron parameter name: gradient}).
Relative error (see `compare`): max |a - b| / max |b| over a whole tensor, so near-zero entries of a
large gradient do not dominate.
"""
from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

import h5py
import numpy as np
import torch
from torch import nn

from conftest import run_negatron


# ---- embedding level ------------------------------------------------------------------------------

def _numpy(x, dtype=None):
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    return x.astype(dtype) if dtype is not None else x


def run_embedding_loss(name, params, columns, labels=None, guide=None, dtype="float64", *,
                       with_loss_params=False, check=True):
    """Runs `negatron loss` at embedding level. Returns (loss, [grad per column]); with
    with_loss_params also {name: (grad, value)} of the loss-owned parameters. With check=False
    returns the CompletedProcess instead (for error tests)."""
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.h5", Path(tmp) / "out.h5"
        with h5py.File(inp, "w") as f:
            for i, column in enumerate(columns):
                f[f"columns/{i}"] = _numpy(column, dtype)
            if labels is not None:
                lab = _numpy(labels)
                f["labels"] = lab.astype(np.int64) if lab.dtype.kind in "iub" else lab.astype(dtype)
            for i, g in enumerate(guide or []):
                f[f"guide/{i}"] = _numpy(g, dtype)
        result = run_negatron("loss", "--name", name, "--params", json.dumps(params or {}), "--input", inp,
                              "--output", out, check=check)
        if not check:
            return result
        with h5py.File(out) as f:
            loss = float(f["loss"][()])
            grads = [f[f"grad/{i}"][:] for i in range(len(columns))]
            loss_params = {k: (f["loss_param"][k][()], f["loss_param_value"][k][()]) for k in f.get("loss_param", {})}
    return (loss, grads, loss_params) if with_loss_params else (loss, grads)


class StubSTModel(nn.Sequential):
    """What ST loss constructors read from a model (device, embedding width, model[0]) and nothing
    else; pass it to build ST losses for embedding-level comparisons."""

    def __init__(self, dimension=8):
        super().__init__(nn.Identity())
        self.dimension = dimension
        self.device = torch.device("cpu")

    def get_embedding_dimension(self):
        return self.dimension


class _StubModel(nn.Module):
    """Stands in for a SentenceTransformer: returns the embedding stored in each feature dict."""

    def forward(self, features):
        return {"sentence_embedding": features["sentence_embedding_input"]}


def _merging_disabled():
    try:
        from sentence_transformers.base.losses.merged_forward import column_merging_disabled
        return column_merging_disabled()
    except ImportError:  # older ST: nothing merges
        return contextlib.nullcontext()


def _total(loss):
    """ST losses may return a dict of terms (GOR); the trainer sums them."""
    return sum(loss.values()) if isinstance(loss, dict) else loss


def st_embedding_loss(loss_obj, columns, labels=None, guide=None, dtype=torch.float64):
    """Evaluates a sentence-transformers loss object on given embeddings; returns (loss, [grads]).
    Loss-owned parameters accumulate their gradients in .grad (zero them first).

    Uses compute_loss_from_embeddings where ST has it (with EmbedDistill's per-column teachers and
    MegaBatchMargin's calculate_loss), else calls the loss with a stub model that returns the given
    embeddings per feature dict (SoftmaxLoss)."""
    embs = [torch.as_tensor(_numpy(c)).to(dtype).requires_grad_(True) for c in columns]
    lab = None if labels is None else torch.as_tensor(_numpy(labels))
    if lab is not None and lab.is_floating_point():
        lab = lab.to(dtype)
    kind = type(loss_obj).__name__
    if kind == "MegaBatchMarginLoss":
        loss = loss_obj.calculate_loss([[e] for e in embs], lab)
    elif hasattr(loss_obj, "projection") and hasattr(loss_obj, "compute_loss_from_embeddings"):  # EmbedDistill/MSE
        loss = loss_obj.compute_loss_from_embeddings(embs, [lab for _ in embs])
    elif guide is not None:
        guides = [torch.as_tensor(_numpy(g)).to(dtype) for g in guide]
        loss = loss_obj.compute_loss_from_embeddings(embs, lab, guides)
    elif hasattr(loss_obj, "compute_loss_from_embeddings"):
        loss = loss_obj.compute_loss_from_embeddings(embs, lab)
    else:
        original = loss_obj.model
        loss_obj.model = _StubModel()
        try:
            with _merging_disabled():
                loss = loss_obj([{"sentence_embedding_input": e} for e in embs], lab)
        finally:
            loss_obj.model = original
    loss = _total(loss)
    loss.backward()  # also fills .grad of loss-owned parameters (SoftmaxLoss classifier, projections)
    grads = [np.zeros(e.shape) if e.grad is None else e.grad.numpy() for e in embs]
    return float(loss.detach()), grads


def relative_error(a, b, floor=0.0):
    """max|a - b| / max(max|b|, floor): `floor` keeps cancellation noise in an analytically zero
    gradient (max|b| ~ 1e-19) from reading as a large relative error."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise AssertionError(f"shapes differ: {a.shape} vs {b.shape}")
    diff = np.abs(a - b).max(initial=0.0)
    scale = max(np.abs(b).max(initial=0.0), floor)
    return diff / scale if scale > 0 else diff


def compare(a, b, rtol=1e-6, atol=1e-12, what="value"):
    """Asserts max|a - b| <= atol + rtol * max|b| (NaN must match NaN); returns the relative error
    (with atol / rtol as the scale floor, see relative_error)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    assert (nan_a == nan_b).all(), f"{what}: NaN positions differ ({nan_a.sum()} vs {nan_b.sum()})"
    a, b = np.where(nan_a, 0, a), np.where(nan_b, 0, b)
    diff = np.abs(a - b).max(initial=0.0)
    scale = np.abs(b).max(initial=0.0)
    assert diff <= atol + rtol * scale, f"{what}: max abs diff {diff:.3g} vs scale {scale:.3g} (rtol {rtol})"
    return relative_error(a, b, floor=atol / rtol)


# ---- model level ----------------------------------------------------------------------------------

def make_tiny_st_model(tmp_path, minilm, pooling_mode="mean", dense=False, normalize=False, seed=0):
    """A random 2-layer BERT (hidden 32) on MiniLM's tokenizer, saved by sentence-transformers."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Dense, Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling
    from transformers import AutoTokenizer, BertConfig, BertModel

    out_dir = Path(tmp_path) / f"tiny_{seed}"
    if (out_dir / "modules.json").exists():
        return out_dir
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=128, hidden_act="gelu")
    hf_dir = out_dir.parent / (out_dir.name + "_hf")
    BertModel(config).save_pretrained(hf_dir)
    AutoTokenizer.from_pretrained(str(minilm)).save_pretrained(hf_dir)
    modules = [Transformer(str(hf_dir), max_seq_length=64), Pooling(32, pooling_mode=pooling_mode)]
    if dense:
        modules.append(Dense(modules[-1].get_embedding_dimension(), 16))
    if normalize:
        modules.append(Normalize())
    SentenceTransformer(modules=modules, device="cpu").save(str(out_dir))
    return out_dir


def _write_rows(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def run_model_loss(name, params, model_dir, rows, dropout=False, *, with_loss_params=False):
    """`negatron loss --model`: rows are {"columns": [...], "label": ...}. Returns (loss, {name: grad})
    (and {name: (grad, value)} of the loss-owned parameters with with_loss_params)."""
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "batch.jsonl", Path(tmp) / "out.h5"
        _write_rows(inp, rows)
        args = ["loss", "--name", name, "--params", json.dumps(params or {}), "--model", model_dir, "--input", inp,
                "--output", out]
        run_negatron(*args, *([] if dropout else ["--no-dropout"]))
        with h5py.File(out) as f:
            loss = float(f["loss"][()])
            grads = {k: f["param"][k][:] for k in f["param"]}
            loss_params = {k: (f["loss_param"][k][()], f["loss_param_value"][k][()]) for k in f.get("loss_param", {})}
    return (loss, grads, loss_params) if with_loss_params else (loss, grads)


def negatron_param_name(model, st_name):
    """ST's "0.model.encoder..." (older ST: "0.auto_model...") -> "transformer.encoder..."; the k-th Dense module's
    "<i>.linear.weight" -> "dense<k>.linear.weight"."""
    index, rest = st_name.split(".", 1)
    for prefix in ("auto_model.", "model."):  # ST 6 names the Transformer's HF model "model"
        if rest.startswith(prefix):
            return "transformer." + rest[len(prefix):]
    dense_positions = [i for i, m in enumerate(model) if type(m).__name__ == "Dense"]
    return f"dense{dense_positions.index(int(index))}.{rest}"


def rows_labels(rows):
    """The label tensor `negatron loss` builds from jsonl rows (ints -> int64, numbers -> float32,
    lists -> float32 [B, k]); None without labels."""
    labels = [row.get("label") for row in rows]
    if labels[0] is None:
        return None
    if isinstance(labels[0], list):
        return torch.tensor(labels, dtype=torch.float32)
    if all(isinstance(x, int) and not isinstance(x, bool) for x in labels):
        return torch.tensor(labels, dtype=torch.int64)
    return torch.tensor(labels, dtype=torch.float32)


def st_model_loss(st_loss, model, rows, dropout=False):
    """Runs an ST loss (built on `model`) on jsonl-style rows; returns (loss, {negatron name: grad}).
    Parameters without a gradient (e.g. the unused BERT pooler) get zeros, as `negatron loss` writes."""
    model.train(dropout)
    model.zero_grad()
    columns = len(rows[0]["columns"])
    features = [model.tokenize([row["columns"][c] for row in rows]) for c in range(columns)]
    loss = _total(st_loss(features, rows_labels(rows)))
    loss.backward()
    grads = {}
    for st_name, p in model.named_parameters():
        grads[negatron_param_name(model, st_name)] = (
            np.zeros(tuple(p.shape), dtype=np.float32) if p.grad is None else p.grad.detach().numpy())
    return float(loss.detach()), grads


def compare_model_grads(ours, theirs, rtol=1e-4, atol=1e-9, model_floor=1e-6):
    """Compares every parameter gradient; returns the worst relative error. Names must match exactly.
    Each tensor is compared relative to its own largest entry, but never to less than model_floor x
    the largest gradient in the model: a gradient that is mathematically ~0 (e.g. a LayerNorm bias
    under a translation-invariant loss, ~1e-7 here) is pure float32 rounding, and its digits depend
    on summation order (negatron sums over real tokens only, ST over padded ones)."""
    assert set(ours) == set(theirs), f"parameter names differ: {sorted(set(ours) ^ set(theirs))[:10]}"
    largest = max(float(np.abs(g).max()) for g in theirs.values() if g.size)
    atol = max(atol, model_floor * largest)
    return max(compare(ours[k], theirs[k], rtol=rtol, atol=atol, what=k) for k in theirs)
