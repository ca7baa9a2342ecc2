#include "model/transformer_config.h"

#include <fstream>

#include "common/check.h"

namespace negatron::model {
namespace {

template <typename T>
void read_key(const nlohmann::json& json, const std::string& origin, const char* key, T& value) {
  auto it = json.find(key);
  if (it == json.end() || it->is_null()) return;
  try {
    value = it->get<T>();
  } catch (const nlohmann::json::exception&) {
    NEG_FAIL(origin, ": key '", key, "' has the wrong type (", it->dump(), ")");
  }
}

}  // namespace

TransformerConfig TransformerConfig::from_json(const nlohmann::json& json, const std::string& origin) {
  NEG_CHECK(json.is_object(), origin, ": expected a JSON object");
  TransformerConfig c;
  read_key(json, origin, "model_type", c.model_type);
  NEG_CHECK(!c.model_type.empty(), origin, ": missing 'model_type'");
  read_key(json, origin, "vocab_size", c.vocab_size);
  read_key(json, origin, "hidden_size", c.hidden_size);
  read_key(json, origin, "num_hidden_layers", c.num_hidden_layers);
  read_key(json, origin, "num_attention_heads", c.num_attention_heads);
  read_key(json, origin, "intermediate_size", c.intermediate_size);
  read_key(json, origin, "hidden_act", c.hidden_act);
  read_key(json, origin, "hidden_dropout_prob", c.hidden_dropout_prob);
  read_key(json, origin, "attention_probs_dropout_prob", c.attention_probs_dropout_prob);
  read_key(json, origin, "max_position_embeddings", c.max_position_embeddings);
  read_key(json, origin, "type_vocab_size", c.type_vocab_size);
  read_key(json, origin, "layer_norm_eps", c.layer_norm_eps);
  read_key(json, origin, "pad_token_id", c.pad_token_id);
  read_key(json, origin, "position_embedding_type", c.position_embedding_type);
  read_key(json, origin, "relative_attention_num_buckets", c.relative_attention_num_buckets);
  NEG_CHECK(c.hidden_size > 0 && c.num_attention_heads > 0 && c.hidden_size % c.num_attention_heads == 0, origin,
            ": hidden_size ", c.hidden_size, " is not a positive multiple of num_attention_heads ",
            c.num_attention_heads);
  NEG_CHECK(c.num_hidden_layers > 0 && c.vocab_size > 0 && c.intermediate_size > 0 && c.max_position_embeddings > 0,
            origin, ": num_hidden_layers, vocab_size, intermediate_size and max_position_embeddings must be > 0");
  c.raw = json;
  c.origin = origin;
  return c;
}

TransformerConfig TransformerConfig::from_file(const std::string& path) {
  std::ifstream in(path);
  NEG_CHECK(in, "cannot open ", path);
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    NEG_FAIL(path, ": invalid JSON (", e.what(), ")");
  }
  return from_json(json, path);
}

}  // namespace negatron::model
