#include "train/information_retrieval_evaluator.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <unordered_map>

#include "common/check.h"
#include "data/row_checks.h"
#include "data/text_table.h"

namespace negatron::train {
namespace {

// sentence-transformers' defaults.
const std::vector<int64_t> kAccuracyAtK = {1, 3, 5, 10};
const std::vector<int64_t> kPrecisionRecallAtK = {1, 3, 5, 10};
const std::vector<int64_t> kMrrAtK = {10};
const std::vector<int64_t> kNdcgAtK = {10};
const std::vector<int64_t> kMapAtK = {100};

// At most this many scores (doubles) are held at once: queries are scored in blocks of rows.
constexpr int64_t kScoreBlockElements = int64_t{1} << 24;

struct Hit {
  double score;
  int64_t corpus;  // index into corpus_ids_
};

/// An id -> index map that keeps first-appearance order.
struct Interner {
  std::unordered_map<std::string, int64_t> index;
  std::vector<std::string> values;
  /// The index of `value`, and whether it was new.
  std::pair<int64_t, bool> add(const std::string& value) {
    const auto [it, inserted] = index.emplace(value, static_cast<int64_t>(values.size()));
    if (inserted) values.push_back(value);
    return {it->second, inserted};
  }
  int64_t find(const std::string& value) const {
    const auto it = index.find(value);
    return it == index.end() ? -1 : it->second;
  }
};

/// Reads an (_id, text) file; duplicate ids are errors naming file and line.
void read_id_text(const std::string& path, const data::TextTableOptions& base, Interner& ids,
                  std::vector<std::string>& texts) {
  data::TextTableOptions options = base;
  options.select_columns = {"_id", "text"};
  const data::TextTable table = data::read_text_table(path, options);
  const size_t id_column = table.column_index("_id"), text_column = table.column_index("text");
  for (const auto& record : table.records) {
    NEG_CHECK(ids.add(record.fields[id_column]).second, path, ":", record.line, ": duplicate _id '",
              record.fields[id_column], "'");
    texts.push_back(record.fields[text_column]);
  }
  NEG_CHECK(!texts.empty(), path, ": no rows");
}

at::Tensor unit(const at::Tensor& x) { return x / x.norm(2, -1, true).clamp_min(1e-12); }

/// Scores [queries, docs]: greater is more similar (distances are negated, as ST's euclidean_sim).
/// Computed in float64, then rounded to float32, the precision of ST's scores: a float64 GEMM's last
/// bits depend on where a column sits in the matrix, and the rounding makes documents with identical
/// embeddings tie exactly in every chunk, so the corpus-id tie-break decides as it does in ST.
at::Tensor score_matrix(const std::string& fn, const at::Tensor& queries, const at::Tensor& docs) {
  at::Tensor scores;
  if (fn == "cosine" || fn == "dot") {
    scores = at::matmul(queries, docs.t());  // cosine: both already unit
  } else {
    // compute_mode 2: exact differences, no |a|^2 - 2ab + |b|^2 shortcut (identical texts are at 0).
    scores = -at::cdist(queries, docs, fn == "euclidean" ? 2.0 : 1.0, /*compute_mode=*/2);
  }
  return scores.to(at::kFloat).to(at::kDouble).contiguous();
}

double mean(double sum, size_t n) { return sum / static_cast<double>(n); }

}  // namespace

InformationRetrievalEvaluator::InformationRetrievalEvaluator(const EvaluatorOptions& o)
    : name_(o.name), corpus_chunk_size_(o.corpus_chunk_size), batch_size_(o.batch_size) {
  const std::string what = "InformationRetrievalEvaluator '" + o.name + "'";
  similarity_fn_names_ = similarity_fn_names_or(o.similarity_fn_names, {"cosine", "dot"}, what);
  NEG_CHECK(corpus_chunk_size_ > 0, what, ": corpus_chunk_size must be > 0");
  if (o.corpus_path.empty()) {
    NEG_CHECK(o.qrels_path.empty(), what, ": qrels_path needs corpus_path (and path = the queries file)");
    NEG_CHECK(o.columns.size() >= 2, what,
              " needs columns: [query, relevant document, (more corpus columns)], or corpus_path and qrels_path");
    load_pairs(o);
  } else {
    NEG_CHECK(!o.qrels_path.empty(), what, ": corpus_path needs qrels_path");
    load_beir(o);
  }
  NEG_CHECK(!queries_.empty(), what, ": no query has a relevant document");
  std::vector<int64_t> order(corpus_ids_.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return corpus_ids_[a] < corpus_ids_[b]; });
  corpus_id_rank_.resize(order.size());
  for (size_t i = 0; i < order.size(); ++i) corpus_id_rank_[order[i]] = static_cast<int64_t>(i);
}

void InformationRetrievalEvaluator::load_pairs(const EvaluatorOptions& o) {
  const EvaluatorTable table = read_evaluator_table(o, o.columns);
  Interner queries, corpus;
  std::vector<std::set<int64_t>> relevant;
  for (size_t i = 0; i < table.lines.size(); ++i) {
    const auto [query, new_query] = queries.add(table.columns[0][i]);
    if (new_query) relevant.emplace_back();
    for (size_t j = 1; j < table.columns.size(); ++j) {
      const int64_t doc = corpus.add(table.columns[j][i]).first;
      if (j == 1) relevant[query].insert(doc);
    }
  }
  NEG_CHECK(!table.lines.empty(), o.path, ": no rows");
  queries_ = queries.values;
  corpus_ids_ = corpus.values;
  corpus_ = corpus.values;
  for (const auto& docs : relevant) relevant_.emplace_back(docs.begin(), docs.end());
}

void InformationRetrievalEvaluator::load_beir(const EvaluatorOptions& o) {
  data::TextTableOptions query_options;
  query_options.has_header = o.has_header;
  query_options.format = o.format;
  Interner query_ids, corpus_ids;
  std::vector<std::string> query_texts;
  read_id_text(o.path, query_options, query_ids, query_texts);
  read_id_text(o.corpus_path, {}, corpus_ids, corpus_);
  corpus_ids_ = corpus_ids.values;

  const data::TextTable qrels = data::read_text_table(o.qrels_path);
  const size_t q_column = qrels.column_index("query-id"), c_column = qrels.column_index("corpus-id");
  const auto score_it = std::find(qrels.columns.begin(), qrels.columns.end(), "score");
  const bool has_score = score_it != qrels.columns.end();
  const size_t s_column = has_score ? static_cast<size_t>(score_it - qrels.columns.begin()) : 0;
  std::vector<std::set<int64_t>> relevant(query_texts.size());
  for (const auto& record : qrels.records) {
    const std::string& qid = record.fields[q_column];
    const std::string& cid = record.fields[c_column];
    const int64_t query = query_ids.find(qid), doc = corpus_ids.find(cid);
    NEG_CHECK(query >= 0, o.qrels_path, ":", record.line, ": query-id '", qid, "' is not in the queries file ",
              o.path);
    NEG_CHECK(doc >= 0, o.qrels_path, ":", record.line, ": corpus-id '", cid, "' is not in the corpus file ",
              o.corpus_path);
    if (has_score) {
      const std::string& text = record.fields[s_column];
      const std::optional<double> score = data::parse_double(text);
      NEG_CHECK(score, o.qrels_path, ":", record.line, ": score '", text, "' is not a finite number");
      if (*score <= 0) continue;
    }
    relevant[query].insert(doc);
  }
  for (size_t q = 0; q < query_texts.size(); ++q) {
    if (relevant[q].empty()) continue;
    queries_.push_back(query_texts[q]);
    relevant_.emplace_back(relevant[q].begin(), relevant[q].end());
  }
}

std::string InformationRetrievalEvaluator::primary_metric() const {
  return prefixed_metric(name_, similarity_fn_names_.front() + "_ndcg@" + std::to_string(kNdcgAtK.back()));
}

Metrics InformationRetrievalEvaluator::evaluate(model::SentenceEncoder& model, distributed::Communicator& comm) {
  int64_t max_k = 0;
  for (const auto* ks : {&kAccuracyAtK, &kPrecisionRecallAtK, &kMrrAtK, &kNdcgAtK, &kMapAtK}) {
    max_k = std::max(max_k, *std::max_element(ks->begin(), ks->end()));
  }
  const int64_t n_queries = static_cast<int64_t>(queries_.size());
  const int64_t n_corpus = static_cast<int64_t>(corpus_.size());
  // Final ranking order: descending score, then ascending corpus id.
  const auto before = [&](const Hit& x, const Hit& y) {
    return x.score > y.score || (x.score == y.score && corpus_id_rank_[x.corpus] < corpus_id_rank_[y.corpus]);
  };

  const at::Tensor query_embeddings = distributed_encode(model, comm, queries_, batch_size_).to(at::kDouble);
  const at::Tensor unit_queries = unit(query_embeddings);
  std::vector<std::vector<std::vector<Hit>>> hits(similarity_fn_names_.size(),
                                                  std::vector<std::vector<Hit>>(n_queries));
  for (int64_t start = 0; start < n_corpus; start += corpus_chunk_size_) {
    const int64_t stop = std::min(n_corpus, start + corpus_chunk_size_), width = stop - start;
    const std::vector<std::string> chunk(corpus_.begin() + start, corpus_.begin() + stop);
    const at::Tensor docs = distributed_encode(model, comm, chunk, batch_size_).to(at::kDouble);
    const int64_t top_k = std::min(max_k, width);
    const int64_t block = std::max<int64_t>(1, kScoreBlockElements / width);
    for (size_t f = 0; f < similarity_fn_names_.size(); ++f) {
      const std::string& fn = similarity_fn_names_[f];
      const at::Tensor& q_all = fn == "cosine" ? unit_queries : query_embeddings;
      const at::Tensor d = fn == "cosine" ? unit(docs) : docs;
      for (int64_t q0 = 0; q0 < n_queries; q0 += block) {
        const int64_t q1 = std::min(n_queries, q0 + block);
        const at::Tensor scores = score_matrix(fn, q_all.slice(0, q0, q1), d);
        const auto top = at::topk(scores, top_k, 1, /*largest=*/true, /*sorted=*/false);
        const at::Tensor top_values = std::get<0>(top).contiguous(), top_indices = std::get<1>(top).contiguous();
        // A row whose k-th best score is tied with documents left outside the top-k is reselected
        // exactly under the (score, corpus id) order, as ST does.
        const at::Tensor thresholds = std::get<0>(top_values.min(1, /*keepdim=*/true));
        const at::Tensor at_or_above = (scores >= thresholds).sum(1);
        const auto s = scores.accessor<double, 2>();
        const auto values = top_values.accessor<double, 2>();
        const auto indices = top_indices.accessor<int64_t, 2>();
        const auto threshold = thresholds.accessor<double, 2>();
        const auto counts = at_or_above.accessor<int64_t, 1>();
        for (int64_t r = 0; r < q1 - q0; ++r) {
          std::vector<Hit>& list = hits[f][q0 + r];
          if (counts[r] > top_k) {
            std::vector<Hit> candidates;
            for (int64_t j = 0; j < width; ++j) {
              if (s[r][j] >= threshold[r][0]) candidates.push_back({s[r][j], start + j});
            }
            std::partial_sort(candidates.begin(), candidates.begin() + top_k, candidates.end(), before);
            list.insert(list.end(), candidates.begin(), candidates.begin() + top_k);
          } else {
            for (int64_t j = 0; j < top_k; ++j) list.push_back({values[r][j], start + indices[r][j]});
          }
          std::sort(list.begin(), list.end(), before);
          if (static_cast<int64_t>(list.size()) > max_k) list.resize(max_k);
        }
      }
    }
  }

  Metrics metrics;
  const auto put = [&](const std::string& fn, const std::string& metric, int64_t k, double value) {
    metrics[prefixed_metric(name_, fn + "_" + metric + "@" + std::to_string(k))] = value;
  };
  for (size_t f = 0; f < similarity_fn_names_.size(); ++f) {
    std::map<int64_t, double> accuracy, precision, recall, mrr, ndcg, average_precision;
    for (int64_t q = 0; q < n_queries; ++q) {
      const std::vector<Hit>& top = hits[f][q];
      const std::vector<int64_t>& relevant = relevant_[q];
      const auto is_relevant = [&](int64_t rank) {
        return std::binary_search(relevant.begin(), relevant.end(), top[rank].corpus);
      };
      const int64_t n_relevant = static_cast<int64_t>(relevant.size());
      const auto depth = [&](int64_t k) { return std::min<int64_t>(k, static_cast<int64_t>(top.size())); };
      for (int64_t k : kAccuracyAtK) {
        bool found = false;
        for (int64_t i = 0; i < depth(k) && !found; ++i) found = is_relevant(i);
        accuracy[k] += found ? 1 : 0;
      }
      for (int64_t k : kPrecisionRecallAtK) {
        double correct = 0;
        for (int64_t i = 0; i < depth(k); ++i) correct += is_relevant(i) ? 1 : 0;
        precision[k] += correct / static_cast<double>(k);
        recall[k] += correct / static_cast<double>(n_relevant);
      }
      for (int64_t k : kMrrAtK) {
        for (int64_t i = 0; i < depth(k); ++i) {
          if (is_relevant(i)) {
            mrr[k] += 1.0 / static_cast<double>(i + 1);
            break;
          }
        }
      }
      for (int64_t k : kNdcgAtK) {
        double dcg = 0, ideal = 0;
        for (int64_t i = 0; i < depth(k); ++i) dcg += (is_relevant(i) ? 1.0 : 0.0) / std::log2(i + 2.0);
        for (int64_t i = 0; i < std::min(k, n_relevant); ++i) ideal += 1.0 / std::log2(i + 2.0);
        ndcg[k] += dcg / ideal;
      }
      for (int64_t k : kMapAtK) {
        double correct = 0, sum_precisions = 0;
        for (int64_t i = 0; i < depth(k); ++i) {
          if (is_relevant(i)) {
            correct += 1;
            sum_precisions += correct / static_cast<double>(i + 1);
          }
        }
        average_precision[k] += sum_precisions / static_cast<double>(std::min(k, n_relevant));
      }
    }
    const std::string& fn = similarity_fn_names_[f];
    const size_t n = static_cast<size_t>(n_queries);
    for (int64_t k : kAccuracyAtK) put(fn, "accuracy", k, mean(accuracy[k], n));
    for (int64_t k : kPrecisionRecallAtK) {
      put(fn, "precision", k, mean(precision[k], n));
      put(fn, "recall", k, mean(recall[k], n));
    }
    for (int64_t k : kNdcgAtK) put(fn, "ndcg", k, mean(ndcg[k], n));
    for (int64_t k : kMrrAtK) put(fn, "mrr", k, mean(mrr[k], n));
    for (int64_t k : kMapAtK) put(fn, "map", k, mean(average_precision[k], n));
  }
  return metrics;
}

}  // namespace negatron::train
