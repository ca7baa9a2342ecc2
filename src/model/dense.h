#pragma once
// sentence-transformers Dense: linear layer + activation (+ optional residual) on the sentence
// embedding. Saved as <dir>/config.json + <dir>/model.safetensors with keys linear.weight/bias.
#include <torch/nn/modules/linear.h>

#include "model/module_config.h"

namespace negatron::model {

class Dense : public torch::nn::Module {
 public:
  explicit Dense(DenseOptions options);
  at::Tensor forward(const at::Tensor& x);
  const DenseOptions& options() const { return options_; }
  void load(const std::string& dir);
  void save(const std::string& dir) const;

 private:
  DenseOptions options_;
  torch::nn::Linear linear_{nullptr}, residual_{nullptr};
};

}  // namespace negatron::model
