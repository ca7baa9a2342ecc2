#pragma once
// sentence-transformers Pooling: token embeddings [B, T, D] + attention mask -> sentence embedding.
// Modes cls, mean, max, mean_sqrt_len_tokens, weightedmean, lasttoken (several concatenate, in
// the given order); include_prompt=false drops the first prompt_length tokens from pooling.
#include <ATen/ATen.h>
#include <ATen/TensorIndexing.h>
#include <string>
#include <vector>

#include "model/module_config.h"

namespace negatron::model {

at::Tensor pool(const PoolingOptions& options, const at::Tensor& token_embeddings, const at::Tensor& attention_mask,
                int64_t prompt_length = 0);

}  // namespace negatron::model
