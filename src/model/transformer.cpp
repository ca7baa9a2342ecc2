#include "model/transformer.h"

#include <torch/nn/functional/activation.h>

#include "common/check.h"
#include "common/log.h"
#include "model/bert.h"
#include "model/mpnet.h"

namespace negatron::model {

void TransformerEncoder::load_weights(const TensorMap& weights, const std::string& origin) {
  // Checkpoints of task heads prefix the encoder ("bert.embeddings..."); accept both spellings.
  const std::string prefix = config().model_type + ".";
  auto find = [&](const std::string& key) {
    auto it = weights.find(key);
    return it != weights.end() ? it : weights.find(prefix + key);
  };
  torch::NoGradGuard no_grad;
  size_t used = 0;
  auto copy_into = [&](const std::string& key, at::Tensor& target) {
    auto it = find(key);
    if (it == weights.end()) {
      NEG_CHECK(is_optional_key(key), origin, ": missing tensor '", key, "'");
      log::warn_once("optional:" + key, origin + ": no tensor '" + key + "', keeping its initial value");
      return;
    }
    NEG_CHECK(it->second.sizes() == target.sizes(), origin, ": tensor '", key, "' has shape ", it->second.sizes(),
              ", the model expects ", target.sizes());
    NEG_CHECK(it->second.is_floating_point(), origin, ": tensor '", key, "' is not floating point");
    target.copy_(it->second.to(target.dtype()));
    ++used;
  };
  for (auto& item : named_parameters()) copy_into(item.key(), item.value());
  for (auto& item : named_buffers()) {
    if (!is_optional_key(item.key()) || find(item.key()) != weights.end()) copy_into(item.key(), item.value());
  }
  if (used < weights.size()) {
    std::string unused;
    for (const auto& [key, tensor] : weights) {
      std::string bare = key.rfind(prefix, 0) == 0 ? key.substr(prefix.size()) : key;
      bool known = false;
      for (auto& item : named_parameters()) known = known || item.key() == bare;
      for (auto& item : named_buffers()) known = known || item.key() == bare;
      if (!known && !is_ignorable_key(bare)) unused += (unused.empty() ? "" : ", ") + key;
    }
    if (!unused.empty()) log::warn(origin, ": ignoring tensors the model does not use: ", unused);
  }
}

std::vector<std::pair<std::string, at::Tensor>> TransformerEncoder::state_dict() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& item : named_parameters()) out.emplace_back(item.key(), item.value().detach());
  return out;
}

std::shared_ptr<TransformerEncoder> make_transformer(const TransformerConfig& config) {
  if (config.model_type == "bert") return std::make_shared<BertModel>(config);
  if (config.model_type == "mpnet") return std::make_shared<MPNetModel>(config);
  NEG_FAIL(config.origin, ": unknown architecture model_type='", config.model_type, "' (supported: bert, mpnet)");
}

at::Tensor apply_activation(const std::string& name, const at::Tensor& x) {
  if (name == "gelu") return at::gelu(x);
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") return at::gelu(x, "tanh");
  if (name == "relu") return at::relu(x);
  if (name == "silu" || name == "swish") return at::silu(x);
  if (name == "tanh") return at::tanh(x);
  NEG_FAIL("unsupported hidden_act '", name, "' (supported: gelu, gelu_new, gelu_pytorch_tanh, relu, silu, tanh)");
}

}  // namespace negatron::model
