#pragma once
// EmbeddingSimilarityEvaluator: Pearson and Spearman correlation between gold scores and the
// cosine, dot, euclidean and manhattan similarity of sentence-pair embeddings.
// Metrics: <name>_{pearson,spearman}_{cosine,dot,euclidean,manhattan}; primary: spearman_cosine.
#include "train/evaluator.h"

namespace negatron::train {

class EmbeddingSimilarityEvaluator : public Evaluator {
 public:
  explicit EmbeddingSimilarityEvaluator(const EvaluatorOptions& options);
  /// From in-memory data (tests).
  EmbeddingSimilarityEvaluator(std::string name, std::vector<std::string> sentences1,
                               std::vector<std::string> sentences2, std::vector<double> scores,
                               int64_t batch_size = 64);
  Metrics evaluate(model::SentenceEncoder& model, distributed::Communicator& comm) override;
  std::string primary_metric() const override { return name_ + "_spearman_cosine"; }

 private:
  std::string name_;
  std::vector<std::string> sentences1_, sentences2_;
  std::vector<double> scores_;
  int64_t batch_size_;
};

}  // namespace negatron::train
