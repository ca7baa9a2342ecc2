"""Declared loss parameters: `negatron train --print-config` shows every parameter of every dataset's
loss with its default, and those defaults are sentence-transformers 6's own (read from the loss classes'
signatures, not written here); wrappers show the wrapped loss resolved too. Unknown parameters get a
"did you mean" and the valid names, mistyped ones the expected type; `negatron loss --name X --help`
lists X's parameters."""
import inspect
import json

import numpy as np
import pytest
import yaml
from conftest import run_negatron
from loss_harness import run_embedding_loss

# Required parameters (no default in ST) for the losses that have them.
REQUIRED = {
    "SoftmaxLoss": {"num_labels": 3},
    "MatryoshkaLoss": {"loss": {"name": "CoSENTLoss"}, "matryoshka_dims": [8, 32, 16]},
    "Matryoshka2dLoss": {"loss": {"name": "CoSENTLoss"}, "matryoshka_dims": [8, 32, 16]},
    "AdaptiveLayerLoss": {"loss": {"name": "CoSENTLoss"}},
    "GISTEmbedLoss": {"guide": "guide-model"},
    "CachedGISTEmbedLoss": {"guide": "guide-model"},
}
IN_BATCH = {"MultipleNegativesRankingLoss", "MultipleNegativesSymmetricRankingLoss", "GISTEmbedLoss",
            "CachedMultipleNegativesRankingLoss", "CachedMultipleNegativesSymmetricRankingLoss", "CachedGISTEmbedLoss"}
# Where negatron differs from ST's signature on purpose. SoftmaxLoss: the loss function is cross-entropy
# (ST's default, not configurable); embedding_dimension, required by ST, defaults to the model's (null), and
# sentence_embedding_dimension is its name before ST 6, kept as an alias.
# The in-batch losses: tile_size is negatron's (tiled softmax), and gather_across_devices defaults to null, the
# run's distributed.gather_across_devices (on), so that every rank contrasts with the global batch (ST's default
# False shrinks the negatives at world size > 1).
NOT_IN_NEGATRON = {"SoftmaxLoss": {"loss_fct"}}
NOT_IN_ST = {"SoftmaxLoss": {"sentence_embedding_dimension", "embedding_dimension"},
             **{name: {"tile_size"} for name in IN_BATCH}}
DEFAULT_ON_PURPOSE = {name: {"gather_across_devices": None} for name in IN_BATCH}


def registered_losses():
    help_text = run_negatron("loss", "--help").stdout
    listing = help_text.split("registered losses")[1].splitlines()[1:]
    return [line.strip() for line in listing if line.startswith("  ")]


def print_config(tmp_path, losses, check=True):
    config = tmp_path / "run.yaml"
    config.write_text(json.dumps({
        "model": {"path": str(tmp_path)},
        "datasets": [{"name": f"d{i}", "path": str(tmp_path / f"d{i}"), "loss": loss} for i, loss in enumerate(losses)],
    }))
    result = run_negatron("train", "--config", config, "--print-config", check=check)
    return result if not check else [d["loss"] for d in yaml.safe_load(result.stdout)["datasets"]]


def st_default(value):
    """ST's default as negatron writes it: enum-like function members by their member name, similarity
    functions by their function name, torch modules by their class name."""
    from sentence_transformers.losses import (BatchHardTripletLossDistanceFunction, SiameseDistanceMetric,
                                              TripletDistanceMetric)

    if not callable(value):
        return list(value) if isinstance(value, tuple) else value
    for holder in (SiameseDistanceMetric, TripletDistanceMetric, BatchHardTripletLossDistanceFunction):
        for name, member in vars(holder).items():
            if member is value or getattr(member, "__func__", None) is value:
                return name
    if inspect.isfunction(value):
        return value.__name__
    if hasattr(value, "forward"):
        return type(value).__name__
    return list(value) if isinstance(value, tuple) else value


def st_signature_defaults(name):
    import sentence_transformers.losses as st

    parameters = inspect.signature(getattr(st, name).__init__).parameters  # __init__: past @deprecated
    return {key: st_default(p.default) for key, p in parameters.items()
            if key not in ("self", "model") and p.default is not inspect.Parameter.empty}


def test_print_config_shows_every_default_and_it_is_sentence_transformers_own(tmp_path):
    names = registered_losses()
    assert len(names) >= 29 and IN_BATCH <= set(names), names
    resolved = print_config(tmp_path, [{"name": n, **REQUIRED.get(n, {})} for n in names])
    for name, shown in zip(names, resolved):
        assert shown["name"] == name
        expected = st_signature_defaults(name)
        for key, default in expected.items():
            if key in NOT_IN_NEGATRON.get(name, set()):
                continue
            assert key in shown, f"{name}: print-config lacks '{key}' (ST default {default!r}): {shown}"
            default = DEFAULT_ON_PURPOSE.get(name, {}).get(key, default)
            assert shown[key] == default, f"{name}.{key}: negatron default {shown[key]!r}, ST {default!r}"
        extra = set(shown) - set(expected) - {"name"} - set(REQUIRED.get(name, {})) - NOT_IN_ST.get(name, set())
        assert not extra, f"{name}: parameters ST does not have: {extra}"


def test_wrapped_loss_is_resolved_once_with_its_own_defaults(tmp_path):
    matryoshka, matryoshka_2d = print_config(tmp_path, [
        {"name": "MatryoshkaLoss", "loss": {"name": "CoSENTLoss", "scale": 10}, "matryoshka_dims": [8, 32, 16],
         "matryoshka_weights": [1, 3, 2]},
        {"name": "Matryoshka2dLoss", "loss": {"name": "ContrastiveLoss"}, "matryoshka_dims": [16, 32]}])
    assert matryoshka["loss"] == {"name": "CoSENTLoss", "scale": 10.0, "similarity_fct": "pairwise_cos_sim"}
    # ST sorts the dimensions largest first and keeps each weight with its dimension.
    assert matryoshka["matryoshka_dims"] == [32, 16, 8] and matryoshka["matryoshka_weights"] == [3.0, 2.0, 1.0]
    assert matryoshka_2d["loss"] == {"name": "ContrastiveLoss", "distance_metric": "COSINE_DISTANCE",
                                     "margin": 0.5, "size_average": True}
    assert matryoshka_2d["n_dims_per_step"] == 1 and matryoshka_2d["n_layers_per_step"] == 1
    assert matryoshka_2d["matryoshka_dims"] == [32, 16] and matryoshka_2d["matryoshka_weights"] is None
    assert matryoshka_2d["kl_temperature"] == 0.3


def test_cached_losses_show_their_plain_losses_parameters_and_grad_caches(tmp_path):
    [cached, symmetric] = print_config(tmp_path, [
        {"name": "CachedMultipleNegativesRankingLoss", "scale": 25, "hardness_mode": "hard_negatives"},
        {"name": "CachedMultipleNegativesSymmetricRankingLoss", "mini_batch_num_tokens": 512, "tile_size": 64}])
    assert cached == {"name": "CachedMultipleNegativesRankingLoss", "scale": 25.0, "similarity_fct": "cos_sim",
                      "gather_across_devices": None, "tile_size": None, "directions": ["query_to_doc"],
                      "partition_mode": "joint", "hardness_mode": "hard_negatives", "hardness_strength": 0.0,
                      "mini_batch_size": 32, "mini_batch_num_tokens": None, "show_progress_bar": False}
    assert symmetric == {"name": "CachedMultipleNegativesSymmetricRankingLoss", "scale": 20.0,
                         "similarity_fct": "cos_sim", "gather_across_devices": None, "tile_size": 64,
                         "mini_batch_size": 32, "mini_batch_num_tokens": 512, "show_progress_bar": False}


@pytest.mark.parametrize("loss, message", [
    ({"name": "CoSENTLoss", "scael": 10},
     "config key 'datasets.0.loss': CoSENTLoss: unknown parameter 'scael' (did you mean 'scale'? "
     "valid: scale, similarity_fct)"),
    ({"name": "ContrastiveLoss", "margin": "big"},
     "ContrastiveLoss: parameter 'margin' must be a finite number, got \"big\""),
    ({"name": "MegaBatchMarginLoss", "mini_batch_size": 12.5},
     "MegaBatchMarginLoss: parameter 'mini_batch_size' must be an integer in range, got 12.5"),
    ({"name": "CachedGISTEmbedLoss", "guide": "g", "mini_batch_sise": 8},
     "CachedGISTEmbedLoss: unknown parameter 'mini_batch_sise' (did you mean 'mini_batch_size'?"),
    ({"name": "MultipleNegativesRankingLoss", "directions": ["query_to_doc", "doc_to_qeury"]},
     "MultipleNegativesRankingLoss: unknown direction 'doc_to_qeury'"),
    ({"name": "MatryoshkaLoss", "matryoshka_dims": [8], "loss": {"name": "CoSENTLoss", "simlarity_fct": "x"}},
     "MatryoshkaLoss: parameter 'loss': CoSENTLoss: unknown parameter 'simlarity_fct' (did you mean "
     "'similarity_fct'?"),
    ({"name": "TripletLoss", "distance_metric": "CHEBYSHEV"},
     "TripletLoss: parameter 'distance_metric' is 'CHEBYSHEV' (valid: EUCLIDEAN, COSINE, MANHATTAN)"),
    ({"name": "CoSENTLos"}, "unknown loss 'CoSENTLos' (did you mean 'CoSENTLoss'?"),
])
def test_bad_parameters_fail_when_the_config_is_read(tmp_path, loss, message):
    result = print_config(tmp_path, [loss], check=False)
    assert result.returncode != 0 and message in result.stderr, result.stderr


def test_bad_parameters_fail_in_negatron_loss_too():
    columns = [np.ones((2, 4)), np.zeros((2, 4))]
    result = run_embedding_loss("OnlineContrastiveLoss", {"margn": 1}, columns, labels=[0.0, 1.0], check=False)
    assert result.returncode != 0
    assert "OnlineContrastiveLoss: unknown parameter 'margn' (did you mean 'margin'?" in result.stderr, result.stderr


def test_loss_help_lists_parameters_with_defaults_and_docs():
    text = run_negatron("loss", "--name", "CoSENTLoss", "--help").stdout
    assert "CoSENTLoss parameters" in text
    lines = {line.split(":")[0].strip(): line for line in text.splitlines() if line.startswith("  ")}
    assert "scale: 20.0" in lines["scale"] and "1 / temperature" in lines["scale"], text
    assert 'similarity_fct: "pairwise_cos_sim"' in lines["similarity_fct"], text
    wrapper = run_negatron("loss", "--name", "Matryoshka2dLoss", "--help").stdout
    for parameter in ("loss: null", "matryoshka_dims: []", "n_dims_per_step: 1", 'layer_weighting: "uniform"'):
        assert parameter in wrapper, wrapper
    assert "has no parameters" in run_negatron("loss", "--name", "ContrastiveTensionLoss", "--help").stdout
    gist = run_negatron("loss", "--name", "CachedGISTEmbedLoss", "--help").stdout
    for parameter in ('guide: ""', "temperature: 0.01", "tile_size: null", "mini_batch_size: 32"):
        assert parameter in gist, gist
    assert "did you mean 'BatchHardTripletLoss'" in run_negatron("loss", "--name", "BatchHardTriplet", "--help").stdout


def test_loss_help_without_name_lists_every_registered_loss():
    names = registered_losses()
    for name in ("CoSENTLoss", "MultipleNegativesRankingLoss", "MatryoshkaLoss", "SoftmaxLoss"):
        assert name in names
