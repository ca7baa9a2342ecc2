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
#include <vector>

#include "losses/loss.h"
#include "losses/registry.h"

namespace negatron::losses {

struct MatryoshkaOptions {
  /// Dimensions to train (> 0, at most the model dimension); stored sorted descending.
  std::vector<int64_t> matryoshka_dims;
  /// One weight per dimension; empty = all 1.
  std::vector<double> matryoshka_weights;
  /// > 0 and < number of dims: sample that many dimensions per step; otherwise use all.
  int64_t n_dims_per_step = -1;
  /// Sorts dims (descending) with their weights, fills default weights, validates.
  void normalize_and_validate();
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
/// Builds a wrapper's inner loss from its 'loss' parameter {"name": ..., <params>}.
std::unique_ptr<Loss> make_inner_loss(const std::string& wrapper, const nlohmann::json& spec, const LossArgs& args);

}  // namespace negatron::losses
