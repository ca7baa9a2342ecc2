#pragma once
// CoSENTLoss: a ranking loss on pair scores. With s_i = scale * sim(a_i, b_i), every two pairs with
// label_i < label_j add a term: loss = log(1 + sum over (i, j) with label_i < label_j of exp(s_i - s_j)).
// Requirements: pairs with float similarity labels (only their order matters).
// Inputs: (sentence_A, sentence_B) pairs | float similarity score.
// AnglELoss (registered from this file) is CoSENT with similarity_fct = pairwise_angle_sim; it also
// takes (anchor, positive, negative_1, ...) without labels: rows become (anchor, positive) = 1 and
// (anchor, negative_k) = 0 pairs, as ST 6 does.
// Relations: a drop-in for CosineSimilarityLoss with usually better results.
// Distributed: the loss ranks every pair of the batch against every other, so with
//   gather_across_devices the pair scores (with gradient) and labels of all ranks are gathered and
//   each rank computes the whole global-batch loss (equal to one process on the global batch).
// Reference: Su 2022 (CoSENT), Li & Li 2023 (AnglE, arXiv:2309.12871);
//   sentence_transformers/sentence_transformer/losses/{cosent,angle}.py (ST 6.0.1).
#include <ATen/ATen.h>

#include <string>

#include "losses/similarity.h"

namespace negatron::losses {

struct CoSENTOptions {
  double scale = 20.0;
  std::string similarity_fct = "pairwise_cos_sim";
  template <class V>
  void visit(V& v) {
    v("scale", scale, "multiplies the pair similarities (1 / temperature)");
    v("similarity_fct", similarity_fct, "pairwise_cos_sim | pairwise_dot_score | ... | pairwise_angle_sim");
  }
  void validate() const;
};

struct AnglEOptions {
  double scale = 20.0;
  template <class V>
  void visit(V& v) {
    v("scale", scale, "multiplies the pair angle similarities (1 / temperature)");
  }
};

/// |sum(re, im)| of the complex division of x by y in polar-normalized form (ST util.pairwise_angle_sim).
at::Tensor pairwise_angle_sim(const at::Tensor& x, const at::Tensor& y);

/// CoSENTLoss's similarity_fct: pairwise_angle_sim (alias angle) or a pairwise_similarity_by_name name.
SimilarityFn cosent_similarity(const std::string& name);
/// The CoSENT logsumexp on already scaled pair scores [N] and labels [N].
at::Tensor cosent_from_scores(const at::Tensor& scaled_scores, const at::Tensor& labels);

}  // namespace negatron::losses
