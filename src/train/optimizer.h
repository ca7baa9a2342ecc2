#pragma once
// AdamW with decoupled weight decay, not applied to biases and LayerNorm weights (as transformers'
// Trainer does), on ATen's fused multi-tensor kernel (_fused_adamw_, CPU and CUDA: one launch per
// parameter group instead of a dozen ops per parameter); gradient clipping on the device; and the
// learning-rate schedules: linear, cosine, constant, constant_with_warmup.
// A step can be skipped on the device: clip_grad_norm returns the total norm as a tensor, the trainer
// turns it (and the loss) into a found-inf flag, and step() honours it inside the kernel, as torch's
// fused AdamW does under GradScaler. Nothing here reads a device value on the host.
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "train/options.h"

namespace negatron::train {

struct NamedParameter {
  std::string name;
  at::Tensor tensor;
};

class AdamW {
 public:
  /// Two parameter groups: decayed, and exempt (exempt_from_weight_decay). Frozen parameters
  /// (requires_grad false) are left out.
  AdamW(const std::vector<NamedParameter>& params, const TrainingOptions& options);

  /// Drops every parameter's gradient (set to none, as torch's default zero_grad does).
  void zero_grad();
  /// One update of every parameter that has a gradient, at learning rate `lr`. `found_inf`: a
  /// one-element float tensor on the parameters' device; nonzero skips the update (moments, weights
  /// and step counts unchanged) without a host read.
  void step(double lr, const at::Tensor& found_inf = {});

  /// Moments and step counts, by parameter position; load checks the count and shapes.
  void save(const std::string& path) const;
  void load(const std::string& path);

  std::vector<at::Tensor> parameters() const;

 private:
  void load_checked(const std::string& path);  // load() minus the naming of torch's errors

  struct Slot {
    at::Tensor param, exp_avg, exp_avg_sq, step;  // step: float32 scalar on the parameter's device
  };
  struct Group {
    std::vector<Slot> slots;
    double weight_decay = 0;
  };
  std::vector<Group> groups_;
  double beta1_, beta2_, eps_;
};

/// True for names that transformers exempts from weight decay (biases, LayerNorm/norm weights).
bool exempt_from_weight_decay(const std::string& name);

/// Scales the gradients of `params` so that their global 2-norm is at most max_norm (infinity: no
/// scaling), as torch.nn.utils.clip_grad_norm_ does, and returns that norm (before scaling) as a
/// 0-dim tensor on the gradients' device. Parameters without a gradient are skipped.
at::Tensor clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm);

/// Multiplier of the peak learning rate at optimizer step `step` (0-based) of `total`.
double lr_factor(const std::string& schedule, int64_t step, int64_t total, int64_t warmup);

/// Warmup steps from warmup_steps or warmup_ratio.
int64_t warmup_steps(const TrainingOptions& o, int64_t total_steps);

}  // namespace negatron::train
