"""DenoisingAutoEncoderLoss (TSDAE) against sentence-transformers on a tiny random BERT with dropout
off: the same weights (negatron's freshly initialized decoder parameters are copied into ST's decoder)
and the same batch give the same loss and the same gradient for every encoder parameter and every
decoder parameter, to 1e-4 relative; tied (the default) and untied. Plus the deletion noise of
`negatron prepare --deletion-noise` (ST's DenoisingAutoEncoderDataset): ratio, at least one word kept,
order kept, deterministic per seed. Run with -s to see the worst relative errors."""
import json
import random

import numpy as np
import pytest
import torch
from sentence_transformers.sentence_transformer import losses as st

from conftest import DATA, run_negatron, sts_sentences
from loss_harness import compare, compare_model_grads, make_tiny_st_model, run_model_loss, st_model_loss
from test_prepare import load

WORST = {}


@pytest.fixture(scope="module", autouse=True)
def report_worst():
    yield
    print("\nworst relative error (DenoisingAutoEncoderLoss):")
    for name, err in sorted(WORST.items()):
        print(f"  {name:45s} {err:.2e}")


@pytest.fixture(scope="module")
def tiny(minilm, tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    encoder = make_tiny_st_model(root, minilm, seed=0)
    make_tiny_st_model(root, minilm, seed=1)  # its plain HF folder is the untied decoder
    return encoder, root / "tiny_1_hf"


def whitespace_delete(text, rng, del_ratio=0.6):
    words = text.split()
    kept = [w for w in words if rng.random() > del_ratio] or [rng.choice(words)]
    return " ".join(kept)


def dae_rows(n=10):
    rng = random.Random(7)
    texts = list(dict.fromkeys(sts_sentences("dev")))[:n]
    texts[3] = texts[3] + " " + texts[4]  # a longer original, so the targets have padding
    return [{"columns": [whitespace_delete(t, rng), t]} for t in texts]


def check_dae(tiny, params, make_st_loss, key):
    from sentence_transformers import SentenceTransformer

    path, _ = tiny
    rows = dae_rows()
    loss, grads, owned = run_model_loss("DenoisingAutoEncoderLoss", params, path, rows, with_loss_params=True)
    model = SentenceTransformer(str(path), device="cpu")
    st_loss = make_st_loss(model)
    decoder = dict(st_loss.decoder.named_parameters())
    names = {k[len("decoder."):] for k in owned}
    encoder_ids = {id(p) for p in model.parameters()}
    # Every decoder parameter is either negatron's (loss-owned) or shared with the encoder, and vice versa.
    assert names == {n for n, p in decoder.items() if id(p) not in encoder_ids}, sorted(
        names ^ {n for n, p in decoder.items() if id(p) not in encoder_ids})
    with torch.no_grad():
        for name in names:
            decoder[name].copy_(torch.from_numpy(np.asarray(owned["decoder." + name][1])))
    st_loss.decoder.eval()  # dropout off (st_model_loss puts the encoder in eval)
    ref_loss, ref_grads = st_model_loss(st_loss, model, rows)
    err = compare(loss, ref_loss, 1e-4, 1e-9, what="loss")
    err = max(err, compare_model_grads(grads, ref_grads))
    for name in sorted(names):
        ref = decoder[name].grad
        ref = np.zeros(tuple(decoder[name].shape)) if ref is None else ref.numpy()
        err = max(err, compare(owned["decoder." + name][0], ref, 1e-4, 1e-9, what="decoder." + name))
    WORST[key] = err
    # The shared parameters really do get the decoder's gradient: the word embeddings (LM output) do.
    assert np.abs(grads["transformer.embeddings.word_embeddings.weight"]).max() > 0
    return names


def test_tied_matches_sentence_transformers(tiny):
    names = check_dae(tiny, {}, lambda m: st.DenoisingAutoEncoderLoss(m), "tied (default)")
    # Only the cross-attention and the LM head transform + bias are new when tied.
    assert all(".crossattention." in n or n.startswith("cls.predictions.") for n in names), names
    assert "cls.predictions.bias" in names and "cls.predictions.transform.dense.weight" in names


def test_untied_matches_sentence_transformers(tiny):
    _, decoder_dir = tiny
    params = {"decoder_name_or_path": str(decoder_dir), "tie_encoder_decoder": False}
    names = check_dae(tiny, params, lambda m: st.DenoisingAutoEncoderLoss(
        m, decoder_name_or_path=str(decoder_dir), tie_encoder_decoder=False), "untied")
    assert "bert.embeddings.word_embeddings.weight" in names


def test_parameter_errors(tiny):
    path, _ = tiny
    rows = dae_rows()[:2]
    cases = [({"tie_encoder_decoder": False}, "decoder_name_or_path is required"),
             ({"decoder_path": "x"}, "decoder_path"),
             ({"decoder_name_or_path": 3}, "decoder_name_or_path")]
    for params, message in cases:
        with pytest.raises(AssertionError, match=message):
            run_model_loss("DenoisingAutoEncoderLoss", params, path, rows)
    one_column = [{"columns": r["columns"][:1]} for r in rows]
    with pytest.raises(AssertionError, match="damaged_input, original_input"):
        run_model_loss("DenoisingAutoEncoderLoss", {}, path, one_column)


# ---- deletion noise (negatron prepare --deletion-noise) ------------------------------------------------

def prepare_noisy(minilm, out, seed=42, extra=()):
    run_negatron("prepare", "--model", minilm, "--input", DATA / "stsbenchmark" / "sts-dev.csv", "--format", "tsv",
                 "--no-header", "--columns", "5", "--deletion-noise", "--noise-seed", seed, "--keep-text",
                 "--output", out, "--no-progress", *extra)
    manifest, _, raw, _, labels = load(out)
    return manifest, raw, labels


def is_subsequence(small, big):
    it = iter(big)
    return all(word in it for word in small)


def test_deletion_noise(minilm, tmp_path):
    manifest, raw, labels = prepare_noisy(minilm, tmp_path / "a")
    assert [c["name"] for c in manifest["columns"] if c["kind"] == "text"] == ["noisy", "5"]
    assert labels is None
    originals = [line.rstrip("\n").split("\t")[5] for line in open(DATA / "stsbenchmark" / "sts-dev.csv",
                                                                   encoding="utf-8")]
    assert raw["5"] == originals
    total = deleted = forced = 0
    for noisy, original in zip(raw["noisy"], raw["5"]):
        words, kept = original.split(), noisy.split()
        assert 1 <= len(kept) <= len(words)
        assert is_subsequence(kept, words), (noisy, original)
        total += len(words)
        deleted += len(words) - len(kept)
        forced += len(kept) == 1
    ratio = deleted / total
    assert abs(ratio - 0.6) < 0.02, ratio  # ~15k words: the binomial s.d. of the ratio is ~0.004
    assert forced > 0  # some rows lost every word and kept one
    # Deterministic for a seed; another seed gives other noise.
    _, again, _ = prepare_noisy(minilm, tmp_path / "b")
    assert again["noisy"] == raw["noisy"]
    _, other, _ = prepare_noisy(minilm, tmp_path / "c", seed=7)
    assert other["noisy"] != raw["noisy"]
    # del_ratio 0 keeps everything (up to whitespace).
    _, none, _ = prepare_noisy(minilm, tmp_path / "d", extra=("--del-ratio", "0"))
    assert none["noisy"] == [" ".join(t.split()) for t in originals]
    assert not list(tmp_path.glob("*.noise-*.jsonl"))  # the intermediate file is removed


def test_deletion_noise_errors(minilm, tmp_path):
    args = ["prepare", "--model", minilm, "--input", DATA / "stsbenchmark" / "sts-dev.csv", "--format", "tsv",
            "--no-header", "--deletion-noise", "--output", tmp_path / "x", "--no-progress"]
    result = run_negatron(*args, "--columns", "5,6", check=False)
    assert result.returncode != 0 and "exactly one text column" in result.stderr
    result = run_negatron(*args, "--columns", "5", "--label", "4", check=False)
    assert result.returncode != 0 and "do not give --label" in result.stderr
