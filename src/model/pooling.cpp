#include "model/pooling.h"

#include "common/check.h"

namespace negatron::model {
namespace {

constexpr const char* kModes[] = {"cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken"};
constexpr std::pair<const char*, const char*> kLegacyKeys[] = {
    {"pooling_mode_cls_token", "cls"},
    {"pooling_mode_max_tokens", "max"},
    {"pooling_mode_mean_tokens", "mean"},
    {"pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len_tokens"},
    {"pooling_mode_weightedmean_tokens", "weightedmean"},
    {"pooling_mode_lasttoken", "lasttoken"},
};

void check_mode(const std::string& mode, const std::string& origin) {
  for (const char* known : kModes) {
    if (mode == known) return;
  }
  NEG_FAIL(origin, ": invalid pooling mode '", mode,
           "' (valid: cls, max, mean, mean_sqrt_len_tokens, weightedmean, lasttoken)");
}

// Zeroes the first prompt_length real tokens of each row (right or left padding).
at::Tensor exclude_prompt(const at::Tensor& attention_mask, int64_t prompt_length) {
  at::Tensor first_real = attention_mask.to(at::kInt).argmax(1, true);
  at::Tensor positions = at::arange(attention_mask.size(1), attention_mask.options()).unsqueeze(0);
  return attention_mask.masked_fill(positions < first_real + prompt_length, 0);
}

}  // namespace

PoolingOptions PoolingOptions::from_json(const nlohmann::json& json, const std::string& origin) {
  PoolingOptions options;
  NEG_CHECK(json.is_object(), origin, ": expected a JSON object");
  auto dim_key = json.contains("embedding_dimension") ? "embedding_dimension" : "word_embedding_dimension";
  NEG_CHECK(json.contains(dim_key), origin, ": missing 'embedding_dimension'");
  options.embedding_dimension = json.at(dim_key).get<int64_t>();
  if (json.contains("pooling_mode")) {
    const auto& mode = json.at("pooling_mode");
    options.modes.clear();
    if (mode.is_string()) {
      options.modes.push_back(mode.get<std::string>());
    } else {
      NEG_CHECK(mode.is_array() && !mode.empty(), origin, ": 'pooling_mode' must be a string or a list");
      for (const auto& m : mode) options.modes.push_back(m.get<std::string>());
    }
  } else {
    std::vector<std::string> legacy;
    for (const auto& [key, mode] : kLegacyKeys) {
      if (json.value(key, false)) legacy.emplace_back(mode);
    }
    if (!legacy.empty()) options.modes = legacy;
  }
  for (const auto& m : options.modes) check_mode(m, origin);
  options.include_prompt = json.value("include_prompt", true);
  return options;
}

nlohmann::json PoolingOptions::to_json() const {
  nlohmann::json json;
  json["embedding_dimension"] = embedding_dimension;
  json["pooling_mode"] = modes.size() == 1 ? nlohmann::json(modes[0]) : nlohmann::json(modes);
  json["include_prompt"] = include_prompt;
  return json;
}

at::Tensor pool(const PoolingOptions& options, const at::Tensor& token_embeddings, const at::Tensor& attention_mask_in,
                int64_t prompt_length) {
  at::Tensor attention_mask = attention_mask_in;
  if (!options.include_prompt && prompt_length > 0) attention_mask = exclude_prompt(attention_mask, prompt_length);
  const at::Tensor mask = attention_mask.unsqueeze(-1).to(token_embeddings.dtype());
  std::vector<at::Tensor> outputs;
  at::Tensor mean_sum, mean_count;
  for (const auto& mode : options.modes) {
    if (mode == "cls") {
      at::Tensor first = attention_mask.to(at::kInt).argmax(1);
      outputs.push_back(token_embeddings.index({at::arange(token_embeddings.size(0)), first}));
    } else if (mode == "max") {
      outputs.push_back(std::get<0>(token_embeddings.masked_fill(mask == 0, -INFINITY).max(1)));
    } else if (mode == "mean" || mode == "mean_sqrt_len_tokens") {
      if (!mean_sum.defined()) {
        mean_sum = (token_embeddings * mask).sum(1);
        mean_count = mask.sum(1).clamp_min(1e-9);
      }
      outputs.push_back(mode == "mean" ? mean_sum / mean_count : mean_sum / mean_count.sqrt());
    } else if (mode == "weightedmean") {
      at::Tensor weights = at::arange(1, token_embeddings.size(1) + 1, token_embeddings.options())
                               .view({1, -1, 1}) * mask;
      outputs.push_back((token_embeddings * weights).sum(1) / weights.sum(1).clamp_min(1e-9));
    } else if (mode == "lasttoken") {
      const int64_t length = token_embeddings.size(1);
      auto [values, indices] = attention_mask.flip(1).max(1);
      indices = at::where(values == 0, at::full_like(indices, length - 1), indices);
      at::Tensor last = (length - indices - 1);
      outputs.push_back((token_embeddings * mask).index({at::arange(token_embeddings.size(0)), last}));
    }
  }
  return outputs.size() == 1 ? outputs[0] : at::cat(outputs, -1);
}

}  // namespace negatron::model
