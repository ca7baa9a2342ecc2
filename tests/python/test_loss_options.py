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
}
# Where negatron differs from ST's signature on purpose. SoftmaxLoss: the loss function is cross-entropy
# (ST's default, not configurable); embedding_dimension, required by ST, defaults to the model's (null), and
# sentence_embedding_dimension is its name before ST 6, kept as an alias.
NOT_IN_NEGATRON = {"SoftmaxLoss": {"loss_fct"}}
NOT_IN_ST = {"SoftmaxLoss": {"sentence_embedding_dimension", "embedding_dimension"}}
# Losses that still read their parameters by hand (their files are being rewritten on another branch):
# print-config shows their parameters as given.
UNDECLARED = {"MultipleNegativesRankingLoss", "MultipleNegativesSymmetricRankingLoss", "GISTEmbedLoss",
              "CachedMultipleNegativesRankingLoss", "CachedMultipleNegativesSymmetricRankingLoss",
              "CachedGISTEmbedLoss"}


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

    for holder in (SiameseDistanceMetric, TripletDistanceMetric, BatchHardTripletLossDistanceFunction):
        for name, member in vars(holder).items():
            if member is value or getattr(member, "__func__", None) is value:
                return name
    if inspect.isfunction(value):
        return value.__name__
    if hasattr(value, "forward"):
        return type(value).__name__
    return value


def st_signature_defaults(name):
    import sentence_transformers.losses as st

    parameters = inspect.signature(getattr(st, name)).parameters
    return {key: st_default(p.default) for key, p in parameters.items()
            if key != "model" and p.default is not inspect.Parameter.empty}


def test_print_config_shows_every_default_and_it_is_sentence_transformers_own(tmp_path):
    names = [n for n in registered_losses() if n not in UNDECLARED]
    assert len(names) >= 20, names
    resolved = print_config(tmp_path, [{"name": n, **REQUIRED.get(n, {})} for n in names])
    for name, shown in zip(names, resolved):
        assert shown["name"] == name
        expected = st_signature_defaults(name)
        for key, default in expected.items():
            if key in NOT_IN_NEGATRON.get(name, set()):
                continue
            assert key in shown, f"{name}: print-config lacks '{key}' (ST default {default!r}): {shown}"
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


def test_undeclared_losses_keep_their_parameters_as_given(tmp_path):
    [mnrl] = print_config(tmp_path, [{"name": "MultipleNegativesRankingLoss", "scale": 25}])
    assert mnrl == {"name": "MultipleNegativesRankingLoss", "scale": 25}


@pytest.mark.parametrize("loss, message", [
    ({"name": "CoSENTLoss", "scael": 10},
     "config key 'datasets.0.loss': CoSENTLoss: unknown parameter 'scael' (did you mean 'scale'? "
     "valid: scale, similarity_fct)"),
    ({"name": "ContrastiveLoss", "margin": "big"},
     "ContrastiveLoss: parameter 'margin' must be a number, got \"big\""),
    ({"name": "MegaBatchMarginLoss", "mini_batch_size": 12.5},
     "MegaBatchMarginLoss: parameter 'mini_batch_size' must be an integer, got 12.5"),
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
    assert "not declared yet" in run_negatron("loss", "--name", "GISTEmbedLoss", "--help").stdout
    assert "did you mean 'BatchHardTripletLoss'" in run_negatron("loss", "--name", "BatchHardTriplet", "--help").stdout


def test_loss_help_without_name_lists_every_registered_loss():
    names = registered_losses()
    for name in ("CoSENTLoss", "MultipleNegativesRankingLoss", "MatryoshkaLoss", "SoftmaxLoss"):
        assert name in names
