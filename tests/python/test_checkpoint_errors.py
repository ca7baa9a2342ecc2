"""Bad model folders fail with a message naming the file and tensor: exit code 1, never a crash."""
import json
import shutil
import struct

import pytest
from conftest import edit_safetensors_header, run_negatron, write_jsonl


@pytest.fixture
def model_copy(minilm, tmp_path):
    target = tmp_path / "model"
    shutil.copytree(minilm, target)
    return target


def encode_error(model_dir, tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", ["a short sentence"])
    result = run_negatron("encode", "--model", model_dir, "--input", inputs, "--column", "text",
                          "--output", tmp_path / "out.h5", "--no-progress", check=False)
    assert result.returncode == 1, f"expected a clean failure, got rc={result.returncode}\n{result.stderr}"
    assert not (tmp_path / "out.h5").exists()
    return result.stderr


def test_truncated_safetensors(model_copy, tmp_path):
    weights = model_copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    err = encode_error(model_copy, tmp_path)
    assert "model.safetensors" in err and "out of range" in err


def test_header_length_beyond_file(model_copy, tmp_path):
    weights = model_copy / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(struct.pack("<Q", len(data) * 2) + data[8:])
    assert "header length" in encode_error(model_copy, tmp_path)


def test_missing_tensor(model_copy, tmp_path):
    edit_safetensors_header(model_copy / "model.safetensors",
                   lambda h: h.pop("encoder.layer.3.attention.self.key.weight"))
    err = encode_error(model_copy, tmp_path)
    assert "missing tensor 'encoder.layer.3.attention.self.key.weight'" in err


def test_wrong_shape(model_copy, tmp_path):
    def edit(h):
        h["embeddings.LayerNorm.weight"]["shape"] = [2, 192]
    edit_safetensors_header(model_copy / "model.safetensors", edit)
    err = encode_error(model_copy, tmp_path)
    assert "embeddings.LayerNorm.weight" in err and "shape" in err


def test_offsets_out_of_range(model_copy, tmp_path):
    def edit(h):
        h["pooler.dense.bias"]["data_offsets"] = [10**12, 10**12 + 1536]
    edit_safetensors_header(model_copy / "model.safetensors", edit)
    err = encode_error(model_copy, tmp_path)
    assert "pooler.dense.bias" in err and "out of range" in err


def test_unknown_architecture(model_copy, tmp_path):
    config = json.loads((model_copy / "config.json").read_text())
    config["model_type"] = "gpt2"
    (model_copy / "config.json").write_text(json.dumps(config))
    err = encode_error(model_copy, tmp_path)
    assert "unknown architecture model_type='gpt2'" in err and "config.json" in err


def test_garbage_header(model_copy, tmp_path):
    weights = model_copy / "model.safetensors"
    weights.write_bytes(struct.pack("<Q", 5) + b"{not json")
    assert "invalid JSON" in encode_error(model_copy, tmp_path)


def test_pickle_only_checkpoint(model_copy, tmp_path):
    (model_copy / "model.safetensors").rename(model_copy / "pytorch_model.bin")
    assert "pickle" in encode_error(model_copy, tmp_path)


def test_bad_input_line_is_reported(minilm, tmp_path):
    inputs = tmp_path / "bad.jsonl"
    inputs.write_text('{"text": "fine"}\n{"text": "broken\n')
    result = run_negatron("encode", "--model", minilm, "--input", inputs, "--column", "text",
                          "--output", tmp_path / "o.h5", check=False)
    assert result.returncode == 1
    assert "bad.jsonl:2" in result.stderr
