#pragma once
// BERT encoder as Hugging Face's BertModel: word + position + token-type embeddings, post-LayerNorm
// layers with GELU feed-forward, key-padding attention mask. Module and parameter names follow the
// HF state dict ("encoder.layer.0.attention.self.query.weight"), so weights load by name.
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/normalization.h>

#include "model/dropout.h"
#include "model/token_packing.h"
#include "model/transformer.h"

namespace negatron::model {

/// Multi-head scaled-dot-product self-attention, shared by BERT-style layers. The projections are
/// registered under the caller's names (BERT: query/key/value; MPNet: q/k/v plus the output o).
/// `bias` is an optional additive attention bias [B or 1, H, T, T] (MPNet's relative positions).
class SelfAttention : public torch::nn::Module {
 public:
  SelfAttention(const TransformerConfig& config, const char* q, const char* k, const char* v,
                const char* o = nullptr);
  /// softmax(QK^T/sqrt(d) + bias, masked by key_mask) V, heads merged back to [B, T, D],
  /// then the output projection when one was named. key_mask may also be a ready additive float
  /// mask broadcastable to [B, H, T, T] (bias and padding folded in once per forward, as MPNet does).
  /// With `packing`, x and the result are packed [N, D] (only real tokens); without, padded [B, T, D].
  at::Tensor forward(const at::Tensor& x, const at::Tensor& key_mask, const at::Tensor& bias = {},
                     const TokenPacking* packing = nullptr);

 private:
  int64_t heads_;
  double dropout_;
  torch::nn::Linear query_{nullptr}, key_{nullptr}, value_{nullptr}, out_{nullptr};
};

/// at::scaled_dot_product_attention(q, k, v, mask, dropout_p). On the CPU with dropout its math path
/// is written out (scores, mask, softmax, dropout, values: what ATen runs there too) so that the
/// probabilities' dropout is parallel_dropout instead of ATen's serial Bernoulli draw.
at::Tensor dot_product_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                                 double dropout_p);

/// The post-LayerNorm feed-forward block of BERT-style layers, registered on `layer` under HF's
/// names: intermediate.dense, output.dense, output.LayerNorm.
struct FeedForward {
  FeedForward() = default;
  FeedForward(torch::nn::Module& layer, const TransformerConfig& config);
  /// LayerNorm(dropout(output(act(intermediate(x)))) + x).
  at::Tensor forward(const at::Tensor& x, Dropout& dropout);

  std::string act;
  torch::nn::Linear intermediate{nullptr}, output{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};

class BertLayer : public torch::nn::Module {
 public:
  explicit BertLayer(const TransformerConfig& config);
  /// x: packed [N, D] with `packing`, else padded [B, T, D]; the result has x's layout.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& key_mask, const TokenPacking* packing = nullptr);

 private:
  std::shared_ptr<SelfAttention> attn_;
  torch::nn::Linear attention_dense_{nullptr};
  torch::nn::LayerNorm attention_norm_{nullptr};
  FeedForward ffn_;
  Dropout dropout_{nullptr};
};

class BertModel : public TransformerEncoder {
 public:
  explicit BertModel(const TransformerConfig& config);
  EncoderOutput forward(const TokenBatch& batch, int64_t num_layers = 0, bool with_hidden_states = false) override;
  const TransformerConfig& config() const override { return config_; }
  bool is_ignorable_key(const std::string& key) const override;
  bool is_optional_key(const std::string& key) const override;

 private:
  TransformerConfig config_;
  torch::nn::Embedding word_{nullptr}, position_{nullptr}, token_type_{nullptr};
  torch::nn::LayerNorm embedding_norm_{nullptr};
  Dropout dropout_{nullptr};
  std::vector<std::shared_ptr<BertLayer>> layers_;
  torch::nn::Linear pooler_{nullptr};
};

/// A container module that only exists to reproduce HF's nesting of parameter names.
std::shared_ptr<torch::nn::Module> add_group(torch::nn::Module& parent, const std::string& name);
/// LayerNorm over hidden_size with the config's eps.
torch::nn::LayerNorm make_norm(const TransformerConfig& config);

/// Boolean key mask [B, 1, 1, T] (true = attend) from an attention_mask [B, T].
at::Tensor make_key_mask(const at::Tensor& attention_mask);

}  // namespace negatron::model
