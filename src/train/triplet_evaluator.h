#pragma once
// TripletEvaluator: fraction of (anchor, positive, negative) triplets where the anchor is closer to
// the positive than to the negative. Metrics: <name>_{cosine,dot,euclidean,manhattan}_accuracy;
// primary: cosine_accuracy.
#include "train/evaluator.h"

namespace negatron::train {

class TripletEvaluator : public Evaluator {
 public:
  explicit TripletEvaluator(const EvaluatorOptions& options);
  Metrics evaluate(model::SentenceEncoder& model, distributed::Communicator& comm) override;
  std::string primary_metric() const override { return name_ + "_cosine_accuracy"; }

 private:
  std::string name_;
  std::vector<std::string> anchors_, positives_, negatives_;
  int64_t batch_size_;
};

}  // namespace negatron::train
