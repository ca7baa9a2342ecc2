#include "losses/adaptive_layer.h"

#include <ATen/core/Reduction.h>

#include <cmath>

#include "common/check.h"
#include "losses/gradcache.h"
#include "losses/matryoshka.h"
#include "losses/registry.h"

namespace negatron::losses {

void AdaptiveLayerOptions::validate() const {
  NEG_CHECK(layer_weighting == "uniform" || layer_weighting == "log" || layer_weighting == "linear",
            "AdaptiveLayerLoss: layer_weighting must be 'uniform', 'log' or 'linear', got '", layer_weighting, "'");
}

double AdaptiveLayerOptions::layer_weight(int64_t layer) const {
  if (layer_weighting == "log") return 1.0 / (1.0 + std::log(1.0 + static_cast<double>(layer)));
  if (layer_weighting == "linear") return 1.0 / (1.0 + static_cast<double>(layer));
  return 1.0;
}

AdaptiveLayerLoss::AdaptiveLayerLoss(std::unique_ptr<Loss> inner, AdaptiveLayerOptions options, std::string name)
    : inner_(std::move(inner)), options_(std::move(options)) {
  NEG_CHECK(inner_ != nullptr, name, ": no loss to wrap");
  NEG_CHECK(dynamic_cast<GradCacheLoss*>(inner_.get()) == nullptr, name, " cannot wrap the cached loss ",
            inner_->spec().name, " (GradCache embeds once per batch, this loss once per layer); use its plain form");
  NEG_CHECK(!is_model_level_only(inner_->spec().name), name, " cannot wrap ", inner_->spec().name,
            ": it is computed from the model, not from embeddings");
  options_.validate();
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

AdaptiveLayerOptions read_adaptive_layer_options(ParamReader& params, AdaptiveLayerOptions o) {
  o.n_layers_per_step = params.get<int64_t>("n_layers_per_step", o.n_layers_per_step);
  o.last_layer_weight = params.get<double>("last_layer_weight", o.last_layer_weight);
  o.prior_layers_weight = params.get<double>("prior_layers_weight", o.prior_layers_weight);
  o.kl_div_weight = params.get<double>("kl_div_weight", o.kl_div_weight);
  o.kl_temperature = params.get<double>("kl_temperature", o.kl_temperature);
  o.layer_weighting = params.get<std::string>("layer_weighting", o.layer_weighting);
  return o;
}

namespace {

std::unique_ptr<Loss> make_adaptive_layer(const LossArgs& args) {
  ParamReader params("AdaptiveLayerLoss", args.params);
  const nlohmann::json inner_spec = params.get_json("loss", nullptr);
  AdaptiveLayerOptions o = read_adaptive_layer_options(params, {});
  params.finish();
  return std::make_unique<AdaptiveLayerLoss>(make_inner_loss("AdaptiveLayerLoss", inner_spec, args), o);
}

NEGATRON_REGISTER_LOSS("AdaptiveLayerLoss", make_adaptive_layer);

}  // namespace
}  // namespace negatron::losses
