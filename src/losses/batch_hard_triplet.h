#pragma once
// BatchHardTripletLoss: for every anchor, the hardest positive (farthest same-label example) and the
// hardest negative (closest other-label example) in the batch; loss = mean(max(d_ap - d_an + margin, 0)).
// Requirements: each batch holds >= 2 examples of >= 2 labels (e.g. a group-by-label sampler).
// Inputs: single sentences | class label (int). Parameters: BatchTripletOptions.
// Relations: BatchHardSoftMarginTripletLoss drops the margin; BatchAll/BatchSemiHard pick other triplets.
// Edge cases as ST: an anchor with no positive gets d_ap = 0; with no negative, d_an = row max + d_aa.
// Reference: Hermans et al. 2017, "In Defense of the Triplet Loss";
//   sentence_transformers/sentence_transformer/losses/batch_hard_triplet.py (ST 6.0.1).
#include "losses/batch_triplet_common.h"

namespace negatron::losses {

/// Per-anchor hardest positive and hardest negative distances, [B, 1] each.
struct HardestDistances {
  at::Tensor positive, negative;
};
HardestDistances batch_hardest_distances(const at::Tensor& distances, const at::Tensor& labels);

at::Tensor batch_hard_triplet_loss(const std::vector<at::Tensor>& columns, const at::Tensor& labels,
                                   const BatchTripletOptions& options);

}  // namespace negatron::losses
