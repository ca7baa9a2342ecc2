"""Bad values and files, as a user meets them: each is refused with exit code 1 and a message naming the
file and the key or line (never a bare JSON/YAML/PyTorch library message, a crash, or exit 0 with a
silently wrong result); no command replaces or deletes a folder negatron did not write."""
import json
import shutil

import h5py
import numpy as np
import pytest
from conftest import assert_clean_failure, edit_safetensors_header, prepare_triplets, run_negatron, snli_triplets
from loss_harness import make_tiny_st_model

def expect_refusal(args, *expected):
    result = run_negatron(*args, check=False)
    assert_clean_failure(result, *expected)
    return result.stderr


@pytest.fixture(scope="module")
def setup(tmp_path_factory, minilm):
    root = tmp_path_factory.mktemp("bad_inputs")
    model = make_tiny_st_model(root, minilm, pooling_mode="mean")
    dataset = prepare_triplets(model, snli_triplets(root / "triplets.tsv", 40), root / "ds")
    texts = root / "texts.txt"
    texts.write_text("a sentence\nanother one\n")
    return root, model, dataset, texts


@pytest.fixture
def model_copy(setup, tmp_path):
    target = tmp_path / "model"
    shutil.copytree(setup[1], target)
    return target


def encode_refusal(model_dir, texts, tmp_path, *expected):
    return expect_refusal(["encode", "--model", model_dir, "--input", texts, "--output", tmp_path / "o.h5",
                           "--no-progress"], *expected)


def edit_json(path, edit):
    data = json.loads(path.read_text())
    data = edit(data) or data
    path.write_text(json.dumps(data))


MODEL_FOLDER_CASES = {
    "shape_is_object": ("model.safetensors", lambda m: edit_safetensors_header(
        m / "model.safetensors", lambda h: h["pooler.dense.bias"].update(shape={"n": 32})), "not a list"),
    "dtype_is_number": ("model.safetensors", lambda m: edit_safetensors_header(
        m / "model.safetensors", lambda h: h["pooler.dense.bias"].update(dtype=4)), "pooler.dense.bias.dtype"),
    "modules_type_is_number": ("modules.json", lambda m: edit_json(
        m / "modules.json", lambda d: d[0].update(type=7)), "'[0].type' must be a string"),
    "modules_path_escapes": ("modules.json", lambda m: edit_json(
        m / "modules.json", lambda d: d[1].update(path="../../etc")), "leaves the model folder"),
    "pooling_dimension_is_text": ("1_Pooling/config.json", lambda m: edit_json(
        m / "1_Pooling" / "config.json", lambda d: d.update(word_embedding_dimension="32", embedding_dimension="32")),
        "embedding_dimension"),
    "pooling_dimension_mismatch": ("1_Pooling/config.json", lambda m: edit_json(
        m / "1_Pooling" / "config.json", lambda d: d.update(word_embedding_dimension=64, embedding_dimension=64)),
        "does not match the Transformer's hidden_size 32"),
    "pooling_mode_is_number": ("1_Pooling/config.json", lambda m: edit_json(
        m / "1_Pooling" / "config.json", lambda d: d.update(pooling_mode=3)), "pooling_mode"),
    "config_vocab_beyond_weights": ("config.json", lambda m: edit_json(
        m / "config.json", lambda d: d.update(vocab_size=10_000_000)), "does not belong to these weights"),
    "config_negative_layers": ("config.json", lambda m: edit_json(
        m / "config.json", lambda d: d.update(num_hidden_layers=-2)), "'num_hidden_layers' = -2"),
    "config_dropout_above_one": ("config.json", lambda m: edit_json(
        m / "config.json", lambda d: d.update(hidden_dropout_prob=2.0)), "hidden_dropout_prob"),
    "added_token_id_huge": ("tokenizer.json", lambda m: edit_json(
        m / "tokenizer.json", lambda d: d["added_tokens"][0].update(id=2**31 - 1)), "added_tokens[0].id"),
    "tokenizer_number_overflow": ("tokenizer.json", lambda m: (m / "tokenizer.json").write_text(
        (m / "tokenizer.json").read_text().replace('"max_input_chars_per_word": 100', '"max_input_chars_per_word": 1e999')),
        "out of range"),
    "negative_max_seq_length": ("sentence_bert_config.json", lambda m: edit_json(
        m / "sentence_bert_config.json", lambda d: d.update(max_seq_length=-5)), "max_seq_length -5"),
    "st_config_not_object": ("config_sentence_transformers.json", lambda m: (
        m / "config_sentence_transformers.json").write_text("[1, 2]"), "expected a JSON object"),
}


@pytest.mark.parametrize("case", list(MODEL_FOLDER_CASES))
def test_model_folder_values_are_refused_by_file(setup, model_copy, tmp_path, case):
    file, edit, expected = MODEL_FOLDER_CASES[case]
    edit(model_copy)
    encode_refusal(model_copy, setup[3], tmp_path, str(model_copy / file) if "/" not in file else file, expected)


def test_jsonl_number_out_of_range_fails_or_is_skipped(setup, tmp_path):
    _, model, _, _ = setup
    rows = tmp_path / "in.jsonl"
    rows.write_text('{"a": "one", "b": "two"}\n{"a": 1e999, "b": "x"}\n{"a": "three", "b": "four"}\n')
    args = ["prepare", "--model", model, "--input", rows, "--columns", "a,b", "--output", tmp_path / "ds",
            "--no-progress"]
    expect_refusal(args, f"{rows}:2", "out of range")
    result = run_negatron(*args, "--on-error", "skip")
    assert "skipped 1 bad row" in result.stderr
    assert json.loads((tmp_path / "ds" / "manifest.json").read_text())["rows"] == 2


def test_csv_header_with_a_byte_order_mark(setup, tmp_path):
    _, model, _, _ = setup
    table = tmp_path / "bom.csv"
    table.write_bytes("\ufeffanchor,positive\nA cat sits.,A cat is sitting.\n".encode("utf-8"))
    run_negatron("prepare", "--model", model, "--input", table, "--columns", "anchor,positive", "--output",
                 tmp_path / "ds", "--no-progress")
    assert json.loads((tmp_path / "ds" / "manifest.json").read_text())["rows"] == 1


def test_label_scale_that_overflows_is_refused(setup, tmp_path):
    _, model, _, _ = setup
    table = tmp_path / "scores.tsv"
    table.write_text("s1\ts2\tscore\nA cat.\tA dog.\t5.0\n")
    base = ["prepare", "--model", model, "--input", table, "--columns", "s1,s2", "--label", "score", "--output",
            tmp_path / "ds", "--no-progress"]
    expect_refusal([*base, "--label-scale", "1e308"], f"{table}:2", "overflows float32")
    expect_refusal([*base, "--label-scale", "0"], "--label-scale")
    expect_refusal([*base, "--max-seq-length", "-1"], "--max-seq-length")


@pytest.mark.parametrize("score,expected", [("nan", "not a finite number"), ("abc", "not a finite number"),
                                             ("1.5x", "not a finite number"), ("inf", "not a finite number")])
def test_evaluation_gold_scores_must_be_numbers(setup, tmp_path, score, expected):
    _, model, _, _ = setup
    table = tmp_path / "sts.tsv"
    table.write_text(f"s1\ts2\tscore\nA cat.\tA dog.\t1.0\nA man.\tA woman.\t{score}\n")
    expect_refusal(["evaluate", "--model", model, "--input", table, "--columns", "s1,s2", "--score-column", "score"],
                   f"{table}:3", expected)


def test_score_scale_zero_is_refused(setup, tmp_path):
    _, model, _, _ = setup
    table = tmp_path / "sts.tsv"
    table.write_text("s1\ts2\tscore\nA cat.\tA dog.\t1.0\nA man.\tA woman.\t2\n")
    expect_refusal(["evaluate", "--model", model, "--input", table, "--columns", "s1,s2", "--score-column", "score",
                    "--score-scale", "0"], "score_scale")


def test_negative_lengths_on_the_command_line(setup, tmp_path):
    _, model, _, texts = setup
    expect_refusal(["encode", "--model", model, "--input", texts, "--output", tmp_path / "o.h5",
                    "--max-seq-length", "-3"], "--max-seq-length")
    expect_refusal(["convert", "--model", model, "--output", tmp_path / "c", "--max-seq-length", "-3"],
                   "--max-seq-length")


def write_config(root, model, dataset, out, training=None, **top):
    config = root / f"{out.name}.json"
    body = {"model": {"path": str(model)},
            "datasets": [{"name": "nli", "path": str(dataset), "loss": {"name": "MultipleNegativesRankingLoss"}}],
            "training": {"per_device_train_batch_size": 8, "max_steps": 2, "logging_steps": 1, "threads": 1,
                         **(training or {})},
            "output_dir": str(out)}
    body.update(top)
    config.write_text(json.dumps(body))
    return config


@pytest.mark.parametrize("key,value,expected", [
    ("training.adam_beta1", 1.5, "'training.adam_beta1' = 1.5"),
    ("training.adam_epsilon", 0, "'training.adam_epsilon'"),
    ("training.warmup_steps", -10, "'training.warmup_steps' = -10"),
    ("training.max_steps", -5, "'training.max_steps'"),
    ("training.logging_steps", 0, "'training.logging_steps'"),
    ("model.max_seq_length", -128, "'model.max_seq_length' = -128"),
    ("loss", {"name": 7}, "'datasets.0.loss'"),
    ("output_dir", "", "'output_dir' is empty"),
])
def test_training_config_values_are_refused_by_key(setup, tmp_path, key, value, expected):
    root, model, dataset, _ = setup
    config = write_config(tmp_path, model, dataset, tmp_path / "out")
    body = json.loads(config.read_text())
    if key == "loss":
        body["datasets"][0]["loss"] = value
    elif "." in key:
        section, name = key.split(".")
        body[section][name] = value
    else:
        body[key] = value
    config.write_text(json.dumps(body))
    expect_refusal(["train", "--config", config], str(config), expected)


def test_yaml_number_out_of_range_names_the_key(setup, tmp_path):
    _, model, dataset, _ = setup
    config = tmp_path / "c.yaml"
    config.write_text(f"model: {{path: {model}}}\ndatasets: [{{path: {dataset}}}]\n"
                      "training: {learning_rate: 1e999}\n")
    expect_refusal(["train", "--config", config], str(config), "'training.learning_rate' must be a finite number")


@pytest.fixture(scope="module")
def checkpoint(setup):
    """A finished run's checkpoint-2, copied fresh for each test that damages it."""
    root, model, dataset, _ = setup
    out = root / "trained"
    run_negatron("train", "--config", write_config(root, model, dataset, out))
    return out / "checkpoint-2"


def resume_refusal(setup, checkpoint, tmp_path, damage, *expected):
    _, model, dataset, _ = setup
    out = tmp_path / "resumed"
    out.mkdir()
    shutil.copytree(checkpoint, out / "checkpoint-2")
    damage(out / "checkpoint-2")
    config = write_config(tmp_path, model, dataset, out, {"max_steps": 4})
    return expect_refusal(["train", "--config", config, "--resume", "latest"], *expected)


@pytest.mark.parametrize("state,expected", [({"step": -4}, "'step' = -4"), ({"step": "2"}, "'step' must be"),
                                            ({"skipped_steps": 9}, "'skipped_steps' = 9"),
                                            ({"sampler": [1]}, "'sampler' must be an object")])
def test_resumed_trainer_state_is_range_checked(setup, checkpoint, tmp_path, state, expected):
    resume_refusal(setup, checkpoint, tmp_path,
                   lambda c: edit_json(c / "trainer_state.json", lambda d: d.update(state)),
                   "trainer_state.json", expected)


@pytest.mark.parametrize("file,damage", [
    ("optimizer.pt", lambda p: p.write_bytes(b"not a zip archive at all")),
    ("optimizer.pt", lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])),
    ("rng_state_0.pt", lambda p: p.write_bytes(b"\x00" * 64)),
    ("rng_state_0.pt", lambda p: p.write_bytes(p.read_bytes()[:100])),
])
def test_corrupt_torch_files_are_named(setup, checkpoint, tmp_path, file, damage):
    resume_refusal(setup, checkpoint, tmp_path, lambda c: damage(c / file), f"checkpoint-2/{file}", "cannot read")


def copy_dataset(dataset, tmp_path):
    target = tmp_path / "ds"
    shutil.copytree(dataset, target)
    return target


def test_negative_label_dimension_in_a_manifest(setup, tmp_path):
    root, model, dataset, _ = setup
    ds = copy_dataset(dataset, tmp_path)
    edit_json(ds / "manifest.json", lambda m: m["columns"].append(
        {"name": "teacher", "kind": "float32_vector", "dimension": -3}))
    config = write_config(tmp_path, model, ds, tmp_path / "out")
    expect_refusal(["train", "--config", config], str(ds / "manifest.json"), "dimension' = -3")


def set_token_ids_beyond_vocabulary(ds, keep_recorded_max):
    """Rewrites the word ids of the first shard's first column to 99999 (the tiny model's vocabulary is
    30522; every row has such a word) and refreshes the shard's size and checksum in the manifest, as a
    foreign or tampered shard would have. With keep_recorded_max the manifest still claims the old
    largest id, so only the check of each row read can find them."""
    shard = ds / "shard-00000.h5"
    with h5py.File(shard, "r+") as f:
        ids = f["text_0/ids"][:]
        ids[ids > 1000] = 99999
        f["text_0/ids"][:] = ids
    data = shard.read_bytes()
    checksum = 0xcbf29ce484222325
    for byte in data:
        checksum = ((checksum ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF

    def edit(manifest):
        entry = manifest["shards"][0]
        entry.update(bytes=len(data), checksum=f"0x{checksum:016x}")
        if not keep_recorded_max:
            entry.pop("max_token_id", None)
    edit_json(ds / "manifest.json", edit)


@pytest.mark.parametrize("recorded", [False, True], ids=["scanned_at_open", "checked_on_read"])
def test_token_ids_outside_the_vocabulary_name_the_shard(setup, tmp_path, recorded):
    root, model, dataset, _ = setup
    ds = copy_dataset(dataset, tmp_path)
    set_token_ids_beyond_vocabulary(ds, keep_recorded_max=recorded)
    config = write_config(tmp_path, model, ds, tmp_path / "out")
    expect_refusal(["train", "--config", config], str(ds / "shard-00000.h5"), "token id 99999", "vocabulary of 30522")


def test_no_command_replaces_someone_elses_folder(setup, tmp_path):
    _, model, _, texts = setup
    theirs = tmp_path / "their_folder"
    theirs.mkdir()
    (theirs / "thesis.tex").write_text("years of work")
    expect_refusal(["convert", "--model", model, "--output", theirs], str(theirs), "refusing to replace")
    expect_refusal(["prepare", "--model", model, "--input", texts, "--columns", "text", "--output", theirs,
                    "--no-progress"], str(theirs), "refusing to replace")
    assert sorted(p.name for p in theirs.iterdir()) == ["thesis.tex"]
    assert (theirs / "thesis.tex").read_text() == "years of work"
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep")
    expect_refusal(["convert", "--model", model, "--output", a_file], "is not a folder")
    assert a_file.read_text() == "keep"
    # An empty folder, or one negatron wrote, is replaced.
    (tmp_path / "empty").mkdir()
    run_negatron("convert", "--model", model, "--output", tmp_path / "empty")
    run_negatron("convert", "--model", model, "--output", tmp_path / "empty", "--max-seq-length", "16")
    assert json.loads((tmp_path / "empty" / "sentence_bert_config.json").read_text())["max_seq_length"] == 16


def test_training_refuses_a_final_folder_it_did_not_write(setup, tmp_path):
    _, model, dataset, _ = setup
    out = tmp_path / "out"
    (out / "final").mkdir(parents=True)
    (out / "final" / "notes.md").write_text("mine")
    config = write_config(tmp_path, model, dataset, out)
    expect_refusal(["train", "--config", config], str(out / "final"), "refusing to replace")
    assert (out / "final" / "notes.md").read_text() == "mine"
    assert not (out / "metrics.jsonl").exists(), "the refusal should come before training"
