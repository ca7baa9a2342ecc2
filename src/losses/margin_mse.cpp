#include "losses/margin_mse.h"

#include "losses/registry.h"
#include "losses/similarity.h"

namespace negatron::losses {
namespace {

const char* kInputs =
    "(query, positive, negative_1, ..., negative_n) | [B] or [B, n] teacher margins, or [B, n + 1] teacher scores";

class MarginMSELoss : public Loss {
 public:
  explicit MarginMSELoss(PairwiseScoreFn similarity) : similarity_(similarity) {
    spec_ = {"MarginMSELoss", 3, -1, LabelKind::kFloat32Vector, kInputs};
  }
  const LossSpec& spec() const override { return spec_; }
  at::Tensor compute(const EmbeddingBatch& batch) override {
    validate(with_matrix_labels(batch));
    return margin_mse_loss(batch.columns, batch.labels, similarity_);
  }
  at::Tensor forward(model::SentenceEncoder& model, const model::Batch& batch) override {
    model::Batch copy = batch;
    if (copy.labels.defined() && copy.labels.dim() == 1) copy.labels = copy.labels.unsqueeze(1);
    return Loss::forward(model, copy);
  }

 private:
  /// validate() knows one label kind; [B] margins are checked as [B, 1].
  static EmbeddingBatch with_matrix_labels(const EmbeddingBatch& batch) {
    EmbeddingBatch copy = batch;
    if (copy.labels.defined() && copy.labels.dim() == 1) copy.labels = copy.labels.unsqueeze(1);
    return copy;
  }
  LossSpec spec_;
  PairwiseScoreFn similarity_;
};

std::unique_ptr<Loss> make_margin_mse(const LossArgs& args) {
  ParamReader params("MarginMSELoss", args.params);
  const PairwiseScoreFn similarity = pairwise_similarity_by_name(
      params.get<std::string>("similarity_fct", "pairwise_dot_score"), "MarginMSELoss: parameter 'similarity_fct'");
  params.finish();
  return std::make_unique<MarginMSELoss>(similarity);
}

}  // namespace

at::Tensor margin_mse_loss(const std::vector<at::Tensor>& columns, at::Tensor labels, PairwiseScoreFn similarity) {
  const int64_t batch = columns[0].size(0);
  const int64_t negatives = static_cast<int64_t>(columns.size()) - 2;
  labels = labels.detach();
  if (labels.dim() == 1) labels = labels.unsqueeze(1);
  if (labels.size(1) == negatives + 1) labels = labels.slice(1, 0, 1) - labels.slice(1, 1);
  NEG_CHECK(labels.dim() == 2 && labels.size(0) == batch && labels.size(1) == negatives, "MarginMSELoss: labels of shape ",
            labels.sizes(), " for ", negatives, " negative column(s); expected [", batch, "] or [", batch, ", ",
            negatives, "] margins or [", batch, ", ", negatives + 1, "] scores (Inputs: ", kInputs, ")");
  const at::Tensor positive = similarity(columns[0], columns[1]);
  std::vector<at::Tensor> margins;
  for (size_t k = 2; k < columns.size(); ++k) margins.push_back(positive - similarity(columns[0], columns[k]));
  const at::Tensor predicted = at::stack(margins, 1);
  return at::mse_loss(predicted, labels.to(predicted.scalar_type()));
}

NEGATRON_REGISTER_LOSS("MarginMSELoss", make_margin_mse);

}  // namespace negatron::losses
