#pragma once
// BatchHardSoftMarginTripletLoss: BatchHardTripletLoss with the hinge replaced by a soft margin,
// loss = mean(log(1 + exp(d_ap - d_an))) over anchors; no margin to tune.
// Requirements: each batch holds >= 2 examples of >= 2 labels.
// Inputs: single sentences | class label (int). Parameters: BatchDistanceOptions.
// Relations: same hardest positive / negative as BatchHardTripletLoss (batch_hardest_distances).
// Reference: Hermans et al. 2017;
//   sentence_transformers/sentence_transformer/losses/batch_hard_soft_margin_triplet.py (ST 6.0.1).
#include "losses/batch_triplet_common.h"

namespace negatron::losses {

at::Tensor batch_hard_soft_margin_triplet_loss(const std::vector<at::Tensor>& columns, const at::Tensor& labels,
                                               const BatchDistanceOptions& options);

}  // namespace negatron::losses
