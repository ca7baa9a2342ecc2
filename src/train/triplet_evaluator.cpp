#include "train/triplet_evaluator.h"

#include "common/check.h"

namespace negatron::train {

TripletEvaluator::TripletEvaluator(const EvaluatorOptions& o) : name_(o.name), batch_size_(o.batch_size) {
  NEG_CHECK(o.columns.size() == 3, "TripletEvaluator '", o.name, "' needs columns: [anchor, positive, negative]");
  EvaluatorTable table = read_evaluator_table(o, o.columns);
  anchors_ = std::move(table.columns[0]);
  positives_ = std::move(table.columns[1]);
  negatives_ = std::move(table.columns[2]);
  NEG_CHECK(!anchors_.empty(), o.path, ": no triplets");
}

Metrics TripletEvaluator::evaluate(model::SentenceEncoder& model, distributed::Communicator& comm) {
  const at::Tensor a = distributed_encode(model, comm, anchors_, batch_size_).to(at::kDouble);
  const at::Tensor p = distributed_encode(model, comm, positives_, batch_size_).to(at::kDouble);
  const at::Tensor n = distributed_encode(model, comm, negatives_, batch_size_).to(at::kDouble);
  const auto unit = [](const at::Tensor& x) { return x / x.norm(2, -1, true).clamp_min(1e-12); };
  const auto accuracy = [](const at::Tensor& pos, const at::Tensor& neg) {
    return (pos > neg).to(at::kDouble).mean().item<double>();
  };
  return {
      {name_ + "_cosine_accuracy", accuracy((unit(a) * unit(p)).sum(-1), (unit(a) * unit(n)).sum(-1))},
      {name_ + "_dot_accuracy", accuracy((a * p).sum(-1), (a * n).sum(-1))},
      {name_ + "_euclidean_accuracy", accuracy(-(a - p).norm(2, -1), -(a - n).norm(2, -1))},
      {name_ + "_manhattan_accuracy", accuracy(-(a - p).abs().sum(-1), -(a - n).abs().sum(-1))},
  };
}

}  // namespace negatron::train
