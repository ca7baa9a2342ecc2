"""negatron's evaluators against sentence-transformers' on the real model and shipped data."""
import json

import pytest
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.evaluation import (
    BinaryClassificationEvaluator,
    EmbeddingSimilarityEvaluator,
    InformationRetrievalEvaluator,
    TripletEvaluator,
)
from sentence_transformers.util import cos_sim, dot_score, euclidean_sim, manhattan_sim
from conftest import DATA, run_negatron
from float32_tolerance import float32_steps, float32_tolerance

# Accuracy, F1, precision, recall, AP, MCC, nDCG, MRR, MAP and the correlations are ratios of counts (or
# correlations in [-1, 1]) over the same ranking on both sides: float32 noise in the scores leaves them
# unchanged unless it reorders two scores, so they are compared at 1e-6 absolute.
TOLERANCE = 1e-6
# A threshold is the midpoint of two neighbouring scores, a float32 value of any magnitude (a Manhattan
# distance is ~17 here). Both sides score the same pairs but not in the same arithmetic: sentence-transformers
# sums 384 float32 products with torch (last bits depend on the CPU's SIMD width) and rounds the midpoint to
# float32 (<= 1 step), negatron sums in float64; and the two encoders' embeddings differ by ~1e-7 per element
# (test_encoder_parity), which moves a distance by ~sqrt(2 * 384) * 1e-7 (1.5 steps at 17.5). That is a few
# float32 steps in all (1.1 to 1.4 measured on AMD and Intel machines); 16 steps at the value's magnitude leave a
# wide margin and are still ~500x below what a wrong threshold is off by: half the gap to a neighbouring score,
# a median of ~9,000 steps over the 300 SNLI pairs below (10th percentile ~1,300).
THRESHOLD_STEPS = 16


def assert_metric(key, ours, theirs):
    if key.endswith("_threshold"):
        assert abs(ours - theirs) <= float32_tolerance(theirs, THRESHOLD_STEPS), (
            f"{key}: {ours!r} vs {theirs!r} is {float32_steps(abs(ours - theirs), theirs):.1f} float32 steps, "
            f"over {THRESHOLD_STEPS}")
    else:
        assert ours == pytest.approx(theirs, abs=TOLERANCE), key


ALL_FNS = ["cosine", "dot", "euclidean", "manhattan"]


def negatron_metrics(*args):
    return json.loads(run_negatron("evaluate", *args).stdout)


def test_embedding_similarity_matches(minilm, tmp_path):
    rows = [line.rstrip("\n").split("\t") for line in open(DATA / "stsbenchmark" / "sts-dev.csv", encoding="utf-8")]
    rows = rows[:300]
    subset = tmp_path / "sts.tsv"
    subset.write_text("".join("\t".join(r[:7]) + "\n" for r in rows), encoding="utf-8")
    ours = negatron_metrics("--model", minilm, "--name", "sts", "--input", subset, "--no-header",
                            "--columns", "5,6", "--score-column", "4", "--score-scale", "5")
    evaluator = EmbeddingSimilarityEvaluator([r[5] for r in rows], [r[6] for r in rows],
                                             [float(r[4]) / 5 for r in rows], name="sts",
                                             similarity_fn_names=["cosine", "dot", "euclidean", "manhattan"])
    theirs = evaluator(SentenceTransformer(str(minilm), device="cpu"))
    for key, value in theirs.items():
        if key.endswith("_max"):
            continue
        assert key in ours, f"missing metric {key}"
        assert_metric(key, ours[key], value)


def test_triplet_accuracy_matches(minilm, tmp_path):
    lines = open(DATA / "snli" / "triplets_test.tsv", encoding="utf-8").read().splitlines()[:201]
    subset = tmp_path / "triplets.tsv"
    subset.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = [l.split("\t") for l in lines[1:]]
    ours = negatron_metrics("--model", minilm, "--type", "TripletEvaluator", "--name", "snli", "--input", subset,
                            "--columns", "anchor,positive,negative")
    evaluator = TripletEvaluator([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], name="snli",
                                 similarity_fn_names=["cosine", "dot", "euclidean", "manhattan"])
    theirs = evaluator(SentenceTransformer(str(minilm), device="cpu"))
    for fn in ["cosine", "dot", "euclidean", "manhattan"]:
        key = f"snli_{fn}_accuracy"
        assert_metric(key, ours[key], theirs[key])


def assert_same_metrics(ours, theirs):
    """Every metric of ST's, equal within its tolerance (assert_metric), and no metric ST does not report."""
    assert set(ours) == set(theirs), f"only ours: {set(ours) - set(theirs)}, only ST's: {set(theirs) - set(ours)}"
    worst = max(abs(ours[key] - value) for key, value in theirs.items() if not key.endswith("_threshold"))
    print(f"max |negatron - sentence-transformers| over {len(theirs)} metrics, thresholds aside: {worst:.3g}")
    thresholds = [float32_steps(abs(ours[key] - value), value) for key, value in theirs.items()
                  if key.endswith("_threshold")]
    if thresholds:
        print(f"thresholds: at most {max(thresholds):.2f} float32 steps apart (bound {THRESHOLD_STEPS})")
    for key, value in theirs.items():
        assert_metric(key, ours[key], value)


def snli_pairs(n):
    lines = open(DATA / "snli" / "pairs_test.tsv", encoding="utf-8").read().splitlines()
    return [line.split("\t") for line in lines[1:n + 1]]


def snli_triplets(start, stop):
    lines = open(DATA / "snli" / "triplets_test.tsv", encoding="utf-8").read().splitlines()
    return [line.split("\t") for line in lines[1 + start:1 + stop]]


def test_binary_classification_matches(minilm, tmp_path):
    # SNLI pairs as they ship, "entailment" = 1 and neutral / contradiction = 0; all four functions.
    rows = snli_pairs(300)
    subset = tmp_path / "pairs.tsv"
    subset.write_text("sentence1\tsentence2\tlabel\n" + "".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    ours = negatron_metrics("--model", minilm, "--type", "BinaryClassificationEvaluator", "--name", "snli",
                            "--input", subset, "--columns", "sentence1,sentence2", "--score-column", "label",
                            "--positive-label", "entailment")
    evaluator = BinaryClassificationEvaluator([r[0] for r in rows], [r[1] for r in rows],
                                              [int(r[2] == "entailment") for r in rows], name="snli",
                                              similarity_fn_names=ALL_FNS)
    theirs = evaluator(SentenceTransformer(str(minilm), device="cpu"))
    assert evaluator.primary_metric == "snli_max_ap"  # negatron's primary_metric() for several functions
    assert_same_metrics(ours, theirs)


def test_binary_classification_one_function_numeric_labels(minilm, tmp_path):
    # 0/1 labels in a .jsonl; one similarity function: no max_* metrics, primary <fn>_ap.
    rows = snli_pairs(600)[300:]
    subset = tmp_path / "pairs.jsonl"
    subset.write_text("".join(json.dumps({"a": r[0], "b": r[1], "y": int(r[2] != "contradiction")}) + "\n"
                              for r in rows), encoding="utf-8")
    ours = negatron_metrics("--model", minilm, "--type", "BinaryClassificationEvaluator", "--name", "",
                            "--input", subset, "--columns", "a,b", "--score-column", "y",
                            "--similarity-fn-names", "manhattan")
    evaluator = BinaryClassificationEvaluator([r[0] for r in rows], [r[1] for r in rows],
                                              [int(r[2] != "contradiction") for r in rows],
                                              similarity_fn_names=["manhattan"])
    theirs = evaluator(SentenceTransformer(str(minilm), device="cpu"))
    assert evaluator.primary_metric == "manhattan_ap"
    assert_same_metrics(ours, theirs)


def test_information_retrieval_pairs_matches(minilm, tmp_path):
    # (anchor, positive, negative) triplets: anchors are queries, every positive and negative is in the
    # corpus, and a query's positives are relevant (an anchor repeats with several positives).
    lines = open(DATA / "snli" / "triplets_test.tsv", encoding="utf-8").read().splitlines()[:301]
    subset = tmp_path / "triplets.tsv"
    subset.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = [line.split("\t") for line in lines[1:]]
    ours = negatron_metrics("--model", minilm, "--type", "InformationRetrievalEvaluator", "--name", "snli-ir",
                            "--input", subset, "--columns", "anchor,positive,negative")
    queries, corpus, relevant = {}, {}, {}
    for anchor, positive, negative in rows:
        queries.setdefault(anchor, anchor)
        corpus.setdefault(positive, positive)
        corpus.setdefault(negative, negative)
        relevant.setdefault(anchor, set()).add(positive)
    assert len(queries) < len(rows)  # some queries have several relevant documents
    evaluator = InformationRetrievalEvaluator(queries, corpus, relevant, name="snli-ir",
                                              score_functions={"cosine": cos_sim, "dot": dot_score})
    theirs = evaluator(SentenceTransformer(str(minilm), device="cpu"))
    assert evaluator.primary_metric in ("snli-ir_cosine_ndcg@10", "snli-ir_dot_ndcg@10")
    assert_same_metrics(ours, theirs)


def write_beir(tmp_path, rows):
    """BEIR-layout files from triplets: a corpus with duplicated texts under other ids (exact score ties),
    qrels with a score column where score 0 rows are not relevant, and a query without relevant docs."""
    query_ids, corpus, qrels = {}, {}, []  # query text -> id
    for i, (anchor, positive, negative) in enumerate(rows):
        qid = query_ids.setdefault(anchor, f"q{len(query_ids)}")
        pid, nid = f"d{2 * i}", f"d{2 * i + 1}"
        corpus[pid], corpus[nid] = positive, negative
        qrels.append((qid, pid, 1))
        qrels.append((qid, nid, 0))
        if i % 7 == 0:  # the same text again: ties, broken by ascending corpus id
            corpus[f"dup{i}"] = positive
        if i % 11 == 0:
            corpus[f"a{i}"] = negative
    queries = {qid: text for text, qid in query_ids.items()}
    queries["q-unjudged"] = "A query with no relevance judgement ."
    with open(tmp_path / "queries.jsonl", "w", encoding="utf-8") as f:
        for qid, text in queries.items():
            f.write(json.dumps({"_id": qid, "text": text}) + "\n")
    with open(tmp_path / "corpus.jsonl", "w", encoding="utf-8") as f:
        for cid, text in corpus.items():
            f.write(json.dumps({"_id": cid, "title": "", "text": text}) + "\n")
    with open(tmp_path / "qrels.tsv", "w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{c}\t{s}\n" for q, c, s in qrels))
    relevant = {}
    for q, c, s in qrels:
        if s > 0:
            relevant.setdefault(q, set()).add(c)
    return queries, corpus, relevant


def test_information_retrieval_beir_matches(minilm, tmp_path):
    # BEIR files, all four similarity functions, and a small corpus_chunk_size so the running top-k
    # is merged across many chunks.
    queries, corpus, relevant = write_beir(tmp_path, snli_triplets(300, 500))
    ours = negatron_metrics("--model", minilm, "--type", "InformationRetrievalEvaluator", "--name", "beir",
                            "--input", tmp_path / "queries.jsonl", "--corpus", tmp_path / "corpus.jsonl",
                            "--qrels", tmp_path / "qrels.tsv", "--similarity-fn-names", ",".join(ALL_FNS),
                            "--corpus-chunk-size", "37")
    evaluator = InformationRetrievalEvaluator(
        queries, corpus, relevant, name="beir", corpus_chunk_size=37,
        score_functions={"cosine": cos_sim, "dot": dot_score, "euclidean": euclidean_sim, "manhattan": manhattan_sim})
    theirs = evaluator(SentenceTransformer(str(minilm), device="cpu"))
    assert_same_metrics(ours, theirs)


def negatron_error(*args):
    result = run_negatron("evaluate", *args, check=False)
    assert result.returncode != 0, "expected a failure"
    return result.stderr


def test_bad_inputs_name_file_and_line(minilm, tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"a": "x", "b": "y", "y": 1}\n{"a": "x", "b": "z", "y": 0}\n{"a": "x", "y": 1}\n',
                     encoding="utf-8")
    binary = ["--model", minilm, "--type", "BinaryClassificationEvaluator", "--input", pairs, "--columns", "a,b",
              "--score-column", "y"]
    assert f"{pairs}:3: missing key 'b'" in negatron_error(*binary)

    labels = tmp_path / "labels.tsv"
    labels.write_text("a\tb\ty\nx\ty\t1\nx\tz\tmaybe\n", encoding="utf-8")
    binary[binary.index(pairs)] = labels
    assert f"{labels}:3: label 'maybe' is not 0 or 1" in negatron_error(*binary)
    assert f"{labels}: no column 'sentence2'" in negatron_error(*binary[:-4], "--columns", "a,sentence2",
                                                                "--score-column", "y")

    queries, corpus, relevant = write_beir(tmp_path, snli_triplets(0, 5))
    qrels = tmp_path / "qrels.tsv"
    with open(qrels, "a", encoding="utf-8") as f:
        f.write("q0\td999\t1\n")
    n_lines = len(qrels.read_text(encoding="utf-8").splitlines())
    ir = ["--model", minilm, "--type", "InformationRetrievalEvaluator", "--input", tmp_path / "queries.jsonl",
          "--corpus", tmp_path / "corpus.jsonl", "--qrels", qrels]
    message = negatron_error(*ir)
    assert f"{qrels}:{n_lines}: corpus-id 'd999' is not in the corpus file {tmp_path / 'corpus.jsonl'}" in message

    qrels.write_text("query-id\tcorpus-id\tscore\nq0\td0\t1\nq404\td1\t1\n", encoding="utf-8")
    assert f"{qrels}:3: query-id 'q404' is not in the queries file" in negatron_error(*ir)
    qrels.write_text("query-id\tdoc\nq0\td0\n", encoding="utf-8")
    assert f"{qrels}: no column 'corpus-id'" in negatron_error(*ir)
