#pragma once
// MarginMSELoss: distills a cross-encoder's margins: for each negative k, the student margin
// sim(q, p) - sim(q, n_k) is regressed (MSE, mean over all entries) onto the teacher's margin.
// Requirements: teacher scores per (query, positive, negatives) row.
// Inputs: (query, positive, negative_1, ..., negative_n) | [B] or [B, n] teacher margins, or [B, n + 1]
//   teacher scores (positive first; margins are taken as score_pos - score_neg_k).
// Relations: DistillKLDivLoss distills the score distribution instead of margins.
// Reference: Hofstätter et al. 2020 (arXiv:2010.02666);
//   sentence_transformers/sentence_transformer/losses/margin_mse.py (ST 6.0.1).
#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace negatron::losses {

struct MarginMSEOptions {
  std::string similarity_fct = "pairwise_dot_score";
  template <class V>
  void visit(V& v) {
    v("similarity_fct", similarity_fct, "pairwise_dot_score | pairwise_cos_sim | ... (pairwise similarity)");
  }
  void validate() const;
};

/// columns: (query, positive, negatives...); labels: margins or scores, see Inputs.
at::Tensor margin_mse_loss(const std::vector<at::Tensor>& columns, const at::Tensor& labels,
                           const MarginMSEOptions& options);

}  // namespace negatron::losses
