#pragma once
// Evaluators, as sentence-transformers names them and their metrics. Distributed: each rank embeds
// a contiguous shard of the texts; the shards are gathered, and every rank computes the same metrics.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "distributed/communicator.h"
#include "model/sentence_encoder.h"
#include "train/options.h"

namespace negatron::train {

using Metrics = std::map<std::string, double>;

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  /// Metrics keyed "<name>_<metric>", e.g. "sts-test_spearman_cosine".
  virtual Metrics evaluate(model::SentenceEncoder& model, distributed::Communicator& comm) = 0;
  /// The metric a user would track, e.g. "sts-test_spearman_cosine".
  virtual std::string primary_metric() const = 0;
};

std::unique_ptr<Evaluator> make_evaluator(const EvaluatorOptions& options);

/// "<name>_<key>", or key alone when name is empty (sentence-transformers' prefix_name_to_metrics).
std::string prefixed_metric(const std::string& name, const std::string& key);

/// Checks each of `names` is one of cosine, dot, euclidean, manhattan (`what` names the evaluator
/// in the error) and returns them, or `defaults` when empty.
std::vector<std::string> similarity_fn_names_or(const std::vector<std::string>& names,
                                                std::vector<std::string> defaults, const std::string& what);

/// The columns `names` of an evaluator's table (o.path, o.format, o.has_header; in JSONL the keys are
/// `names`): columns[k][i] is row i's value of names[k], lines[i] its line for error messages.
struct EvaluatorTable {
  std::vector<std::vector<std::string>> columns;
  std::vector<int64_t> lines;
};
EvaluatorTable read_evaluator_table(const EvaluatorOptions& o, const std::vector<std::string>& names);

/// A tensor's values as doubles, in order.
std::vector<double> to_doubles(const at::Tensor& t);

/// Embeddings [N, d] (float32, CPU) of all texts in order; each rank encodes texts[start_r, end_r).
at::Tensor distributed_encode(model::SentenceEncoder& model, distributed::Communicator& comm,
                              const std::vector<std::string>& texts, int64_t batch_size);

}  // namespace negatron::train
