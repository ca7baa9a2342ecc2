#pragma once
// ContrastiveTensionLoss (CT) and ContrastiveTensionLossInBatchNegatives: unsupervised losses on
// two independent copies of the model. model1 is a copy made at construction (trained, not
// saved: its parameters are the loss's parameters()); model2 is the model being trained.
//   CT:             BCE-with-logits (sum) of dot(model1(s1), model2(s2)) against label 1 for
//                   identical sentences, 0 otherwise.
//   In-batch:       scores = similarity(model1(s), model2(s)) * exp(logit_scale), the mean of the
//                   cross-entropies of rows and columns against the diagonal; logit_scale starts
//                   at ln(scale) and is trained (a parameter of the loss).
// Inputs: CT: (sentence_1, sentence_2) pairs | label float (optional at model level: 1 when the
//   pair's non-padding tokens are equal); in-batch: (sentence) | none.
//   Embedding level: columns = {model1 embeddings, model2 embeddings} (in-batch: of the same texts).
// Data (CT): batches of batch_size pairs, every pos_neg_ratio-th pair (starting with the first)
//   an identical pair (s, s) with label 1, the others (s_i, s_i+1) of consecutive shuffled
//   sentences with label 0; each sentence is used once per epoch. batch_size must be divisible by
//   pos_neg_ratio (default 8). make_contrastive_tension_pairs() builds them.
// Distributed: no gathering (per-rank pairs, as in ST).
// Reference: Carlsson et al. 2021; sentence_transformers/.../losses/contrastive_tension.py.
#include <memory>
#include <string>
#include <vector>

#include "losses/loss.h"
#include "losses/similarity.h"

namespace negatron::losses {

at::Tensor contrastive_tension_loss(const at::Tensor& reps1, const at::Tensor& reps2, const at::Tensor& labels);
at::Tensor contrastive_tension_in_batch_loss(const at::Tensor& reps1, const at::Tensor& reps2,
                                             const at::Tensor& logit_scale, SimilarityFn similarity);

/// A copy of `model` (same weights, device and mode) that shares nothing with it.
std::shared_ptr<model::SentenceEncoder> copy_encoder(model::SentenceEncoder& model);

class ContrastiveTensionLoss : public Loss {
 public:
  explicit ContrastiveTensionLoss(std::shared_ptr<model::SentenceEncoder> model1);
  const LossSpec& spec() const override { return spec_; }
  at::Tensor compute(const EmbeddingBatch& batch) override;
  at::Tensor forward(model::SentenceEncoder& model, const model::Batch& batch) override;
  std::vector<at::Tensor> parameters() override;

 private:
  std::shared_ptr<model::SentenceEncoder> model1_;
  LossSpec spec_;
};

class ContrastiveTensionLossInBatchNegatives : public Loss {
 public:
  ContrastiveTensionLossInBatchNegatives(std::shared_ptr<model::SentenceEncoder> model1, double scale,
                                         const std::string& similarity_fct);
  const LossSpec& spec() const override { return spec_; }
  at::Tensor compute(const EmbeddingBatch& batch) override;
  at::Tensor forward(model::SentenceEncoder& model, const model::Batch& batch) override;
  std::vector<at::Tensor> parameters() override;

 private:
  std::shared_ptr<model::SentenceEncoder> model1_;
  at::Tensor logit_scale_;
  SimilarityFn similarity_;
  LossSpec spec_;
};

struct ContrastiveTensionPair {
  std::string first, second;
  float label = 0;
};
/// One epoch of CT pairs from `sentences` shuffled with `seed` (see Data above).
std::vector<ContrastiveTensionPair> make_contrastive_tension_pairs(std::vector<std::string> sentences,
                                                                   int64_t batch_size, int64_t pos_neg_ratio,
                                                                   uint64_t seed);

}  // namespace negatron::losses
