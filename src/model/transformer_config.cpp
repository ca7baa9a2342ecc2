#include "model/transformer_config.h"

#include "common/check.h"
#include "common/json_file.h"

namespace negatron::model {
namespace {

template <typename T>
void read_key(const nlohmann::json& json, const std::string& origin, const char* key, T& value) {
  value = JsonFile(origin).get_or<T>(json, key, value);
}

// Generous limits that no real encoder reaches; beyond them a config would only allocate without end.
constexpr int64_t kMaxVocab = int64_t{1} << 24, kMaxWidth = int64_t{1} << 16, kMaxLayers = 1024;
constexpr int64_t kMaxPositions = int64_t{1} << 20;

void check_ranges(const TransformerConfig& c, const std::string& origin) {
  const auto in_range = [&](const char* key, int64_t value, int64_t low, int64_t high) {
    NEG_CHECK(low <= value && value <= high, origin, ": '", key, "' = ", value, " must be in [", low, ", ", high, "]");
  };
  in_range("vocab_size", c.vocab_size, 1, kMaxVocab);
  in_range("hidden_size", c.hidden_size, 1, kMaxWidth);
  in_range("num_attention_heads", c.num_attention_heads, 1, c.hidden_size);
  NEG_CHECK(c.hidden_size % c.num_attention_heads == 0, origin, ": hidden_size ", c.hidden_size,
            " is not a multiple of num_attention_heads ", c.num_attention_heads);
  in_range("num_hidden_layers", c.num_hidden_layers, 1, kMaxLayers);
  in_range("intermediate_size", c.intermediate_size, 1, kMaxWidth * 4);
  in_range("max_position_embeddings", c.max_position_embeddings, 1, kMaxPositions);
  in_range("type_vocab_size", c.type_vocab_size, 0, kMaxVocab);
  in_range("pad_token_id", c.pad_token_id, 0, c.vocab_size - 1);
  in_range("relative_attention_num_buckets", c.relative_attention_num_buckets, 1, kMaxPositions);
  for (const auto& [key, p] : {std::pair<const char*, double>{"hidden_dropout_prob", c.hidden_dropout_prob},
                               {"attention_probs_dropout_prob", c.attention_probs_dropout_prob}}) {
    NEG_CHECK(p >= 0 && p < 1, origin, ": '", key, "' = ", p, " must be in [0, 1)");
  }
  NEG_CHECK(c.layer_norm_eps > 0 && c.layer_norm_eps < 1, origin, ": 'layer_norm_eps' = ", c.layer_norm_eps,
            " must be in (0, 1)");
  static const char* const kActivations[] = {"gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast",
                                             "relu", "silu",     "swish",             "tanh"};
  bool known = false;
  for (const char* name : kActivations) known = known || c.hidden_act == name;
  NEG_CHECK(known, origin, ": unsupported hidden_act '", c.hidden_act,
            "' (supported: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, silu, swish, tanh)");
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
  check_ranges(c, origin);
  c.raw = json;
  c.origin = origin;
  return c;
}

TransformerConfig TransformerConfig::from_file(const std::string& path) { return from_json(read_json_file(path), path); }

}  // namespace negatron::model
