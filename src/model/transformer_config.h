#pragma once
// The Hugging Face config.json of a transformer encoder, validated. The original JSON is kept so a
// saved model writes back exactly the keys it was loaded with.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace negatron::model {

struct TransformerConfig {
  std::string model_type;  // "bert", "mpnet", ...
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  std::string hidden_act = "gelu";
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  double layer_norm_eps = 1e-12;
  int64_t pad_token_id = 0;
  std::string position_embedding_type = "absolute";
  int64_t relative_attention_num_buckets = 32;  // MPNet
  nlohmann::json raw;
  std::string origin;  // the file it came from, for error messages

  /// Parses and validates; errors name the file and key.
  static TransformerConfig from_file(const std::string& path);
  static TransformerConfig from_json(const nlohmann::json& json, const std::string& origin);
};

}  // namespace negatron::model
