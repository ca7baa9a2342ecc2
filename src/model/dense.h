#pragma once
// sentence-transformers Dense: linear layer + activation (+ optional residual) on the sentence
// embedding. Saved as <dir>/config.json + <dir>/model.safetensors with keys linear.weight/bias.
#include <torch/nn/modules/linear.h>

#include <nlohmann/json.hpp>

namespace negatron::model {

struct DenseOptions {
  int64_t in_features = 0;
  int64_t out_features = 0;
  bool bias = true;
  /// Python class path, as sentence-transformers writes it.
  std::string activation_function = "torch.nn.modules.activation.Tanh";
  bool use_residual = false;

  static DenseOptions from_json(const nlohmann::json& json, const std::string& origin);
  nlohmann::json to_json() const;
};

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
