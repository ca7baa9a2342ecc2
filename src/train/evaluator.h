#pragma once
// Evaluators, as sentence-transformers names them and their metrics. Distributed: each rank embeds
// a contiguous shard of the texts; the shards are gathered, and every rank computes the same metrics.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "model/sentence_encoder.h"
#include "train/options.h"

namespace negatron::train {

using Metrics = std::map<std::string, double>;

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  /// Metrics keyed "<name>_<metric>", e.g. "sts-test_spearman_cosine".
  virtual Metrics evaluate(model::SentenceEncoder& model, dist::Communicator& comm) = 0;
  /// The metric a user would track, e.g. "sts-test_spearman_cosine".
  virtual std::string primary_metric() const = 0;
};

std::unique_ptr<Evaluator> make_evaluator(const EvaluatorOptions& options);

/// Embeddings [N, d] (float32, CPU) of all texts in order; each rank encodes texts[start_r, end_r).
at::Tensor distributed_encode(model::SentenceEncoder& model, dist::Communicator& comm,
                              const std::vector<std::string>& texts, int64_t batch_size);

}  // namespace negatron::train
