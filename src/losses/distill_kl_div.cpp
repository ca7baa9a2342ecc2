#include "losses/distill_kl_div.h"

#include <ATen/core/Reduction.h>

#include <cmath>

#include "common/check.h"
#include "losses/pure_loss.h"
#include "losses/similarity.h"

namespace negatron::losses {
namespace {

const char* kInputs = "(query, positive, negative_1, ..., negative_n) | [B, n + 1] teacher scores";

void check_temperature(const char* key, double value) {
  NEG_CHECK(value > 0 && std::isfinite(value), "parameter '", key, "' must be a positive finite number, got ", value);
}

}  // namespace

void DistillKLDivOptions::validate() const {
  pairwise_similarity_by_name(similarity_fct, "parameter 'similarity_fct'");
  check_temperature("temperature", temperature);
  if (student_temperature) check_temperature("student_temperature", *student_temperature);
  if (teacher_temperature) check_temperature("teacher_temperature", *teacher_temperature);
}

at::Tensor distill_kl_div_loss(const std::vector<at::Tensor>& columns, const at::Tensor& teacher_scores,
                               const DistillKLDivOptions& options) {
  NEG_CHECK(teacher_scores.size(1) + 1 == static_cast<int64_t>(columns.size()), "DistillKLDivLoss: ",
            columns.size() - 1, " candidate column(s) need [B, ", columns.size() - 1, "] teacher scores, got ",
            teacher_scores.sizes(), " (Inputs: ", kInputs, ")");
  const SimilarityFn similarity = pairwise_similarity_by_name(options.similarity_fct, "similarity_fct");
  const double student_temperature = options.student_temperature.value_or(options.temperature);
  const double teacher_temperature = options.teacher_temperature.value_or(options.temperature);
  std::vector<at::Tensor> scores;
  for (size_t k = 1; k < columns.size(); ++k) scores.push_back(similarity(columns[0], columns[k]));
  const at::Tensor student_log_probs = at::log_softmax(at::stack(scores, 1) / student_temperature, 1);
  const at::Tensor teacher_probs =
      at::softmax(teacher_scores.detach() / teacher_temperature, 1).to(student_log_probs.scalar_type());
  const at::Tensor kl = at::kl_div(student_log_probs, teacher_probs, at::Reduction::Sum) / columns[0].size(0);
  return kl * (student_temperature * student_temperature);
}

NEGATRON_REGISTER_PURE_LOSS({"DistillKLDivLoss", 3, -1, LabelKind::kFloat32Vector, kInputs}, distill_kl_div_loss);

}  // namespace negatron::losses
