#pragma once
// BinaryClassificationEvaluator: (sentence1, sentence2, 0/1 label) pairs classified by thresholding
// the pair's cosine / dot similarity or euclidean / manhattan distance, as sentence-transformers 6
// does. Metrics per similarity function: <name>_<fn>_{accuracy, accuracy_threshold, f1, f1_threshold,
// precision, recall, ap, mcc}; with more than one function also <name>_max_<metric> (the maximum over
// the functions, thresholds included, as ST reports it). Primary: <name>_max_ap with more than one
// function, else <name>_<fn>_ap.
#include "train/evaluator.h"

namespace negatron::train {

class BinaryClassificationEvaluator : public Evaluator {
 public:
  explicit BinaryClassificationEvaluator(const EvaluatorOptions& options);
  Metrics evaluate(model::SentenceEncoder& model, distributed::Communicator& comm) override;
  std::string primary_metric() const override;

 private:
  std::string name_;
  std::vector<std::string> sentences1_, sentences2_;
  std::vector<int> labels_;
  std::vector<std::string> similarity_fn_names_;
  int64_t batch_size_;
};

}  // namespace negatron::train
