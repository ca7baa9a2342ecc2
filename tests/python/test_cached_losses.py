"""Cached (GradCache) losses against sentence-transformers' cached classes on the tiny random BERT
(dropout off): loss and every parameter gradient to 1e-4 relative, for mini-batch sizes that do and
do not divide the batch, untiled and tiled (tile_size). Cached == plain with dropout on (RNG replay) is tested in C++
(tests/losses/inbatch_gradcache_test.cpp), where both runs share one generator."""
import warnings

import pytest
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer import losses as st

from loss_harness import compare, compare_model_grads, make_tiny_st_model, run_model_loss, st_model_loss
from test_inbatch_loss_parity import ALL, rows


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, minilm):
    return make_tiny_st_model(tmp_path_factory.mktemp("tiny"), minilm)


@pytest.fixture(scope="module")
def tiny_guide(tmp_path_factory, minilm):
    return make_tiny_st_model(tmp_path_factory.mktemp("guide"), minilm, seed=1)


def check(name, params, make_st, model_dir, columns):
    loss, grads = run_model_loss(name, params, model_dir, rows(columns))
    model = SentenceTransformer(str(model_dir), device="cpu")
    ref, ref_grads = st_model_loss(make_st(model), model, rows(columns))
    err = max(compare(loss, ref, rtol=1e-4, what=f"{name} loss"), compare_model_grads(grads, ref_grads))
    print(f"{name} {params}: worst relative error {err:.2e}")


@pytest.mark.parametrize("mini_batch", [4, 3, 32])  # 6 rows: 4 + 2, 3 + 3, one mini-batch
@pytest.mark.parametrize("columns", [2, 3])
def test_cached_mnrl(tiny, mini_batch, columns):
    check("CachedMultipleNegativesRankingLoss", {"mini_batch_size": mini_batch, "directions": ALL},
          lambda m: st.CachedMultipleNegativesRankingLoss(m, mini_batch_size=mini_batch, directions=tuple(ALL)),
          tiny, columns)


def test_cached_mnrl_tiled(tiny):
    # The loss of the cached embeddings in tiles of 4 x 4 (6 rows, 18 candidates per direction).
    check("CachedMultipleNegativesRankingLoss", {"mini_batch_size": 4, "directions": ALL, "tile_size": 4,
                                                 "hardness_mode": "all_negatives", "hardness_strength": 3.0},
          lambda m: st.CachedMultipleNegativesRankingLoss(m, mini_batch_size=4, directions=tuple(ALL),
                                                         hardness_mode="all_negatives", hardness_strength=3.0),
          tiny, 3)


def test_cached_mnrl_token_budget(tiny):
    check("CachedMultipleNegativesRankingLoss", {"mini_batch_size": 2, "mini_batch_num_tokens": 20},
          lambda m: st.CachedMultipleNegativesRankingLoss(m, mini_batch_size=2, mini_batch_num_tokens=20), tiny, 2)


def test_cached_mnsrl(tiny):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check("CachedMultipleNegativesSymmetricRankingLoss", {"mini_batch_size": 4},
              lambda m: st.CachedMultipleNegativesSymmetricRankingLoss(m, mini_batch_size=4), tiny, 2)


@pytest.mark.parametrize("mini_batch,tile_size", [(4, None), (2, None), (2, 1)])
def test_cached_gist(tiny, tiny_guide, mini_batch, tile_size):
    guide = SentenceTransformer(str(tiny_guide), device="cpu")
    check("CachedGISTEmbedLoss", {"guide": str(tiny_guide), "mini_batch_size": mini_batch, "margin": 0.02,
                                  "tile_size": tile_size},
          lambda m: st.CachedGISTEmbedLoss(m, guide, mini_batch_size=mini_batch, margin=0.02), tiny, 3)


def test_cached_matryoshka(tiny):
    check("MatryoshkaLoss", {"loss": {"name": "CachedMultipleNegativesRankingLoss", "mini_batch_size": 4},
                             "matryoshka_dims": [32, 8]},
          lambda m: st.MatryoshkaLoss(m, st.CachedMultipleNegativesRankingLoss(m, mini_batch_size=4), [32, 8]),
          tiny, 2)
