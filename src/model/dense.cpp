#include "model/dense.h"

#include "common/check.h"
#include "model/safetensors.h"

namespace negatron::model {
namespace {

constexpr std::pair<const char*, const char*> kActivations[] = {
    {"torch.nn.modules.activation.Tanh", "tanh"},       {"torch.nn.modules.linear.Identity", "identity"},
    {"torch.nn.modules.activation.ReLU", "relu"},       {"torch.nn.modules.activation.GELU", "gelu"},
    {"torch.nn.modules.activation.Sigmoid", "sigmoid"}, {"torch.nn.modules.activation.SiLU", "silu"},
};

const char* short_activation(const std::string& path, const std::string& origin) {
  for (const auto& [full, name] : kActivations) {
    if (path == full) return name;
  }
  NEG_FAIL(origin, ": unsupported activation_function '", path,
           "' (supported: Tanh, Identity, ReLU, GELU, Sigmoid, SiLU from torch.nn)");
}

}  // namespace

DenseOptions DenseOptions::from_json(const nlohmann::json& json, const std::string& origin) {
  NEG_CHECK(json.is_object() && json.contains("in_features") && json.contains("out_features"), origin,
            ": Dense config needs in_features and out_features");
  DenseOptions o;
  o.in_features = json.at("in_features").get<int64_t>();
  o.out_features = json.at("out_features").get<int64_t>();
  o.bias = json.value("bias", true);
  o.activation_function = json.value("activation_function", o.activation_function);
  o.use_residual = json.value("use_residual", false);
  short_activation(o.activation_function, origin);
  return o;
}

nlohmann::json DenseOptions::to_json() const {
  nlohmann::json json{{"in_features", in_features}, {"out_features", out_features}, {"bias", bias},
                      {"activation_function", activation_function}};
  if (use_residual) json["use_residual"] = true;
  return json;
}

Dense::Dense(DenseOptions options) : options_(std::move(options)) {
  linear_ = register_module(
      "linear", torch::nn::Linear(torch::nn::LinearOptions(options_.in_features, options_.out_features).bias(options_.bias)));
  if (options_.use_residual && options_.in_features != options_.out_features) {
    residual_ = register_module(
        "residual", torch::nn::Linear(torch::nn::LinearOptions(options_.in_features, options_.out_features).bias(false)));
  }
}

at::Tensor Dense::forward(const at::Tensor& x) {
  const std::string activation = short_activation(options_.activation_function, "Dense");
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
