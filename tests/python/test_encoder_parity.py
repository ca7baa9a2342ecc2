"""negatron's encoder against sentence-transformers: same embeddings (fp32, within ENCODER_STEPS float32 steps)."""
import h5py
import pytest
from sentence_transformers import SentenceTransformer
from conftest import mixed_sentences, run_negatron, write_jsonl
from float32_tolerance import ENCODER_STEPS, assert_float32_close
from loss_harness import make_tiny_st_model


def negatron_encode(model_dir, texts, tmp_path, *extra, batch_size=32):
    inputs = write_jsonl(tmp_path / "texts.jsonl", texts)
    output = tmp_path / "out.h5"
    run_negatron("encode", "--model", model_dir, "--input", inputs, "--column", "text", "--output", output,
                 "--batch-size", batch_size, "--no-progress", *extra)
    with h5py.File(output) as f:
        return f["embeddings"][:], dict(f["embeddings"].attrs)


def reference_encode(model_dir, texts):
    model = SentenceTransformer(str(model_dir), device="cpu")
    return model.encode(texts, batch_size=32, convert_to_numpy=True)


def test_minilm_matches_sentence_transformers(minilm, tmp_path):
    texts = mixed_sentences()
    assert len(texts) >= 500
    ours, attrs = negatron_encode(minilm, texts, tmp_path)
    theirs = reference_encode(minilm, texts)
    assert ours.shape == theirs.shape == (len(texts), 384)
    assert attrs["normalized"] == 1
    assert_float32_close(ours, theirs, ENCODER_STEPS, f"all-MiniLM-L6-v2, {len(texts)} texts")


def test_identical_texts_in_one_batch_embed_identically(minilm, tmp_path):
    # Retrieval evaluation breaks exact score ties by corpus id, as sentence-transformers does; that
    # needs a text's embedding not to depend on the other rows of its batch (100 rows: more than one
    # attention chunk, lengths that vary).
    texts = mixed_sentences(100)
    texts[5] = texts[95] = texts[50]
    ours, _ = negatron_encode(minilm, texts, tmp_path, batch_size=100)
    assert (ours[5] == ours[50]).all() and (ours[95] == ours[50]).all()


@pytest.mark.parametrize(
    "pooling_mode,dense,normalize",
    [("mean", False, False), ("cls", True, True), ("max", False, True), ("mean_sqrt_len_tokens", False, False),
     ("weightedmean", True, False), ("lasttoken", False, False), (["cls", "mean", "max"], True, True)],
    ids=["mean", "cls+dense+norm", "max+norm", "mean_sqrt", "weightedmean+dense", "lasttoken", "multi"])
def test_tiny_random_bert_matches(minilm, tmp_path, pooling_mode, dense, normalize):
    model_dir = make_tiny_st_model(tmp_path, minilm, pooling_mode, dense, normalize)
    texts = mixed_sentences(40)
    ours, _ = negatron_encode(model_dir, texts, tmp_path)
    theirs = reference_encode(model_dir, texts)
    assert_float32_close(ours, theirs, ENCODER_STEPS, f"tiny BERT {pooling_mode}")


def test_negatron_saved_model_loads_in_python(minilm, tmp_path):
    saved = tmp_path / "resaved"
    run_negatron("convert", "--model", minilm, "--output", saved)
    texts = mixed_sentences(30)
    original = reference_encode(minilm, texts)
    reloaded = reference_encode(saved, texts)
    assert_float32_close(reloaded, original, ENCODER_STEPS, "MiniLM re-saved by negatron")
    assert SentenceTransformer(str(saved), device="cpu").max_seq_length == 256


def test_python_saved_model_loads_in_negatron(minilm, tmp_path):
    model = SentenceTransformer(str(minilm), device="cpu")
    model.max_seq_length = 64
    saved = tmp_path / "py_saved"
    model.save(str(saved))
    texts = mixed_sentences(30)
    ours, _ = negatron_encode(saved, texts, tmp_path)
    theirs = model.encode(texts, batch_size=32)
    assert_float32_close(ours, theirs, ENCODER_STEPS, "MiniLM saved by Python")


def test_tiny_dense_model_round_trips_through_negatron(minilm, tmp_path):
    model_dir = make_tiny_st_model(tmp_path, minilm, "cls", True, True)
    saved = tmp_path / "resaved"
    run_negatron("convert", "--model", model_dir, "--output", saved)
    texts = mixed_sentences(20)
    assert_float32_close(reference_encode(saved, texts), reference_encode(model_dir, texts), ENCODER_STEPS,
                         "tiny dense model re-saved by negatron")
