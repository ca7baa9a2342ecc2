#include "model/dense.h"

#include "common/check.h"
#include "model/safetensors.h"

namespace negatron::model {

Dense::Dense(DenseOptions options) : options_(std::move(options)) {
  linear_ = register_module(
      "linear", torch::nn::Linear(torch::nn::LinearOptions(options_.in_features, options_.out_features).bias(options_.bias)));
  if (options_.use_residual && options_.in_features != options_.out_features) {
    residual_ = register_module(
        "residual", torch::nn::Linear(torch::nn::LinearOptions(options_.in_features, options_.out_features).bias(false)));
  }
}

at::Tensor Dense::forward(const at::Tensor& x) {
  const std::string activation = dense_activation_name(options_.activation_function, "Dense");
  at::Tensor y = linear_(x);
  if (activation == "tanh") y = at::tanh(y);
  else if (activation == "relu") y = at::relu(y);
  else if (activation == "gelu") y = at::gelu(y);
  else if (activation == "sigmoid") y = at::sigmoid(y);
  else if (activation == "silu") y = at::silu(y);
  if (options_.use_residual) y = y + (residual_ ? residual_(x) : x);
  return y;
}

void Dense::load(const std::string& dir) {
  const std::string path = dir + "/model.safetensors";
  TensorMap weights = load_safetensors(path);
  torch::NoGradGuard no_grad;
  for (auto& item : named_parameters()) {
    auto it = weights.find(item.key());
    NEG_CHECK(it != weights.end(), path, ": missing tensor '", item.key(), "'");
    NEG_CHECK(it->second.sizes() == item.value().sizes(), path, ": tensor '", item.key(), "' has shape ",
              it->second.sizes(), ", expected ", item.value().sizes());
    item.value().copy_(it->second.to(item.value().dtype()));
  }
}

void Dense::save(const std::string& dir) const {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& item : named_parameters()) tensors.emplace_back(item.key(), item.value());
  save_safetensors(dir + "/model.safetensors", tensors);
}

}  // namespace negatron::model
