#pragma once
// BatchAllTripletLoss: every valid triplet (a, p, n) of the batch (a != p, label a == label p,
// label n != label a); loss = sum(max(d_ap - d_an + margin, 0)) / (number of triplets with loss > 1e-16).
// Requirements: each batch holds >= 2 examples of >= 2 labels.
// Inputs: single sentences | class label (int). Parameters: BatchTripletOptions.
// Memory: a [B, B, B] tensor (as ST); B = 256 in float32 is 64 MiB per temporary.
// Relations: BatchHardTripletLoss keeps only the hardest triplet per anchor.
// Reference: Hermans et al. 2017;
//   sentence_transformers/sentence_transformer/losses/batch_all_triplet.py (ST 6.0.1).
#include "losses/batch_triplet_common.h"

namespace negatron::losses {

/// [B, B, B] bool: i, j, k distinct, label i == label j, label i != label k.
at::Tensor triplet_mask(const at::Tensor& labels);

at::Tensor batch_all_triplet_loss(const std::vector<at::Tensor>& columns, const at::Tensor& labels,
                                  const BatchTripletOptions& options);

}  // namespace negatron::losses
