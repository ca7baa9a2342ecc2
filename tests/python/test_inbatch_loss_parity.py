"""Part B losses (in-batch negatives and wrappers) against sentence-transformers' own classes.
Embedding level: the same float64 embeddings through `negatron loss` and ST's loss, loss and every
column gradient to 1e-6 relative, untiled and (on a subset) tiled (tile_size). Model level: the tiny random BERT (dropout off), loss and every
parameter gradient to 1e-4 relative. Run with -s to see the worst relative error per loss."""
import warnings
from collections import defaultdict

import numpy as np
import pytest
import torch
from torch import nn
from sentence_transformers import SentenceTransformer, util
from sentence_transformers.sentence_transformer import losses as st

from loss_harness import (StubSTModel, _merging_disabled, compare, compare_model_grads, make_tiny_st_model,
                          run_embedding_loss, run_model_loss, st_embedding_loss, st_model_loss)

B, D = 12, 8
WORST = defaultdict(float)
ALL = ["query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc"]


@pytest.fixture(scope="module", autouse=True)
def report_worst():
    yield
    print("\nworst relative error per loss (loss value and gradients):")
    for name, err in sorted(WORST.items()):
        print(f"  {name:45s} {err:.2e}")


def record(name, *errors):
    WORST[name] = max(WORST[name], *errors)


def embeddings(case, columns, dim=D, rows=B):
    rng = np.random.default_rng(sum(map(ord, case)))
    return [rng.standard_normal((rows, dim)) for _ in range(columns)]


def check_embedding(name, params, st_loss, columns, labels=None, rtol=1e-6):
    loss, grads = run_embedding_loss(name, params, columns, labels)
    ref, ref_grads = st_embedding_loss(st_loss, columns, labels)
    errs = [compare(loss, ref, rtol=rtol, what=f"{name} loss")]
    errs += [compare(g, r, rtol=rtol, what=f"{name} grad {i}") for i, (g, r) in enumerate(zip(grads, ref_grads))]
    record(name + (" (tiled)" if (params or {}).get("tile_size") else ""), *errs)


# ---- MultipleNegativesRankingLoss -----------------------------------------------------------------

MNRL_CASES = []
for negatives in (0, 1, 3):
    for directions, partition in [(["query_to_doc"], "joint"), (["query_to_doc"], "per_direction"),
                                  (["query_to_doc", "doc_to_query"], "joint"),
                                  (["query_to_doc", "doc_to_query"], "per_direction"),
                                  (["query_to_doc", "query_to_query"], "joint"),
                                  (["query_to_doc", "doc_to_doc"], "joint"), (ALL, "joint")]:
        MNRL_CASES.append((negatives, directions, partition, None, 0.0, "cos_sim"))
    for hardness in ("in_batch_negatives", "hard_negatives", "all_negatives"):
        MNRL_CASES.append((negatives, ["query_to_doc"], "joint", hardness, 5.0, "cos_sim"))
        MNRL_CASES.append((negatives, ALL, "joint", hardness, 9.0, "cos_sim"))
    MNRL_CASES.append((negatives, ["query_to_doc"], "joint", None, 0.0, "dot_score"))
    MNRL_CASES.append((negatives, ["query_to_doc", "doc_to_query"], "per_direction", "all_negatives", 2.0,
                       "dot_score"))


def check_mnrl(negatives, directions, partition, hardness, strength, similarity, **extra):
    scale = 20.0 if similarity == "cos_sim" else 0.5
    fct = util.cos_sim if similarity == "cos_sim" else util.dot_score
    columns = embeddings(f"mnrl{negatives}{directions}{partition}{hardness}{similarity}", 2 + negatives)
    params = {"scale": scale, "similarity_fct": similarity, "directions": directions, "partition_mode": partition,
              "hardness_mode": hardness, "hardness_strength": strength, **extra}
    ref = st.MultipleNegativesRankingLoss(StubSTModel(D), scale=scale, similarity_fct=fct,
                                          directions=tuple(directions), partition_mode=partition,
                                          hardness_mode=hardness, hardness_strength=strength)
    check_embedding("MultipleNegativesRankingLoss", params, ref, columns)


@pytest.mark.parametrize("negatives,directions,partition,hardness,strength,similarity", MNRL_CASES)
def test_mnrl_embedding(negatives, directions, partition, hardness, strength, similarity):
    check_mnrl(negatives, directions, partition, hardness, strength, similarity)


# Tiled (tile_size 5 on 12 rows: 3 row tiles, the last partial) against sentence-transformers, on a
# subset of the grid; tiled == untiled to 1e-12 on the whole grid is tests/losses/tiled_softmax_test.cpp.
@pytest.mark.parametrize("negatives,directions,partition,hardness,strength,similarity", [
    (1, ALL, "joint", "all_negatives", 9.0, "cos_sim"),
    (3, ["query_to_doc", "doc_to_query"], "per_direction", None, 0.0, "cos_sim"),
    (1, ["query_to_doc"], "joint", "hard_negatives", 5.0, "cos_sim"),
    (3, ["query_to_doc"], "joint", "in_batch_negatives", 5.0, "cos_sim"),
    (0, ["query_to_doc"], "joint", None, 0.0, "dot_score"),
])
def test_mnrl_tiled_embedding(negatives, directions, partition, hardness, strength, similarity):
    check_mnrl(negatives, directions, partition, hardness, strength, similarity, tile_size=5)


@pytest.mark.parametrize("tile_size", [None, 1])
def test_mnrl_duplicates_and_zero_rows(tile_size):
    columns = embeddings("mnrl-dup", 3)
    columns[1][5] = columns[1][2]  # duplicate positives: tied logits
    columns[2][0] = columns[0][0]  # a hard negative equal to its anchor
    ref = st.MultipleNegativesRankingLoss(StubSTModel(D), directions=tuple(ALL))
    check_embedding("MultipleNegativesRankingLoss", {"directions": ALL, "tile_size": tile_size}, ref, columns)


@pytest.mark.parametrize("negatives,tile_size", [(0, None), (1, None), (1, 7)])
def test_mnsrl_embedding(negatives, tile_size):
    columns = embeddings(f"mnsrl{negatives}", 2 + negatives)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = st.MultipleNegativesSymmetricRankingLoss(StubSTModel(D), scale=10.0)
    check_embedding("MultipleNegativesSymmetricRankingLoss", {"scale": 10.0, "tile_size": tile_size}, ref, columns)


def test_mnrl_refuses_what_st_refuses():
    columns = embeddings("refuse", 2)
    for params, needle in [({"directions": ["doc_to_query"]}, "query_to_doc"),
                           ({"directions": ["query_to_doc", "doc_to_doc"], "partition_mode": "per_direction"},
                            "per_direction"),
                           ({"scale": 0}, "scale"), ({"hardness_mode": "hard"}, "hardness_mode"),
                           ({"hardness_strength": -1.0}, "hardness_strength"), ({"scael": 2}, "scael")]:
        result = run_embedding_loss("MultipleNegativesRankingLoss", params, columns, check=False)
        assert result.returncode != 0 and needle in result.stderr, (params, result.stderr)


# ---- GISTEmbedLoss --------------------------------------------------------------------------------

class _Emb(nn.Module):
    """Stands in for a SentenceTransformer: returns the embedding stored under `key`."""

    def __init__(self, key, tokenizer, dim=D):
        super().__init__()
        self.key, self.tokenizer, self.max_seq_length, self.dim = key, tokenizer, 128, dim

    def forward(self, features):
        return {"sentence_embedding": features[self.key]}

    def get_embedding_dimension(self):
        return self.dim


@pytest.fixture(scope="module")
def hf_tokenizer(minilm):
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(str(minilm))


def st_gist(tokenizer, columns, guide, **kwargs):
    model, guide_model = _Emb("x", tokenizer), _Emb("g", tokenizer)
    loss_obj = st.GISTEmbedLoss(model, guide_model, **kwargs)
    embs = [torch.tensor(c, requires_grad=True) for c in columns]
    with _merging_disabled():
        loss = loss_obj([{"x": e, "g": torch.tensor(g)} for e, g in zip(embs, guide)], None)
    loss.backward()
    return float(loss.detach()), [e.grad.numpy() for e in embs]


GIST_CASES = [(cols, strategy, margin, ca, cp) for cols in (2, 3) for strategy, margin in
              [("absolute", 0.0), ("absolute", 0.1), ("relative", 0.0), ("relative", 0.05)]
              for ca in (True, False) for cp in (True, False)]


@pytest.mark.parametrize("columns_count,strategy,margin,contrast_anchors,contrast_positives,tile_size",
                         [(*case, None) for case in GIST_CASES] +
                         [(3, "relative", 0.05, True, True, 5), (2, "absolute", 0.1, True, False, 2)])
def test_gist_embedding(hf_tokenizer, columns_count, strategy, margin, contrast_anchors, contrast_positives, tile_size):
    columns = embeddings(f"gist{columns_count}{strategy}{margin}", columns_count)
    rng = np.random.default_rng(11)
    # A guide correlated with the model (so some, not all, candidates are masked as false negatives).
    guide = [c[:, :6] + 0.8 * rng.standard_normal((B, 6)) for c in columns]
    guide[1][3] = guide[0][7]  # a guided false negative
    kwargs = dict(temperature=0.05, margin_strategy=strategy, margin=margin, contrast_anchors=contrast_anchors,
                  contrast_positives=contrast_positives)
    loss, grads = run_embedding_loss("GISTEmbedLoss", {**kwargs, "tile_size": tile_size}, columns, guide=guide)
    ref, ref_grads = st_gist(hf_tokenizer, columns, guide, **kwargs)
    errs = [compare(loss, ref, what="GIST loss")]
    errs += [compare(g, r, what=f"GIST grad {i}") for i, (g, r) in enumerate(zip(grads, ref_grads))]
    record("GISTEmbedLoss" + (" (tiled)" if tile_size else ""), *errs)


# ---- MatryoshkaLoss -------------------------------------------------------------------------------

def st_matryoshka(inner_factory, columns, labels, dims, weights=None):
    model = _Emb("x", None, dim=columns[0].shape[1])
    loss_obj = st.MatryoshkaLoss(model, inner_factory(model), dims, matryoshka_weights=weights)
    embs = [torch.tensor(c, requires_grad=True) for c in columns]
    lab = None if labels is None else torch.tensor(labels)
    with _merging_disabled():
        loss = loss_obj([{"x": e} for e in embs], lab)
    loss.backward()
    return float(loss.detach()), [e.grad.numpy() for e in embs]


@pytest.mark.parametrize("inner,negatives,dims,weights", [
    ("MultipleNegativesRankingLoss", 0, [8, 4, 2], None),
    ("MultipleNegativesRankingLoss", 1, [3, 8, 5], [0.5, 1.0, 2.0]),
    ("CoSENTLoss", 0, [8, 4], [1.0, 0.3]),
])
def test_matryoshka_embedding(inner, negatives, dims, weights):
    columns = embeddings(f"mat{inner}{negatives}", 2 + negatives)
    labels = None
    if inner == "CoSENTLoss":
        labels = np.random.default_rng(5).uniform(0, 1, B)
        factory = lambda m: st.CoSENTLoss(m)
    else:
        factory = lambda m: st.MultipleNegativesRankingLoss(m)
    params = {"loss": {"name": inner}, "matryoshka_dims": dims}
    if weights is not None:
        params["matryoshka_weights"] = weights
    loss, grads = run_embedding_loss("MatryoshkaLoss", params, columns, labels)
    ref, ref_grads = st_matryoshka(factory, columns, labels, dims, weights)
    errs = [compare(loss, ref, what="Matryoshka loss")]
    errs += [compare(g, r, what=f"Matryoshka grad {i}") for i, (g, r) in enumerate(zip(grads, ref_grads))]
    record(f"MatryoshkaLoss({inner})", *errs)


def test_wrappers_refuse():
    columns = embeddings("wrap", 2)
    result = run_embedding_loss("MatryoshkaLoss", {"loss": {"name": "ContrastiveTensionLoss"},
                                                   "matryoshka_dims": [4]}, columns, check=False)
    assert result.returncode != 0 and "cannot wrap" in result.stderr, result.stderr
    result = run_embedding_loss("AdaptiveLayerLoss", {"loss": {"name": "CachedMultipleNegativesRankingLoss"}},
                                columns, check=False)
    assert result.returncode != 0 and "cached" in result.stderr, result.stderr
    result = run_embedding_loss("MatryoshkaLoss", {"loss": "MultipleNegativesRankingLoss", "matryoshka_dims": [4]},
                                columns, check=False)
    assert result.returncode != 0 and "'loss'" in result.stderr, result.stderr


# ---- model level (tiny BERT, dropout off) ---------------------------------------------------------

PAIRS = [("A man is playing a guitar.", "Someone plays an instrument.", "A woman is cooking."),
         ("The cat sleeps on the warm windowsill.", "A cat naps in the sun.", "The dog barks loudly."),
         ("Stocks fell sharply.", "Markets dropped today.", "Prices rose."),
         ("How do I reset my card PIN?", "Changing the PIN of my card", "My card was declined."),
         ("Two dogs run through the snow.", "Dogs playing in snow.", "Cats sleeping indoors."),
         ("What is the capital of France?", "Paris is the capital of France.", "Berlin is in Germany.")]


def rows(columns):
    return [{"columns": list(p[:columns])} for p in PAIRS]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, minilm):
    return make_tiny_st_model(tmp_path_factory.mktemp("tiny"), minilm, normalize=False)


@pytest.fixture(scope="module")
def tiny_guide(tmp_path_factory, minilm):
    return make_tiny_st_model(tmp_path_factory.mktemp("guide"), minilm, seed=1)


def check_model(name, params, make_st, model_dir, columns, rtol=1e-4):
    loss, grads = run_model_loss(name, params, model_dir, rows(columns))
    model = SentenceTransformer(str(model_dir), device="cpu")
    torch.manual_seed(0)
    ref, ref_grads = st_model_loss(make_st(model), model, rows(columns))
    errs = [compare(loss, ref, rtol=rtol, what=f"{name} loss"), compare_model_grads(grads, ref_grads, rtol=rtol)]
    record(f"{name} (model)", *errs)


@pytest.mark.parametrize("columns", [2, 3])
def test_mnrl_model(tiny, columns):
    check_model("MultipleNegativesRankingLoss", {"directions": ALL},
                lambda m: st.MultipleNegativesRankingLoss(m, directions=tuple(ALL)), tiny, columns)


def test_gist_model(tiny, tiny_guide):
    guide = SentenceTransformer(str(tiny_guide), device="cpu")
    check_model("GISTEmbedLoss", {"guide": str(tiny_guide), "margin": 0.02},
                lambda m: st.GISTEmbedLoss(m, guide, margin=0.02), tiny, 3)


def test_matryoshka_model(tiny):
    check_model("MatryoshkaLoss", {"loss": {"name": "MultipleNegativesRankingLoss"}, "matryoshka_dims": [32, 16, 8]},
                lambda m: st.MatryoshkaLoss(m, st.MultipleNegativesRankingLoss(m), [32, 16, 8]), tiny, 2)


@pytest.mark.parametrize("weighting,kl", [("uniform", 0.3), ("log", 0.0), ("linear", 1.0)])
def test_adaptive_layer_model(tiny, weighting, kl):
    params = {"loss": {"name": "MultipleNegativesRankingLoss"}, "n_layers_per_step": -1, "layer_weighting": weighting,
              "kl_temperature": kl, "last_layer_weight": 1.5, "prior_layers_weight": 0.7, "kl_div_weight": 2.0}
    check_model("AdaptiveLayerLoss", params,
                lambda m: st.AdaptiveLayerLoss(m, st.MultipleNegativesRankingLoss(m), n_layers_per_step=-1,
                                               layer_weighting=weighting, kl_temperature=kl, last_layer_weight=1.5,
                                               prior_layers_weight=0.7, kl_div_weight=2.0), tiny, 3)


def test_matryoshka_2d_model(tiny):
    params = {"loss": {"name": "MultipleNegativesRankingLoss"}, "matryoshka_dims": [32, 8], "n_layers_per_step": -1,
              "n_dims_per_step": -1}
    check_model("Matryoshka2dLoss", params,
                lambda m: st.Matryoshka2dLoss(m, st.MultipleNegativesRankingLoss(m), [32, 8], n_layers_per_step=-1,
                                              n_dims_per_step=-1), tiny, 2)


def test_contrastive_tension_model(tiny):
    pairs = [{"columns": [a, a if i % 3 == 0 else b], "label": 1.0 if i % 3 == 0 else 0.0}
             for i, (a, b, _) in enumerate(PAIRS)]
    loss, grads = run_model_loss("ContrastiveTensionLoss", {}, tiny, pairs)
    model = SentenceTransformer(str(tiny), device="cpu")
    ref, ref_grads = st_model_loss(st.ContrastiveTensionLoss(model), model, pairs)
    record("ContrastiveTensionLoss (model)", compare(loss, ref, rtol=1e-4), compare_model_grads(grads, ref_grads))
    # Without labels they are derived from the tokens (identical pair = 1).
    unlabeled = [{"columns": p["columns"]} for p in pairs]
    loss2, _ = run_model_loss("ContrastiveTensionLoss", {}, tiny, unlabeled)
    compare(loss2, ref, rtol=1e-4, what="CT derived labels")


def test_contrastive_tension_in_batch_model(tiny):
    singles = [{"columns": [a]} for a, _, _ in PAIRS]
    check = run_model_loss("ContrastiveTensionLossInBatchNegatives", {"scale": 10.0}, tiny, singles)
    model = SentenceTransformer(str(tiny), device="cpu")
    ref, ref_grads = st_model_loss(st.ContrastiveTensionLossInBatchNegatives(model, scale=10.0), model, singles)
    record("ContrastiveTensionLossInBatchNegatives (model)", compare(check[0], ref, rtol=1e-4),
           compare_model_grads(check[1], ref_grads))
