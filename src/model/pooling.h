#pragma once
// sentence-transformers Pooling: token embeddings [B, T, D] + attention mask -> sentence embedding.
// Modes cls, mean, max, mean_sqrt_len_tokens, weightedmean, lasttoken (several concatenate, in
// the given order); include_prompt=false drops the first prompt_length tokens from pooling.
#include <ATen/ATen.h>
#include <ATen/TensorIndexing.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace negatron::model {

struct PoolingOptions {
  int64_t embedding_dimension = 0;
  std::vector<std::string> modes = {"mean"};
  bool include_prompt = true;

  /// Reads the v6 keys (pooling_mode, include_prompt) and the legacy pooling_mode_* booleans.
  static PoolingOptions from_json(const nlohmann::json& json, const std::string& origin);
  /// Writes the v6 keys.
  nlohmann::json to_json() const;
  int64_t output_dimension() const { return embedding_dimension * static_cast<int64_t>(modes.size()); }
};

at::Tensor pool(const PoolingOptions& options, const at::Tensor& token_embeddings, const at::Tensor& attention_mask,
                int64_t prompt_length = 0);

}  // namespace negatron::model
