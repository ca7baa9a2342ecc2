#pragma once
// MatryoshkaLoss: a modifier. Applies the wrapped loss to the embeddings truncated to each of
// matryoshka_dims (then L2-normalized) and sums weight * loss, so the leading dimensions carry
// the most information.
// Requirements / Inputs: those of the wrapped loss. Labels that are [B, model dim] embeddings
//   (MSE distillation) are truncated with the columns; guide embeddings (GIST) are not.
// Relations: Matryoshka2dLoss = AdaptiveLayerLoss around this; around a cached loss the cache
//   goes outside: GradCache(Matryoshka(plain loss)), which is what ST's CachedLossDecorator does.
// Refused: losses that only exist at model level (ContrastiveTension*, DenoisingAutoEncoderLoss,
//   AdaptiveLayerLoss, Matryoshka2dLoss): truncating their embeddings cannot be expressed here.
// Distributed: whatever the wrapped loss does, once per dimension.
// Reference: Kusupati et al. 2022; sentence_transformers/.../losses/matryoshka.py (ST 6.0.1).
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "losses/loss.h"
#include "losses/registry.h"

namespace negatron::losses {

struct MatryoshkaOptions {
  nlohmann::json loss;
  std::vector<int64_t> matryoshka_dims;
  std::optional<std::vector<double>> matryoshka_weights;
  int64_t n_dims_per_step = -1;
  template <class V>
  void visit(V& v) {
    v("loss", loss, kWrappedLossDoc);
    v("matryoshka_dims", matryoshka_dims, "dimensions to train (> 0, at most the model's), largest first");
    v("matryoshka_weights", matryoshka_weights, "one weight per dimension (null: all 1)");
    v("n_dims_per_step", n_dims_per_step, "dimensions sampled per step (<= 0 or >= their number: all)");
  }
  /// Resolves the wrapped loss, checks the dimensions and sorts them (largest first) with their weights.
  void validate();
  /// The weight of matryoshka_dims[index] (1 without matryoshka_weights).
  double weight(size_t index) const;
};

/// Rows of `x` truncated to `dim` and L2-normalized (ST's shrink).
at::Tensor matryoshka_shrink(const at::Tensor& x, int64_t dim);

class MatryoshkaLoss : public Loss {
 public:
  MatryoshkaLoss(std::unique_ptr<Loss> inner, MatryoshkaOptions options);
  const LossSpec& spec() const override { return spec_; }
  at::Tensor compute(const EmbeddingBatch& batch) override;
  void add_side_inputs(model::SentenceEncoder& model, const model::Batch& batch, EmbeddingBatch& embeddings) override {
    inner_->add_side_inputs(model, batch, embeddings);
  }
  std::vector<at::Tensor> parameters() override { return inner_->parameters(); }
  std::optional<LabelProblem> label_problem(const at::Tensor& labels) const override { return inner_->label_problem(labels); }

 private:
  std::unique_ptr<Loss> inner_;
  MatryoshkaOptions options_;
  LossSpec spec_;
};

/// Names of losses that wrappers refuse (model-level only).
bool is_model_level_only(const std::string& loss_name);
/// `count` distinct indices of [0, n) drawn with the default CPU generator (all, in order, if
/// count <= 0 or count >= n).
std::vector<int64_t> sample_indices(int64_t n, int64_t count, bool sorted);
}  // namespace negatron::losses
