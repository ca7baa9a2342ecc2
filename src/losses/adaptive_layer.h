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
#include "losses/registry.h"

namespace negatron::losses {

/// The layer options, shared with Matryoshka2dLoss.
struct AdaptiveLayerOptions {
  int64_t n_layers_per_step = 1;
  double last_layer_weight = 1.0;
  double prior_layers_weight = 1.0;
  double kl_div_weight = 1.0;
  double kl_temperature = 0.3;
  std::string layer_weighting = "uniform";
  template <class V>
  void visit(V& v) {
    v("n_layers_per_step", n_layers_per_step, "earlier layers sampled per step (<= 0 or >= their number: all)");
    v("last_layer_weight", last_layer_weight, "weight of the final layer's loss");
    v("prior_layers_weight", prior_layers_weight, "weight of the earlier layers' losses");
    v("kl_div_weight", kl_div_weight, "weight of the KL term");
    v("kl_temperature", kl_temperature, "temperature of the KL term (<= 0: no KL term)");
    v("layer_weighting", layer_weighting, "uniform | log | linear: w(l) of an earlier layer l");
  }
  void validate() const;
  double layer_weight(int64_t layer) const;
};

struct AdaptiveLayerLossOptions {
  nlohmann::json loss;
  AdaptiveLayerOptions layers;
  template <class V>
  void visit(V& v) {
    v("loss", loss, kWrappedLossDoc);
    layers.visit(v);
  }
  /// Resolves the wrapped loss; checks the layer options.
  void validate();
};

class AdaptiveLayerLoss : public Loss {
 public:
  AdaptiveLayerLoss(std::unique_ptr<Loss> inner, AdaptiveLayerOptions options, std::string name = "AdaptiveLayerLoss");
  const LossSpec& spec() const override { return spec_; }
  /// Model level only: fails with an explanation.
  at::Tensor compute(const EmbeddingBatch& batch) override;
  at::Tensor forward(model::SentenceEncoder& model, const model::Batch& batch) override;
  std::vector<at::Tensor> parameters() override { return inner_->parameters(); }
  std::optional<LabelProblem> label_problem(const at::Tensor& labels) const override { return inner_->label_problem(labels); }

 private:
  std::unique_ptr<Loss> inner_;
  AdaptiveLayerOptions options_;
  LossSpec spec_;
};

}  // namespace negatron::losses
