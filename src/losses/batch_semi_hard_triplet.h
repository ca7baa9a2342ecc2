#pragma once
// BatchSemiHardTripletLoss: for every positive pair (a, p), the semi-hard negative is the closest
// negative of a that is farther than p; if none is, the farthest negative of a. loss = sum over
// positive pairs of max(d_ap - d_an + margin, 0) / number of positive pairs.
// Requirements: each batch holds >= 2 examples of >= 2 labels.
// Inputs: single sentences | class label (int). Parameters: BatchTripletOptions.
// Memory: O(B^2). ST tiles the distance matrix to [B^2, B]; here each anchor's negative distances
// are sorted once and every positive distance is located with a binary search (O(B^2 log B)).
// Ties resolve as ST's masked minimum does: the lowest column index, including distances that only
// tie after ST's shift by the row maximum, and the row's first maximum when the pick is the row max.
// Reference: Schroff et al. 2015 (FaceNet); sentence_transformers/sentence_transformer/losses/
//   batch_semi_hard_triplet.py (ST 6.0.1, after TensorFlow Addons' triplet_semihard_loss).
#include "losses/batch_triplet_common.h"

namespace negatron::losses {

at::Tensor batch_semi_hard_triplet_loss(const std::vector<at::Tensor>& columns, const at::Tensor& labels,
                                        const BatchTripletOptions& options);

}  // namespace negatron::losses
