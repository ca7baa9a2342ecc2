#include "losses/contrastive_tension.h"

#include <ATen/core/Reduction.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "common/check.h"
#include "common/host_read.h"
#include "losses/registry.h"

namespace negatron::losses {

at::Tensor contrastive_tension_loss(const at::Tensor& reps1, const at::Tensor& reps2, const at::Tensor& labels) {
  const at::Tensor scores = (reps1 * reps2).sum(-1);
  return at::binary_cross_entropy_with_logits(scores, labels.to(scores.scalar_type()), {}, {}, at::Reduction::Sum);
}

at::Tensor contrastive_tension_in_batch_loss(const at::Tensor& reps1, const at::Tensor& reps2,
                                             const at::Tensor& logit_scale, SimilarityFn similarity) {
  const at::Tensor scores = similarity(reps1, reps2) * logit_scale.exp();
  const at::Tensor target = at::arange(scores.size(0), scores.options().dtype(at::kLong));
  return (at::cross_entropy_loss(scores, target) + at::cross_entropy_loss(scores.t(), target)) / 2.0;
}

std::shared_ptr<model::SentenceEncoder> copy_encoder(model::SentenceEncoder& model) {
  auto copy = model::SentenceEncoder::load(model.source_dir());
  at::NoGradGuard no_grad;
  auto from = model.named_parameters(true), to = copy->named_parameters(true);
  NEG_CHECK(from.size() == to.size(), "copying the model for ContrastiveTension: ", model.source_dir(),
            " has another parameter set than the model in memory");
  const at::Device device = model.parameters().front().device();
  copy->to(device);
  for (const auto& item : from) to[item.key()].copy_(item.value());
  auto from_buffers = model.named_buffers(true), to_buffers = copy->named_buffers(true);
  for (const auto& item : from_buffers) {
    if (auto* b = to_buffers.find(item.key())) b->copy_(item.value());
  }
  copy->train(model.is_training());
  return copy;
}

namespace {

// 1 where the two rows' non-padding tokens are equal.
at::Tensor identical_rows(const model::TokenBatch& a, const model::TokenBatch& b) {
  const int64_t rows = a.input_ids.size(0);
  at::Tensor ids_a = read_to_host(a.input_ids), ids_b = read_to_host(b.input_ids);
  at::Tensor mask_a = read_to_host(a.attention_mask).ne(0), mask_b = read_to_host(b.attention_mask).ne(0);
  at::Tensor labels = at::zeros({rows}, at::kFloat);
  for (int64_t i = 0; i < rows; ++i) {
    labels[i] = at::equal(ids_a[i].masked_select(mask_a[i]), ids_b[i].masked_select(mask_b[i])) ? 1.0 : 0.0;
  }
  return labels.to(a.input_ids.device());
}

/// What both losses share: model1, a copy of the model made at construction, trained with it but
/// not saved (its parameters are the loss's), and the spec.
class ContrastiveTensionBase : public Loss {
 public:
  const LossSpec& spec() const override { return spec_; }
  std::vector<at::Tensor> parameters() override {
    return model1_ ? model1_->parameters() : std::vector<at::Tensor>{};
  }

 protected:
  ContrastiveTensionBase(const std::shared_ptr<model::SentenceEncoder>& model, LossSpec spec)
      : model1_(model ? copy_encoder(*model) : nullptr), spec_(std::move(spec)) {}
  /// model1's embedding of `tokens`, in `model`'s mode and on the tokens' device.
  at::Tensor embed_model1(model::SentenceEncoder& model, const model::TokenBatch& tokens) {
    NEG_CHECK(model1_ != nullptr, spec_.name, " needs the model at construction (model level only)");
    model1_->train(model.is_training());
    if (model1_->parameters().front().device() != tokens.input_ids.device()) model1_->to(tokens.input_ids.device());
    return embed(*model1_, tokens);
  }

  std::shared_ptr<model::SentenceEncoder> model1_;
  LossSpec spec_;
};

class ContrastiveTensionLoss : public ContrastiveTensionBase {
 public:
  explicit ContrastiveTensionLoss(const std::shared_ptr<model::SentenceEncoder>& model)
      : ContrastiveTensionBase(model, {"ContrastiveTensionLoss", 2, 2, LabelKind::kNone,  // optional float labels
                                       "(sentence_1, sentence_2) pairs; labels: 1 identical / 0 different (derived "
                                       "when absent)"}) {}

  at::Tensor compute(const EmbeddingBatch& batch) override {
    validate(batch);
    NEG_CHECK(batch.labels.defined(), "ContrastiveTensionLoss at embedding level needs labels (1 identical pair, "
              "0 different)");
    return contrastive_tension_loss(batch.columns[0], batch.columns[1], batch.labels);
  }

  at::Tensor forward(model::SentenceEncoder& model, const model::Batch& batch) override {
    validate(batch);
    const at::Tensor labels =
        batch.labels.defined() ? batch.labels : identical_rows(batch.columns[0], batch.columns[1]);
    return contrastive_tension_loss(embed_model1(model, batch.columns[0]), embed(model, batch.columns[1]), labels);
  }
};

class ContrastiveTensionLossInBatchNegatives : public ContrastiveTensionBase {
 public:
  ContrastiveTensionLossInBatchNegatives(const std::shared_ptr<model::SentenceEncoder>& model,
                                         const ContrastiveTensionInBatchOptions& options)
      : ContrastiveTensionBase(model, {"ContrastiveTensionLossInBatchNegatives", 1, 1, LabelKind::kNone,
                                       "(sentence); labels: none", /*in_batch_negatives=*/true}),
        similarity_(similarity_by_name(options.similarity_fct, "similarity_fct")) {
    at::TensorOptions tensor_options = at::TensorOptions().dtype(at::kFloat);
    if (model1_) tensor_options = tensor_options.device(model1_->parameters().front().device());
    logit_scale_ = at::full({}, std::log(options.scale), tensor_options).set_requires_grad(true);
  }

  at::Tensor compute(const EmbeddingBatch& batch) override {
    NEG_CHECK(batch.columns.size() == 2, "ContrastiveTensionLossInBatchNegatives at embedding level takes 2 columns "
              "(model1 and model2 embeddings of the same sentences), got ", batch.columns.size());
    return contrastive_tension_in_batch_loss(batch.columns[0], batch.columns[1],
                                             logit_scale_.to(batch.columns[0].dtype()), similarity_);
  }

  at::Tensor forward(model::SentenceEncoder& model, const model::Batch& batch) override {
    validate(batch);
    const at::Tensor a = embed_model1(model, batch.columns[0]);
    const at::Tensor b = embed(model, batch.columns[0]);
    if (logit_scale_.device() != a.device()) {
      logit_scale_ = logit_scale_.detach().to(a.device()).set_requires_grad(true);
    }
    return contrastive_tension_in_batch_loss(a, b, logit_scale_, similarity_);
  }

  std::vector<at::Tensor> parameters() override {
    std::vector<at::Tensor> params{logit_scale_};
    for (auto& p : ContrastiveTensionBase::parameters()) params.push_back(p);
    return params;
  }

 private:
  SimilarityFn similarity_;
  at::Tensor logit_scale_;
};

std::unique_ptr<Loss> make_ct(const ContrastiveTensionOptions&, const LossArgs& args) {
  return std::make_unique<ContrastiveTensionLoss>(args.model);
}

std::unique_ptr<Loss> make_ct_in_batch(const ContrastiveTensionInBatchOptions& options, const LossArgs& args) {
  return std::make_unique<ContrastiveTensionLossInBatchNegatives>(args.model, options);
}

}  // namespace

void ContrastiveTensionInBatchOptions::validate() const {
  NEG_CHECK(scale > 0, "parameter 'scale' must be > 0, got ", scale);
  similarity_by_name(similarity_fct, "parameter 'similarity_fct'");
}

std::vector<ContrastiveTensionPair> make_contrastive_tension_pairs(std::vector<std::string> sentences,
                                                                   int64_t batch_size, int64_t pos_neg_ratio,
                                                                   uint64_t seed) {
  NEG_CHECK(pos_neg_ratio > 0 && batch_size > 0 && batch_size % pos_neg_ratio == 0,
            "ContrastiveTension data: batch_size (", batch_size, ") must be divisible by pos_neg_ratio (",
            pos_neg_ratio, ")");
  std::mt19937_64 rng(seed);
  std::shuffle(sentences.begin(), sentences.end(), rng);
  std::vector<ContrastiveTensionPair> pairs, batch;
  size_t i = 0;
  while (i + 1 < sentences.size()) {
    ContrastiveTensionPair p;
    p.first = sentences[i];
    if (static_cast<int64_t>(batch.size()) % pos_neg_ratio > 0) {
      p.second = sentences[++i];
    } else {
      p.second = p.first;
      p.label = 1;
    }
    ++i;
    batch.push_back(std::move(p));
    if (static_cast<int64_t>(batch.size()) >= batch_size) {
      pairs.insert(pairs.end(), batch.begin(), batch.end());
      batch.clear();
    }
  }
  return pairs;  // incomplete last batch dropped, as ST's loader does
}

NEGATRON_REGISTER_LOSS("ContrastiveTensionLoss", make_ct);
NEGATRON_REGISTER_LOSS("ContrastiveTensionLossInBatchNegatives", make_ct_in_batch);

}  // namespace negatron::losses
