#pragma once
// MarginMSELoss: distills a cross-encoder's margins: for each negative k, the student margin
// sim(q, p) - sim(q, n_k) is regressed (MSE, mean over all entries) onto the teacher's margin.
// Requirements: teacher scores per (query, positive, negatives) row.
// Inputs: (query, positive, negative_1, ..., negative_n) | [B] or [B, n] teacher margins, or [B, n + 1]
//   teacher scores (positive first; margins are taken as score_pos - score_neg_k).
// Params: similarity_fct ("pairwise_dot_score"; also "pairwise_cos_sim", ...).
// Relations: DistillKLDivLoss distills the score distribution instead of margins.
// Reference: Hofstätter et al. 2020 (arXiv:2010.02666);
//   sentence_transformers/sentence_transformer/losses/margin_mse.py (ST 6.0.1).
#include <ATen/ATen.h>

#include <vector>

namespace negatron::losses {

using PairwiseScoreFn = at::Tensor (*)(const at::Tensor&, const at::Tensor&);
at::Tensor margin_mse_loss(const std::vector<at::Tensor>& columns, at::Tensor labels, PairwiseScoreFn similarity);

}  // namespace negatron::losses
