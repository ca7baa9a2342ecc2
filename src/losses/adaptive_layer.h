#pragma once
// AdaptiveLayerLoss: a modifier (model level). Applies the wrapped loss to the final layer and to
// earlier layers' outputs (pooled through the model's own Pooling/Dense/Normalize), plus a KL term
// that distils the final layer's embedding distribution into each earlier layer, so the model
// can be cut to fewer layers.
//   loss = last_layer_weight * L(final)
//        + sum_{l in sampled} prior_layers_weight * w(l) / n_sampled * L(layer l)
//        + kl_div_weight * kl_temperature * KL(softmax(final / T) || softmax(layer l / T)) (batchmean)
// Layers l index the hidden states: 0 = embedding output ... L-1 (the final layer L is excluded),
// as in ST. w(l): "uniform" 1, "log" 1/(1+ln(1+l)), "linear" 1/(1+l).
// Requirements / Inputs: those of the wrapped loss. Refused: cached (GradCache) losses, which ST
//   marks incompatible, and model-level-only losses (ContrastiveTension*, DAE).
// Distributed: whatever the wrapped loss does, once per layer.
// Reference: Li et al. 2024 (2D Matryoshka); sentence_transformers/.../losses/adaptive_layer.py.
#include <memory>
#include <string>

#include "losses/loss.h"

namespace negatron::losses {

struct AdaptiveLayerOptions {
  /// Earlier layers sampled per step; <= 0 or >= L: all of them.
  int64_t n_layers_per_step = 1;
  double last_layer_weight = 1.0;
  double prior_layers_weight = 1.0;
  double kl_div_weight = 1.0;
  /// <= 0 disables the KL term.
  double kl_temperature = 0.3;
  /// "uniform", "log" or "linear".
  std::string layer_weighting = "uniform";
  void validate() const;
  double layer_weight(int64_t layer) const;
};

class AdaptiveLayerLoss : public Loss {
 public:
  AdaptiveLayerLoss(std::unique_ptr<Loss> inner, AdaptiveLayerOptions options, std::string name = "AdaptiveLayerLoss");
  const LossSpec& spec() const override { return spec_; }
  /// Model level only: fails with an explanation.
  at::Tensor compute(const EmbeddingBatch& batch) override;
  at::Tensor forward(model::SentenceEncoder& model, const model::Batch& batch) override;
  std::vector<at::Tensor> parameters() override { return inner_->parameters(); }

 private:
  std::unique_ptr<Loss> inner_;
  AdaptiveLayerOptions options_;
  LossSpec spec_;
};

class ParamReader;
/// Reads the AdaptiveLayerLoss parameters (ST names) over `defaults`; shared with Matryoshka2dLoss.
AdaptiveLayerOptions read_adaptive_layer_options(ParamReader& params, AdaptiveLayerOptions defaults);

}  // namespace negatron::losses
