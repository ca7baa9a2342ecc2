#include "losses/adaptive_layer.h"

#include <ATen/core/Reduction.h>

#include <cmath>

#include "common/check.h"
#include "losses/gradcache.h"
#include "losses/matryoshka.h"
#include "losses/choice.h"
#include "losses/registry.h"

namespace negatron::losses {

namespace {

enum class LayerWeighting { kUniform, kLog, kLinear };

LayerWeighting layer_weighting_by_name(const std::string& name) {
  return choose<LayerWeighting>("layer_weighting", name,
                                {{"uniform", LayerWeighting::kUniform},
                                 {"log", LayerWeighting::kLog},
                                 {"linear", LayerWeighting::kLinear}});
}

}  // namespace

void AdaptiveLayerOptions::validate() const { layer_weighting_by_name(layer_weighting); }

double AdaptiveLayerOptions::layer_weight(int64_t layer) const {
  switch (layer_weighting_by_name(layer_weighting)) {
    case LayerWeighting::kLog: return 1.0 / (1.0 + std::log(1.0 + static_cast<double>(layer)));
    case LayerWeighting::kLinear: return 1.0 / (1.0 + static_cast<double>(layer));
    case LayerWeighting::kUniform: return 1.0;
  }
  return 1.0;
}

void AdaptiveLayerLossOptions::validate() {
  loss = resolve_wrapped_loss(loss);
  layers.validate();
}

AdaptiveLayerLoss::AdaptiveLayerLoss(std::unique_ptr<Loss> inner, AdaptiveLayerOptions options, std::string name)
    : inner_(std::move(inner)), options_(std::move(options)) {
  NEG_CHECK(inner_ != nullptr, name, ": no loss to wrap");
  NEG_CHECK(dynamic_cast<GradCacheLoss*>(inner_.get()) == nullptr, name, " cannot wrap the cached loss ",
            inner_->spec().name, " (GradCache embeds once per batch, this loss once per layer); use its plain form");
  NEG_CHECK(!is_model_level_only(inner_->spec().name), name, " cannot wrap ", inner_->spec().name,
            ": it is computed from the model, not from embeddings");
  spec_ = inner_->spec();
  spec_.name = std::move(name);
}

at::Tensor AdaptiveLayerLoss::compute(const EmbeddingBatch&) {
  NEG_FAIL(spec_.name, " works at model level only (it needs every layer's hidden states); call forward()");
}

at::Tensor AdaptiveLayerLoss::forward(model::SentenceEncoder& model, const model::Batch& batch) {
  validate(batch);
  std::vector<model::SentenceEncoderOutput> outputs;
  EmbeddingBatch final_layer;
  for (const auto& column : batch.columns) {
    outputs.push_back(model.forward(column, /*num_layers=*/0, /*with_hidden_states=*/true));
    final_layer.columns.push_back(outputs.back().sentence_embedding);
  }
  final_layer.labels = batch.labels;
  final_layer.rank_rows = batch.rank_rows;
  inner_->add_side_inputs(model, batch, final_layer);
  at::Tensor loss = inner_->compute(final_layer) * options_.last_layer_weight;

  const double t = options_.kl_temperature;
  at::Tensor teacher;
  if (t > 0) teacher = at::softmax(at::cat(final_layer.columns, 0) / t, -1).detach();

  const int64_t num_states = static_cast<int64_t>(outputs.front().hidden_states.size());
  const std::vector<int64_t> layers = sample_indices(num_states - 1, options_.n_layers_per_step, /*sorted=*/false);
  for (int64_t layer : layers) {
    EmbeddingBatch prior = final_layer;
    for (size_t c = 0; c < batch.columns.size(); ++c) {
      prior.columns[c] = model.embed_tokens(outputs[c].hidden_states[layer], batch.columns[c].attention_mask);
    }
    loss = loss + inner_->compute(prior) * (options_.layer_weight(layer) / static_cast<double>(layers.size()) *
                                            options_.prior_layers_weight);
    if (t > 0) {
      const at::Tensor student = at::log_softmax(at::cat(prior.columns, 0) / t, -1);
      const at::Tensor kl = at::kl_div(student, teacher, at::Reduction::Sum) / static_cast<double>(student.size(0));
      loss = loss + kl * (t * options_.kl_div_weight);
    }
  }
  return loss;
}

namespace {

std::unique_ptr<Loss> make_adaptive_layer(const AdaptiveLayerLossOptions& options, const LossArgs& args) {
  return std::make_unique<AdaptiveLayerLoss>(make_loss_from_spec(options.loss, args), options.layers);
}

NEGATRON_REGISTER_LOSS("AdaptiveLayerLoss", make_adaptive_layer);

}  // namespace
}  // namespace negatron::losses
