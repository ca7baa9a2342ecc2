#pragma once
// InformationRetrievalEvaluator, as sentence-transformers 6 computes it: every query retrieves its
// top-k corpus documents by each similarity function; ranking is by descending score, ties broken by
// ascending corpus id (byte order, = Python's str order for UTF-8), so results do not depend on
// corpus_chunk_size or on the number of ranks. Scores are computed in float64 and rounded to float32
// (ST scores in float32), so documents with identical embeddings tie exactly. Metrics per function fn:
//   <name>_<fn>_accuracy@{1,3,5,10}, _precision@{1,3,5,10}, _recall@{1,3,5,10}, _ndcg@10, _mrr@10,
//   _map@100 (ST's default k lists). Primary: <name>_<first fn>_ndcg@10 (ST, without
// main_score_function, picks the function with the best ndcg@10 at its first evaluation; negatron
// must name the primary metric before evaluating). Queries without a relevant document are left
// out, as ST does; unlike ST, a qrels id missing from the queries or corpus file is an error.
//
// Input, either
//  - pairs: `path` with `columns: [query, relevant doc, more corpus columns...]`; every text is its own
//    id, the corpus is every distinct text of the document columns (first-appearance order), and a
//    query's relevant documents are the second-column texts of all its rows; or
//  - BEIR layout: `path` = queries, `corpus_path` = corpus (.jsonl/.tsv with _id and text) and
//    `qrels_path` = .tsv with header query-id, corpus-id[, score] (score <= 0: not relevant).
//
// Distributed: queries, then each corpus chunk, are embedded by all ranks (distributed_encode); every
// rank scores all queries against the chunk and keeps a running top-k, so no rank ever holds more
// than a [query block x corpus_chunk_size] score matrix.
#include "train/evaluator.h"

namespace negatron::train {

class InformationRetrievalEvaluator : public Evaluator {
 public:
  explicit InformationRetrievalEvaluator(const EvaluatorOptions& options);
  Metrics evaluate(model::SentenceEncoder& model, distributed::Communicator& comm) override;
  std::string primary_metric() const override;

 private:
  void load_pairs(const EvaluatorOptions& o);
  void load_beir(const EvaluatorOptions& o);

  std::string name_;
  std::vector<std::string> queries_;                // queries with >= 1 relevant document
  std::vector<std::string> corpus_ids_, corpus_;
  std::vector<std::vector<int64_t>> relevant_;      // per query: sorted corpus indices
  std::vector<int64_t> corpus_id_rank_;             // position of each corpus id in ascending id order
  std::vector<std::string> similarity_fn_names_;
  int64_t corpus_chunk_size_, batch_size_;
};

}  // namespace negatron::train
