#pragma once
// Dropout whose CPU masks are drawn in parallel. ATen's CPU dropout draws its Bernoulli mask on one
// thread from the default generator's Mersenne twister (the bernoulli_ kernel is serial), which on
// a 2-core training run was 9% of a long-text step with the other core idle. Here each dropout call
// takes one 64-bit seed from the default CPU generator and element i keeps its value when a
// counter-based hash of (seed, i) falls below 1 - p: every thread count gives the same mask, and
// the generator state (saved in checkpoints, replayed by GradCache) still determines it. Only the
// bool mask is kept for backward (ATen keeps a float one). Off the CPU, ATen's dropout is used.
#include <ATen/ATen.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

namespace negatron::model {

/// x with each element zeroed with probability p and the rest scaled by 1 / (1 - p) when `training`;
/// x itself otherwise. Differentiable.
at::Tensor parallel_dropout(const at::Tensor& x, double p, bool training);

/// model::parallel_dropout as a module (a drop-in for torch::nn::Dropout: follows train() / eval()).
class DropoutImpl : public torch::nn::Cloneable<DropoutImpl> {
 public:
  explicit DropoutImpl(double p = 0.5) : p_(p) {}
  void reset() override {}
  at::Tensor forward(const at::Tensor& x) { return parallel_dropout(x, p_, is_training()); }
  double p() const { return p_; }

 private:
  double p_;
};
TORCH_MODULE(Dropout);

}  // namespace negatron::model
