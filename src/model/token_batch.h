#pragma once
// A batch of token sequences (one text column), right-padded, with the host-known layout of its real
// tokens; and the operations that keep that layout without reading the device: collation from token
// ids, the move to a device, row slices (GradCache mini-batches) and stacking columns (one encoder
// forward over every column of a loss).
#include <ATen/ATen.h>

#include <vector>

#include "model/token_packing.h"

namespace negatron::model {

struct TokenBatch {
  at::Tensor input_ids;       // [B, T] int64
  at::Tensor attention_mask;  // [B, T] int64, 1 = real token (right padding)
  at::Tensor token_type_ids;  // [B, T] int64 (zeros for single sentences)
  TokenLayout layout;         // where the real tokens are; undefined: derived from attention_mask on use

  int64_t rows() const { return input_ids.size(0); }
  /// The tensors on `device`; non_blocking copies need pinned host memory to overlap anything.
  TokenBatch to(const at::Device& device, bool non_blocking = false) const;
};

/// Pads token id lists into a batch (right padding with pad_id) and records its layout (host only).
/// `pinned`: allocate in page-locked memory (for non_blocking copies to a GPU).
TokenBatch collate_tokens(const std::vector<std::vector<int32_t>>& ids, int32_t pad_id, bool pinned = false);

/// batch.layout, or (when a caller built the batch from tensors) one derived from the mask.
TokenLayout layout_of(const TokenBatch& batch);

/// Rows [begin, end), without trailing all-padding columns.
TokenBatch slice_rows(const TokenBatch& batch, int64_t begin, int64_t end);

/// Every batch's rows in order, padded (with `pad_id`) to the widest; row counts add up.
TokenBatch stack_rows(const std::vector<TokenBatch>& batches, int64_t pad_id);

}  // namespace negatron::model
