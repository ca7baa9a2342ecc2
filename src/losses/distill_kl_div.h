#pragma once
// DistillKLDivLoss: distills a teacher's score distribution over the candidates of each query:
// KL(softmax(teacher / T_t) || softmax(student / T_s)) averaged over queries ("batchmean"), times
// T_s^2 (keeps gradient scale independent of the temperature, Hinton et al. 2015).
// Requirements: teacher scores per (query, candidate) and >= 2 candidates per query.
// Inputs: (query, positive, negative_1, ..., negative_n) | [B, n + 1] teacher scores.
// Params: similarity_fct ("pairwise_dot_score"), temperature (1.0), student_temperature and
//   teacher_temperature (null: temperature); all temperatures positive and finite.
// Relations: MarginMSELoss distills margins instead of distributions.
// Reference: Lin et al. 2020 (arXiv:2010.11386);
//   sentence_transformers/sentence_transformer/losses/distill_kl_div.py (ST 6.0.1).
#include <ATen/ATen.h>

#include <vector>

namespace negatron::losses {

struct DistillKLDivOptions {
  double student_temperature = 1.0;
  double teacher_temperature = 1.0;
};

using PairwiseScore = at::Tensor (*)(const at::Tensor&, const at::Tensor&);
at::Tensor distill_kl_div_loss(const std::vector<at::Tensor>& columns, const at::Tensor& teacher_scores,
                               PairwiseScore similarity, const DistillKLDivOptions& options);

}  // namespace negatron::losses
