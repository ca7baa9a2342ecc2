#include "model/pooling.h"

#include "common/check.h"

namespace negatron::model {
namespace {

// Zeroes the first prompt_length real tokens of each row (right or left padding).
at::Tensor exclude_prompt(const at::Tensor& attention_mask, int64_t prompt_length) {
  at::Tensor first_real = attention_mask.to(at::kInt).argmax(1, true);
  at::Tensor positions = at::arange(attention_mask.size(1), attention_mask.options()).unsqueeze(0);
  return attention_mask.masked_fill(positions < first_real + prompt_length, 0);
}

}  // namespace

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
