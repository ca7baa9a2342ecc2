#pragma once
// The interface every transformer architecture implements (BERT, MPNet, ...), and the factory that
// picks one from config.json's model_type. Parameter names equal Hugging Face's state-dict keys, so
// loading and saving model.safetensors is a name-by-name copy.
#include <torch/nn/module.h>

#include <memory>
#include <vector>

#include "model/safetensors.h"
#include "model/token_batch.h"
#include "model/transformer_config.h"

namespace negatron::model {

struct EncoderOutput {
  at::Tensor token_embeddings;             // [B, T, D]: last computed layer
  std::vector<at::Tensor> hidden_states;   // with_hidden_states only: embeddings output, then one per layer
};

class TransformerEncoder : public torch::nn::Module {
 public:
  /// num_layers <= 0 runs every layer; k > 0 runs only the first k (AdaptiveLayerLoss).
  /// with_hidden_states: also return every layer's output padded to [B, T, D] (layers run on packed
  /// tokens, so each costs an unpack; only AdaptiveLayerLoss asks).
  virtual EncoderOutput forward(const TokenBatch& batch, int64_t num_layers = 0, bool with_hidden_states = false) = 0;
  virtual const TransformerConfig& config() const = 0;
  /// Copies weights from a safetensors map; missing or misshaped tensors throw naming `origin`.
  void load_weights(const TensorMap& weights, const std::string& origin);
  /// State dict in HF naming, for model.safetensors.
  std::vector<std::pair<std::string, at::Tensor>> state_dict() const;
  /// Keys that HF checkpoints may hold but we do not need (skipped on load without error).
  virtual bool is_ignorable_key(const std::string& key) const { return false; }
  /// Keys we own but that a checkpoint may lack (initialised instead, with a warning).
  virtual bool is_optional_key(const std::string& key) const { return false; }
};

std::shared_ptr<TransformerEncoder> make_transformer(const TransformerConfig& config);

/// Applies an activation by its HF name (gelu, gelu_new, gelu_pytorch_tanh, relu, silu, tanh).
at::Tensor apply_activation(const std::string& name, const at::Tensor& x);

}  // namespace negatron::model
