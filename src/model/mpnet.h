#pragma once
// MPNet encoder as Hugging Face's MPNetModel: word + position embeddings (no token types), with
// position ids counted from past the padding index; one relative-position attention bias, computed
// from bucketed query-key distances and shared by every layer; post-LayerNorm layers with GELU.
// Module and parameter names follow the HF state dict ("encoder.layer.0.attention.attn.q.weight").
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "model/bert.h"
#include "model/transformer.h"

namespace negatron::model {

/// MPNet's padding index. HF hard-codes it (not config.pad_token_id): position ids start after it,
/// and tokens equal to it get its (zero-trained) position.
constexpr int64_t kMPNetPaddingIndex = 1;

/// Position ids as MPNet computes them from input ids: real tokens count 2, 3, ... and tokens equal
/// to the padding index keep position 1.
at::Tensor mpnet_position_ids(const at::Tensor& input_ids);

/// T5-style buckets of relative positions (key minus query) as MPNet uses them: half the buckets for
/// each direction, exact below num_buckets/4, logarithmic up to max_distance, clamped beyond.
at::Tensor mpnet_relative_position_bucket(const at::Tensor& relative_position, int64_t num_buckets = 32,
                                          int64_t max_distance = 128);

class MPNetLayer : public torch::nn::Module {
 public:
  explicit MPNetLayer(const TransformerConfig& config);
  /// scores_bias: [B, H, T, T] added to the attention scores (relative positions + key padding).
  /// x: packed [N, D] with `packing`, else padded [B, T, D]; the result has x's layout.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& scores_bias, const TokenPacking* packing = nullptr);

 private:
  std::shared_ptr<SelfAttention> attn_;
  torch::nn::LayerNorm attention_norm_{nullptr};
  FeedForward ffn_;
  Dropout dropout_{nullptr};
};

class MPNetModel : public TransformerEncoder {
 public:
  explicit MPNetModel(const TransformerConfig& config);
  EncoderOutput forward(const TokenBatch& batch, int64_t num_layers = 0, bool with_hidden_states = false) override;
  const TransformerConfig& config() const override { return config_; }
  bool is_ignorable_key(const std::string& key) const override;
  bool is_optional_key(const std::string& key) const override;

 private:
  /// The additive attention bias [B, H, T, T] every layer shares: the relative-position bias of a
  /// `length`-token sequence, with padded keys (attention_mask 0) at the lowest float; dtype of `like`.
  at::Tensor attention_bias(const at::Tensor& attention_mask, int64_t length, const at::Tensor& like);

  TransformerConfig config_;
  torch::nn::Embedding word_{nullptr}, position_{nullptr}, relative_bias_{nullptr};
  torch::nn::LayerNorm embedding_norm_{nullptr};
  Dropout dropout_{nullptr};
  std::vector<std::shared_ptr<MPNetLayer>> layers_;
  torch::nn::Linear pooler_{nullptr};
};

}  // namespace negatron::model
