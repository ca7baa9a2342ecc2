"""Part A losses against sentence-transformers' own loss classes: the same embeddings (seeded random
plus edge cases) in float64 to 1e-6 and float32 to 1e-5 relative on the loss and every column
gradient; the tiny random BERT for a few losses to 1e-4 relative on the loss and every parameter
gradient (dropout off). Run with -s to see the worst relative error per loss."""
from collections import defaultdict

import numpy as np
import pytest
import torch
from sentence_transformers.sentence_transformer import losses as st
from sentence_transformers.sentence_transformer.losses.batch_hard_triplet import (
    BatchHardTripletLossDistanceFunction as BatchDist)
from sentence_transformers.sentence_transformer.losses.contrastive import SiameseDistanceMetric
from sentence_transformers.sentence_transformer.losses.triplet import TripletDistanceMetric
from sentence_transformers import util

from conftest import sts_sentences
from loss_harness import (StubSTModel, compare, compare_model_grads, make_tiny_st_model, run_embedding_loss,
                          run_model_loss, st_embedding_loss, st_model_loss)

B, D = 16, 8
WORST = defaultdict(float)


@pytest.fixture(scope="module", autouse=True)
def report_worst():
    yield
    print("\nworst relative error per loss (loss value and gradients):")
    for name, err in sorted(WORST.items()):
        print(f"  {name:45s} {err:.2e}")


# ---- inputs ---------------------------------------------------------------------------------------

def rng_for(case):
    return np.random.default_rng(sum(map(ord, case)))  # stable across runs (unlike hash())


def single_column(case):
    """One column + int labels for the batch triplet losses."""
    rng = rng_for(case)
    x = rng.standard_normal((B, D))
    labels = rng.integers(0, 4, B)
    if case == "scaled":  # larger distances: part of the hinges inactive at margin 5
        x *= 2.5
    elif case == "duplicates":  # rows 8.. repeat rows 0..: tied distances (argmax/argmin tie-breaks)
        x[8:] = x[:8]
        labels[8:] = labels[:8]
    elif case == "duplicates_cross_label":
        x[8:] = x[:8]
        labels = np.arange(B) % 3
    elif case == "singleton_class":
        labels = np.array([0] * 5 + [1] * 5 + [2] * 5 + [3])
    elif case == "all_one_label":
        labels = np.zeros(B, dtype=np.int64)
    elif case == "no_valid_triplet":  # every label distinct: no positives
        labels = np.arange(B)
    elif case == "zero_vector":
        x[0] = 0
        x[5] = 0
    elif case == "two_rows":
        x, labels = x[:2], np.array([0, 0])
    return [x], labels


SINGLE_CASES = ["random", "scaled", "duplicates", "duplicates_cross_label", "singleton_class", "all_one_label",
                "no_valid_triplet", "zero_vector", "two_rows"]


def pair_columns(case, label_kind):
    rng = rng_for(case + label_kind)
    a, b = rng.standard_normal((B, D)), rng.standard_normal((B, D))
    b = 0.6 * a + 0.8 * b  # correlated pairs, so both signs of the hinges occur
    labels = rng.integers(0, 2, B) if label_kind == "binary" else rng.uniform(0, 1, B)
    if case == "ties":
        labels = np.round(labels * 2) / 2 if label_kind != "binary" else labels
    elif case == "all_one_label":
        labels = np.ones(B) if label_kind != "binary" else np.ones(B, dtype=np.int64)
    elif case == "duplicates":
        b[:4] = a[:4]
        a[8:12] = a[:4]
    elif case == "zero_vector":
        a[0] = 0
    elif case == "one_positive" and label_kind == "binary":
        labels = np.zeros(B, dtype=np.int64)
        labels[3] = 1
    return [a, b], labels


PAIR_CASES = ["random", "ties", "all_one_label", "duplicates", "zero_vector", "one_positive"]


def check(name, params, st_loss, columns, labels, dtype="float64", rtol=1e-6, atol=1e-12, key=None):
    ours_loss, ours_grads = run_embedding_loss(name, params, columns, labels, dtype=dtype)
    torch_dtype = torch.float64 if dtype == "float64" else torch.float32
    ref_loss, ref_grads = st_embedding_loss(st_loss, columns, labels, dtype=torch_dtype)
    err = compare(ours_loss, ref_loss, rtol, atol, what=f"{name} loss")
    for i, (g, r) in enumerate(zip(ours_grads, ref_grads)):
        err = max(err, compare(g, r, rtol, atol, what=f"{name} grad/{i}"))
    WORST[key or name] = max(WORST[key or name], err)
    return ours_loss


# ---- batch triplet family -------------------------------------------------------------------------

BATCH_TRIPLET = {
    "BatchAllTripletLoss": lambda m, metric, margin: st.BatchAllTripletLoss(m, metric, margin),
    "BatchHardTripletLoss": lambda m, metric, margin: st.BatchHardTripletLoss(m, metric, margin),
    "BatchSemiHardTripletLoss": lambda m, metric, margin: st.BatchSemiHardTripletLoss(m, metric, margin),
    "BatchHardSoftMarginTripletLoss": lambda m, metric, margin: st.BatchHardSoftMarginTripletLoss(m, metric),
}
METRICS = [("euclidean_distance", BatchDist.euclidean_distance, 5.0),
           ("eucledian_distance", BatchDist.eucledian_distance, 1.0),
           ("cosine_distance", BatchDist.cosine_distance, 0.3)]


@pytest.mark.parametrize("case", SINGLE_CASES)
@pytest.mark.parametrize("name", list(BATCH_TRIPLET))
def test_batch_triplet_losses(name, case):
    columns, labels = single_column(case)
    # Every metric on the random and tied inputs; one (rotating) metric per other edge case.
    metrics = METRICS if case in ("random", "duplicates") else [METRICS[SINGLE_CASES.index(case) % len(METRICS)]]
    for metric_name, metric, margin in metrics:
        params = {"distance_metric": metric_name}
        if name != "BatchHardSoftMarginTripletLoss":
            params["margin"] = margin
        check(name, params, BATCH_TRIPLET[name](StubSTModel(), metric, margin), columns, labels)


@pytest.mark.parametrize("name", list(BATCH_TRIPLET))
def test_batch_triplet_losses_float32(name):
    columns, labels = single_column("random")
    check(name, {}, BATCH_TRIPLET[name](StubSTModel(), BatchDist.euclidean_distance, 5.0), columns, labels,
          dtype="float32", rtol=1e-5, atol=1e-7, key=name + " (float32)")


def test_batch_semi_hard_scales_past_cubic_memory():
    """B = 1024 would need 8 GiB for ST's [B^2, B] float64 tile; the sort/search form needs O(B^2)."""
    rng = np.random.default_rng(7)
    x, labels = rng.standard_normal((1024, 16)), rng.integers(0, 50, 1024)
    loss, grads = run_embedding_loss("BatchSemiHardTripletLoss", {}, [x], labels, dtype="float32")
    assert np.isfinite(loss) and loss > 0 and np.isfinite(grads[0]).all() and np.abs(grads[0]).max() > 0


# ---- pair losses ----------------------------------------------------------------------------------

SIAMESE = {"COSINE_DISTANCE": SiameseDistanceMetric.COSINE_DISTANCE, "EUCLIDEAN": SiameseDistanceMetric.EUCLIDEAN,
           "SiameseDistanceMetric.MANHATTAN": SiameseDistanceMetric.MANHATTAN}


@pytest.mark.parametrize("case", PAIR_CASES)
def test_contrastive_losses(case):
    columns, labels = pair_columns(case, "binary")
    metrics = list(SIAMESE.items())
    if case != "random":
        metrics = [metrics[PAIR_CASES.index(case) % len(metrics)]]
    for metric_name, metric in metrics:
        margin = 0.5 if "COSINE" in metric_name else 4.0
        for size_average in (True, False) if case == "random" else (True,):
            check("ContrastiveLoss", {"distance_metric": metric_name, "margin": margin, "size_average": size_average},
                  st.ContrastiveLoss(StubSTModel(), metric, margin, size_average), columns, labels)
        check("OnlineContrastiveLoss", {"distance_metric": metric_name, "margin": margin},
              st.OnlineContrastiveLoss(StubSTModel(), metric, margin), columns, labels)


class CastTarget(torch.nn.Module):
    """ST's CosineSimilarityLoss hands loss_fct float32 labels (labels.float()); torch cannot backprop
    mse_loss(float64, float32), so the float64 reference casts the (already rounded) target up."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, output, target):
        return self.fn(output, target.to(output.dtype))


@pytest.mark.parametrize("case", PAIR_CASES)
def test_cosent_angle_cosine_similarity(case):
    columns, labels = pair_columns(case, "score")
    check("CoSENTLoss", {}, st.CoSENTLoss(StubSTModel()), columns, labels)
    if case != "zero_vector":  # the angle similarity divides by the norms
        check("AnglELoss", {"scale": 10.0}, st.AnglELoss(StubSTModel(), 10.0), columns, labels)
    check("CosineSimilarityLoss", {}, st.CosineSimilarityLoss(StubSTModel(), CastTarget(torch.nn.MSELoss())),
          columns, labels)
    if case == "random":  # the other options
        check("CoSENTLoss", {"scale": 7.0, "similarity_fct": "pairwise_dot_score"},
              st.CoSENTLoss(StubSTModel(), 7.0, util.pairwise_dot_score), columns, labels)
        odd = [c[:, :7] for c in columns]  # odd width: padded with a zero as ST does
        check("AnglELoss", {}, st.AnglELoss(StubSTModel()), odd, labels)
        check("CosineSimilarityLoss", {"loss_fct": "torch.nn.L1Loss", "cos_score_transformation": "Tanh"},
              st.CosineSimilarityLoss(StubSTModel(), CastTarget(torch.nn.L1Loss()), torch.nn.Tanh()), columns,
              labels)


def test_angle_tuples_without_labels():
    rng = np.random.default_rng(3)
    columns = [rng.standard_normal((B, D)) for _ in range(4)]
    check("AnglELoss", {}, st.AnglELoss(StubSTModel()), columns, None)


def test_pair_losses_float32():
    columns, labels = pair_columns("random", "score")
    for name, loss in [("CoSENTLoss", st.CoSENTLoss(StubSTModel())), ("AnglELoss", st.AnglELoss(StubSTModel())),
                       ("CosineSimilarityLoss", st.CosineSimilarityLoss(StubSTModel()))]:
        check(name, {}, loss, columns, labels, dtype="float32", rtol=1e-5, atol=1e-7, key=name + " (float32)")
    columns, labels = pair_columns("random", "binary")
    check("ContrastiveLoss", {}, st.ContrastiveLoss(StubSTModel()), columns, labels, dtype="float32", rtol=1e-5,
          atol=1e-7, key="ContrastiveLoss (float32)")


# ---- triplets, distillation, regularization ----------------------------------------------------------

@pytest.mark.parametrize("case", ["random", "duplicates", "zero_vector"])
def test_triplet_loss(case):
    rng = np.random.default_rng(11)
    a, p, n = (rng.standard_normal((B, D)) for _ in range(3))
    p = 0.7 * a + 0.3 * p
    if case == "duplicates":
        n[:3] = p[:3]
    if case == "zero_vector":
        n[0] = 0
    for metric_name, metric, margin in [("EUCLIDEAN", TripletDistanceMetric.EUCLIDEAN, 4.0),
                                        ("TripletDistanceMetric.COSINE", TripletDistanceMetric.COSINE, 0.8),
                                        ("manhattan", TripletDistanceMetric.MANHATTAN, 5.0)]:
        check("TripletLoss", {"distance_metric": metric_name, "triplet_margin": margin},
              st.TripletLoss(StubSTModel(), metric, margin), [a, p, n], None)


def teacher(rng, width=D):
    return rng.standard_normal((B, width))


@pytest.mark.parametrize("metric", ["mse", "l2", "cosine"])
def test_embed_distill_and_mse(metric):
    rng = np.random.default_rng(5)
    columns, target = [rng.standard_normal((B, D)) for _ in range(2)], teacher(rng)
    target[0] = columns[0][0]  # a zero-distance row (l2's norm at 0)
    check("EmbedDistillLoss", {"distance_metric": metric}, st.EmbedDistillLoss(StubSTModel(), metric), columns, target)
    check("MSELoss", {}, st.MSELoss(StubSTModel()), columns[:1], target)


def test_embed_distill_projection_and_its_gradient():
    rng = np.random.default_rng(6)
    columns, target = [rng.standard_normal((B, D))], teacher(rng, 5)
    loss, grads, params = run_embedding_loss("EmbedDistillLoss", {"projection_dim": 5}, columns, target,
                                             with_loss_params=True)
    ref = st.EmbedDistillLoss(StubSTModel(D), "cosine", projection_dim=5).double()
    with torch.no_grad():
        ref.projection.weight.copy_(torch.from_numpy(params["projection.weight"][1]))
        ref.projection.bias.copy_(torch.from_numpy(params["projection.bias"][1]))
    ref_loss, ref_grads = st_embedding_loss(ref, columns, target)
    err = max(compare(loss, ref_loss), compare(grads[0], ref_grads[0]),
              compare(params["projection.weight"][0], ref.projection.weight.grad.numpy()),
              compare(params["projection.bias"][0], ref.projection.bias.grad.numpy()))
    WORST["EmbedDistillLoss (projection)"] = err


@pytest.mark.parametrize("negatives,label_form", [(1, "margins_1d"), (2, "margins"), (3, "scores")])
def test_margin_mse(negatives, label_form):
    rng = np.random.default_rng(9 + negatives)
    columns = [rng.standard_normal((B, D)) for _ in range(2 + negatives)]
    labels = {"margins_1d": rng.standard_normal(B), "margins": rng.standard_normal((B, negatives)),
              "scores": rng.standard_normal((B, negatives + 1))}[label_form]
    check("MarginMSELoss", {}, st.MarginMSELoss(StubSTModel()), columns, labels)
    check("MarginMSELoss", {"similarity_fct": "pairwise_cos_sim"},
          st.MarginMSELoss(StubSTModel(), util.pairwise_cos_sim), columns, labels)


@pytest.mark.parametrize("params,kwargs", [({}, {}), ({"temperature": 2.0}, {"temperature": 2.0}),
                                           ({"student_temperature": 0.5, "teacher_temperature": 3.0},
                                            {"student_temperature": 0.5, "teacher_temperature": 3.0}),
                                           ({"similarity_fct": "pairwise_cos_sim", "temperature": 0.05},
                                            {"similarity_fct": util.pairwise_cos_sim, "temperature": 0.05})])
def test_distill_kl_div(params, kwargs):
    rng = np.random.default_rng(13)
    columns = [rng.standard_normal((B, D)) for _ in range(4)]
    scores = rng.standard_normal((B, 3)) * 3
    scores[0] = [1.0, 1.0, 1.0]  # ties: uniform teacher
    check("DistillKLDivLoss", params, st.DistillKLDivLoss(StubSTModel(), **kwargs), columns, scores)


@pytest.mark.parametrize("params,kwargs", [
    ({}, {}), ({"aggregation": "sum", "mean_weight": None}, {"aggregation": "sum", "mean_weight": None}),
    ({"similarity_fct": "dot_score", "second_moment_weight": 0.5},
     {"similarity_fct": util.dot_score, "second_moment_weight": 0.5})])
def test_global_orthogonal_regularization(params, kwargs):
    rng = np.random.default_rng(17)
    columns = [rng.standard_normal((B, D)) + 0.5 for _ in range(2)]  # shared offset: mean term non-zero
    columns[1][2] = 0
    check("GlobalOrthogonalRegularizationLoss", params,
          st.GlobalOrthogonalRegularizationLoss(StubSTModel(), **kwargs), columns, None)


@pytest.mark.parametrize("case", ["random", "duplicates", "single_row"])
def test_mega_batch_margin(case):
    rng = np.random.default_rng(19)
    a = rng.standard_normal((B, D))
    p = 0.5 * a + rng.standard_normal((B, D))
    if case == "duplicates":  # tied hardest negatives
        p[8:] = p[:8]
    if case == "single_row":
        a, p = a[:1], p[:1]
    check("MegaBatchMarginLoss", {}, st.MegaBatchMarginLoss(StubSTModel(), use_mini_batched_version=False), [a, p],
          None)
    check("MegaBatchMarginLoss", {"positive_margin": 0.2, "negative_margin": 0.0},
          st.MegaBatchMarginLoss(StubSTModel(), 0.2, 0.0, use_mini_batched_version=False), [a, p], None)


@pytest.mark.parametrize("flags", [(True, True, False), (False, False, True), (True, True, True)])
def test_softmax_loss(flags):
    rng = np.random.default_rng(23)
    columns, labels = [rng.standard_normal((B, D)) for _ in range(2)], rng.integers(0, 3, B)
    params = {"num_labels": 3, "embedding_dimension": D, "concatenation_sent_rep": flags[0],
              "concatenation_sent_difference": flags[1], "concatenation_sent_multiplication": flags[2]}
    loss, grads, owned = run_embedding_loss("SoftmaxLoss", params, columns, labels, with_loss_params=True)
    ref = st.SoftmaxLoss(StubSTModel(D), D, 3, *flags).double()
    with torch.no_grad():
        ref.classifier.weight.copy_(torch.from_numpy(owned["classifier.weight"][1]))
        ref.classifier.bias.copy_(torch.from_numpy(owned["classifier.bias"][1]))
    ref_loss, ref_grads = st_embedding_loss(ref, columns, labels)
    err = max(compare(loss, ref_loss), *(compare(g, r) for g, r in zip(grads, ref_grads)),
              compare(owned["classifier.weight"][0], ref.classifier.weight.grad.numpy()),
              compare(owned["classifier.bias"][0], ref.classifier.bias.grad.numpy()))
    WORST["SoftmaxLoss"] = max(WORST["SoftmaxLoss"], err)


# ---- model level (tiny random BERT, dropout off) ------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(minilm, tmp_path_factory):
    from sentence_transformers import SentenceTransformer

    path = make_tiny_st_model(tmp_path_factory.mktemp("tiny"), minilm)
    return path, (lambda: SentenceTransformer(str(path), device="cpu"))


def sentence_rows(n, columns=2):
    texts = list(sts_sentences("dev"))[: n * columns]
    return [{"columns": texts[i * columns:(i + 1) * columns]} for i in range(n)]


def check_model(name, params, make_st_loss, tiny, rows, key):
    path, load = tiny
    loss, grads, owned = run_model_loss(name, params, path, rows, with_loss_params=True)
    model = load()
    st_loss = make_st_loss(model, owned)
    ref_loss, ref_grads = st_model_loss(st_loss, model, rows)
    err = max(compare(loss, ref_loss, 1e-4, 1e-9, what=f"{name} loss"), compare_model_grads(grads, ref_grads))
    WORST[key] = max(WORST[key], err)
    return st_loss, owned


def test_model_level_cosent(tiny):
    rows = sentence_rows(12)
    for i, row in enumerate(rows):
        row["label"] = (i * 0.37) % 1.0
    check_model("CoSENTLoss", {}, lambda m, _: st.CoSENTLoss(m), tiny, rows, "model: CoSENTLoss")


def test_model_level_batch_hard_triplet(tiny):
    rows = sentence_rows(12, columns=1)
    for i, row in enumerate(rows):
        row["label"] = i % 3
    check_model("BatchHardTripletLoss", {"margin": 1.0},
                lambda m, _: st.BatchHardTripletLoss(m, margin=1.0), tiny, rows, "model: BatchHardTripletLoss")


def test_model_level_softmax(tiny):
    rows = sentence_rows(10)
    for i, row in enumerate(rows):
        row["label"] = i % 3

    def make(model, owned):
        loss = st.SoftmaxLoss(model, 32, 3)
        with torch.no_grad():
            loss.classifier.weight.copy_(torch.from_numpy(owned["classifier.weight"][1]))
            loss.classifier.bias.copy_(torch.from_numpy(owned["classifier.bias"][1]))
        return loss

    st_loss, owned = check_model("SoftmaxLoss", {"num_labels": 3}, make, tiny, rows, "model: SoftmaxLoss")
    err = max(compare(owned[k][0], getattr(st_loss.classifier, k.split(".")[1]).grad.numpy(), 1e-4, 1e-9, what=k)
              for k in ("classifier.weight", "classifier.bias"))
    WORST["model: SoftmaxLoss"] = max(WORST["model: SoftmaxLoss"], err)


@pytest.mark.parametrize("mini_batched", [True, False])
def test_model_level_mega_batch_margin(tiny, mini_batched):
    rows = sentence_rows(12)
    params = {"use_mini_batched_version": mini_batched, "mini_batch_size": 5, "negative_margin": 0.1}
    check_model("MegaBatchMarginLoss", params,
                lambda m, _: st.MegaBatchMarginLoss(m, negative_margin=0.1, use_mini_batched_version=mini_batched,
                                                    mini_batch_size=5),
                tiny, rows, f"model: MegaBatchMarginLoss (mini-batched={mini_batched})")
