#include "losses/distill_kl_div.h"

#include <ATen/core/Reduction.h>

#include <cmath>

#include "losses/registry.h"
#include "losses/similarity.h"

namespace negatron::losses {
namespace {

class DistillKLDivLoss : public Loss {
 public:
  DistillKLDivLoss(PairwiseScore similarity, DistillKLDivOptions options) : similarity_(similarity), options_(options) {
    spec_ = {"DistillKLDivLoss", 3, -1, LabelKind::kFloat32Vector,
             "(query, positive, negative_1, ..., negative_n) | [B, n + 1] teacher scores"};
  }
  const LossSpec& spec() const override { return spec_; }
  at::Tensor compute(const EmbeddingBatch& batch) override {
    validate(batch);
    NEG_CHECK(batch.labels.size(1) + 1 == static_cast<int64_t>(batch.columns.size()), "DistillKLDivLoss: ",
              batch.columns.size() - 1, " candidate column(s) need [B, ", batch.columns.size() - 1,
              "] teacher scores, got ", batch.labels.sizes(), " (Inputs: ", spec_.inputs, ")");
    return distill_kl_div_loss(batch.columns, batch.labels, similarity_, options_);
  }

 private:
  LossSpec spec_;
  PairwiseScore similarity_;
  DistillKLDivOptions options_;
};

double read_temperature(ParamReader& params, const std::string& key, double fallback) {
  const nlohmann::json value = params.get_json(key, nullptr);
  if (value.is_null()) return fallback;
  NEG_CHECK(value.is_number() && value.get<double>() > 0 && std::isfinite(value.get<double>()),
            "DistillKLDivLoss: parameter '", key, "' must be a positive finite number, got ", value.dump());
  return value.get<double>();
}

std::unique_ptr<Loss> make_distill_kl_div(const LossArgs& args) {
  ParamReader params("DistillKLDivLoss", args.params);
  const PairwiseScore similarity = pairwise_similarity_by_name(
      params.get<std::string>("similarity_fct", "pairwise_dot_score"), "DistillKLDivLoss: parameter 'similarity_fct'");
  const double temperature = read_temperature(params, "temperature", 1.0);
  DistillKLDivOptions options;
  options.student_temperature = read_temperature(params, "student_temperature", temperature);
  options.teacher_temperature = read_temperature(params, "teacher_temperature", temperature);
  params.finish();
  return std::make_unique<DistillKLDivLoss>(similarity, options);
}

}  // namespace

at::Tensor distill_kl_div_loss(const std::vector<at::Tensor>& columns, const at::Tensor& teacher_scores,
                               PairwiseScore similarity, const DistillKLDivOptions& options) {
  std::vector<at::Tensor> scores;
  for (size_t k = 1; k < columns.size(); ++k) scores.push_back(similarity(columns[0], columns[k]));
  const at::Tensor student_log_probs = at::log_softmax(at::stack(scores, 1) / options.student_temperature, 1);
  const at::Tensor teacher_probs = at::softmax(teacher_scores.detach() / options.teacher_temperature, 1)
                                       .to(student_log_probs.scalar_type());
  const at::Tensor kl = at::kl_div(student_log_probs, teacher_probs, at::Reduction::Sum) / columns[0].size(0);
  return kl * (options.student_temperature * options.student_temperature);
}

NEGATRON_REGISTER_LOSS("DistillKLDivLoss", make_distill_kl_div);

}  // namespace negatron::losses
