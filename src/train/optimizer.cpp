#include "train/optimizer.h"

#include <sys/stat.h>
#include <torch/serialize.h>

#include <cmath>

#include "common/atomic_file.h"
#include "common/check.h"
#include "common/host_read.h"
#include "train/torch_file.h"

namespace negatron::train {

bool exempt_from_weight_decay(const std::string& name) {
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends_with("bias") || name.find("LayerNorm") != std::string::npos ||
         name.find("layer_norm") != std::string::npos || ends_with("norm.weight");
}

AdamW::AdamW(const std::vector<NamedParameter>& params, const TrainingOptions& o)
    : beta1_(o.adam_beta1), beta2_(o.adam_beta2), eps_(o.adam_epsilon) {
  groups_.resize(2);
  groups_[0].weight_decay = o.weight_decay;
  groups_[1].weight_decay = 0.0;
  for (const auto& p : params) {
    if (!p.tensor.requires_grad()) continue;
    Slot slot;
    slot.param = p.tensor;
    slot.exp_avg = at::zeros_like(p.tensor, at::MemoryFormat::Preserve);
    slot.exp_avg_sq = at::zeros_like(p.tensor, at::MemoryFormat::Preserve);
    slot.step = at::zeros({}, p.tensor.options().dtype(at::kFloat));
    groups_[exempt_from_weight_decay(p.name) ? 1 : 0].slots.push_back(std::move(slot));
  }
  NEG_CHECK(!groups_[0].slots.empty() || !groups_[1].slots.empty(),
            "no trainable parameters (everything is frozen?)");
}

void AdamW::zero_grad() {
  for (auto& group : groups_) {
    for (auto& slot : group.slots) slot.param.mutable_grad().reset();
  }
}

void AdamW::step(double lr, const at::Tensor& found_inf) {
  at::NoGradGuard no_grad;
  for (auto& group : groups_) {
    std::vector<at::Tensor> params, grads, exp_avgs, exp_avg_sqs, steps;
    for (auto& slot : group.slots) {
      if (!slot.param.grad().defined()) continue;  // as torch: no gradient, no update, no step count
      params.push_back(slot.param);
      grads.push_back(slot.param.grad());
      exp_avgs.push_back(slot.exp_avg);
      exp_avg_sqs.push_back(slot.exp_avg_sq);
      steps.push_back(slot.step);
    }
    if (params.empty()) continue;
    // torch.optim.AdamW(fused=True): count the step first, take it back where it was skipped.
    at::_foreach_add_(steps, 1);
    std::optional<at::Tensor> inf;
    if (found_inf.defined()) inf = found_inf.to(at::kFloat).reshape({});
    at::_fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, /*max_exp_avg_sqs=*/{}, steps, lr, beta1_, beta2_,
                      group.weight_decay, eps_, /*amsgrad=*/false, /*maximize=*/false, /*grad_scale=*/std::nullopt,
                      inf);
    if (inf) at::_foreach_sub_(steps, std::vector<at::Tensor>(steps.size(), *inf));
  }
}

std::vector<at::Tensor> AdamW::parameters() const {
  std::vector<at::Tensor> out;
  for (const auto& group : groups_) {
    for (const auto& slot : group.slots) out.push_back(slot.param);
  }
  return out;
}

void AdamW::save(const std::string& path) const {
  torch::serialize::OutputArchive archive;
  int64_t i = 0;
  for (const auto& group : groups_) {
    for (const auto& slot : group.slots) {
      const std::string key = std::to_string(i++);
      archive.write("exp_avg." + key, read_to_host(slot.exp_avg));
      archive.write("exp_avg_sq." + key, read_to_host(slot.exp_avg_sq));
      archive.write("step." + key, read_to_host(slot.step));
    }
  }
  archive.write("count", at::tensor(i));
  AtomicFile file(path);  // torch's own file writer ends the process when a write fails
  archive.save_to(file.sink());
  file.commit();
}

void AdamW::load(const std::string& path) {
  struct stat info {};
  NEG_CHECK(::stat(path.c_str(), &info) == 0, path, " is missing (the optimizer state)");
  try {
    load_checked(path);
  } catch (const c10::Error& e) {  // negatron's own errors pass through
    NEG_FAIL(path, ": cannot read the optimizer state: corrupt, truncated, or written for another model (",
             torch_error_summary(e), ")");
  }
}

void AdamW::load_checked(const std::string& path) {
  torch::serialize::InputArchive archive;
  archive.load_from(path);
  at::Tensor count;
  NEG_CHECK(archive.try_read("count", count), path,
            ": not a negatron fused-AdamW state (written by an older negatron? resume from a newer checkpoint)");
  const auto params = parameters();
  NEG_CHECK(count.item<int64_t>() == static_cast<int64_t>(params.size()), path, ": holds ", count.item<int64_t>(),
            " parameter states, the model trains ", params.size(), " (was frozen_parameters or a loss changed?)");
  at::NoGradGuard no_grad;
  int64_t i = 0;
  for (auto& group : groups_) {
    for (auto& slot : group.slots) {
      const std::string key = std::to_string(i++);
      for (auto [name, target] : {std::pair<std::string, at::Tensor*>{"exp_avg", &slot.exp_avg},
                                  {"exp_avg_sq", &slot.exp_avg_sq}, {"step", &slot.step}}) {
        at::Tensor stored;
        archive.read(name + "." + key, stored);
        NEG_CHECK(stored.sizes() == target->sizes(), path, ": ", name, " of parameter ", key, " has shape ",
                  stored.sizes(), ", the parameter's state has ", target->sizes());
        target->copy_(stored);
      }
    }
  }
}

at::Tensor clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  for (const auto& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return at::zeros({}, params.empty() ? at::TensorOptions() : params.front().options());
  const std::vector<at::Tensor> norms = at::_foreach_norm(grads, 2);
  const at::Tensor total = norms.size() == 1 ? norms.front() : at::stack(norms).norm(2);
  if (std::isfinite(max_norm)) {
    const at::Tensor coefficient = at::clamp_max(max_norm / (total + 1e-6), 1.0);
    at::_foreach_mul_(grads, coefficient);
  }
  return total;
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

}  // namespace negatron::train
