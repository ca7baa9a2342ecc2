#pragma once
// AdamW with decoupled weight decay, not applied to biases and LayerNorm weights (as transformers'
// Trainer does), and the learning-rate schedules: linear, cosine, constant, constant_with_warmup.
#include <torch/optim/adamw.h>

#include <memory>
#include <string>
#include <vector>

#include "train/options.h"

namespace negatron::train {

struct NamedParameter {
  std::string name;
  at::Tensor tensor;
};

/// Two parameter groups: [decayed, not decayed]. Frozen parameters (requires_grad false) are left out.
std::unique_ptr<torch::optim::AdamW> make_adamw(const std::vector<NamedParameter>& params, const TrainingOptions& o);

/// True for names that transformers exempts from weight decay (biases, LayerNorm/norm weights).
bool exempt_from_weight_decay(const std::string& name);

/// Multiplier of the peak learning rate at optimizer step `step` (0-based) of `total`.
double lr_factor(const std::string& schedule, int64_t step, int64_t total, int64_t warmup);

/// Warmup steps from warmup_steps or warmup_ratio.
int64_t warmup_steps(const TrainingOptions& o, int64_t total_steps);

void set_learning_rate(torch::optim::AdamW& optimizer, double lr);

}  // namespace negatron::train
