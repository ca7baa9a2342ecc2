#pragma once
// DistillKLDivLoss: distills a teacher's score distribution over the candidates of each query:
// KL(softmax(teacher / T_t) || softmax(student / T_s)) averaged over queries ("batchmean"), times
// T_s^2 (keeps gradient scale independent of the temperature, Hinton et al. 2015).
// Requirements: teacher scores per (query, candidate) and >= 2 candidates per query.
// Inputs: (query, positive, negative_1, ..., negative_n) | [B, n + 1] teacher scores.
// Relations: MarginMSELoss distills margins instead of distributions.
// Reference: Lin et al. 2020 (arXiv:2010.11386);
//   sentence_transformers/sentence_transformer/losses/distill_kl_div.py (ST 6.0.1).
#include <ATen/ATen.h>

#include <optional>
#include <string>
#include <vector>

namespace negatron::losses {

struct DistillKLDivOptions {
  std::string similarity_fct = "pairwise_dot_score";
  double temperature = 1.0;
  std::optional<double> student_temperature;
  std::optional<double> teacher_temperature;
  template <class V>
  void visit(V& v) {
    v("similarity_fct", similarity_fct, "pairwise_dot_score | pairwise_cos_sim | ... (student scores)");
    v("temperature", temperature, "divides student and teacher scores (> 0)");
    v("student_temperature", student_temperature, "divides the student scores (null: temperature)");
    v("teacher_temperature", teacher_temperature, "divides the teacher scores (null: temperature)");
  }
  void validate() const;
};

/// columns: (query, candidates...); labels: [B, candidates] teacher scores.
at::Tensor distill_kl_div_loss(const std::vector<at::Tensor>& columns, const at::Tensor& teacher_scores,
                               const DistillKLDivOptions& options);

}  // namespace negatron::losses
