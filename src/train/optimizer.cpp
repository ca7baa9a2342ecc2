#include "train/optimizer.h"

#include <cmath>

#include "common/check.h"

namespace negatron::train {

bool exempt_from_weight_decay(const std::string& name) {
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends_with("bias") || name.find("LayerNorm") != std::string::npos ||
         name.find("layer_norm") != std::string::npos || ends_with("norm.weight");
}

std::unique_ptr<torch::optim::AdamW> make_adamw(const std::vector<NamedParameter>& params, const TrainingOptions& o) {
  std::vector<at::Tensor> decayed, exempt;
  for (const auto& p : params) {
    if (!p.tensor.requires_grad()) continue;
    (exempt_from_weight_decay(p.name) ? exempt : decayed).push_back(p.tensor);
  }
  NEG_CHECK(!decayed.empty() || !exempt.empty(), "no trainable parameters (everything is frozen?)");
  auto options = [&](double decay) {
    return std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(o.learning_rate)
                                                            .betas({o.adam_beta1, o.adam_beta2})
                                                            .eps(o.adam_epsilon)
                                                            .weight_decay(decay));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decayed, options(o.weight_decay));
  groups.emplace_back(exempt, options(0.0));
  return std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(o.learning_rate));
}

double lr_factor(const std::string& schedule, int64_t step, int64_t total, int64_t warmup) {
  if (schedule == "constant") return 1.0;
  if (step < warmup) return static_cast<double>(step) / std::max<int64_t>(1, warmup);
  if (schedule == "constant_with_warmup") return 1.0;
  const double progress = static_cast<double>(step - warmup) / std::max<int64_t>(1, total - warmup);
  if (schedule == "linear") return std::max(0.0, 1.0 - progress);
  if (schedule == "cosine") return std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * progress)));
  NEG_FAIL("unknown lr_scheduler_type '", schedule, "'");
}

int64_t warmup_steps(const TrainingOptions& o, int64_t total_steps) {
  if (o.warmup_steps > 0) return o.warmup_steps;
  return static_cast<int64_t>(std::ceil(o.warmup_ratio * static_cast<double>(total_steps)));
}

void set_learning_rate(torch::optim::AdamW& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) {
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  }
}

}  // namespace negatron::train
