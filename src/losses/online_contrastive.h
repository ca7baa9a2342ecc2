#pragma once
// OnlineContrastiveLoss: ContrastiveLoss on the hard pairs only: negatives closer than the farthest
// positive and positives farther than the closest negative; sum of d^2 over those positives plus
// max(margin - d, 0)^2 over those negatives (a sum, not a mean, as ST). Rows with labels other than
// 0 and 1 are ignored. With a single positive (negative) the threshold is the mean of the other set.
// Requirements: pairs with binary labels; works best with many pairs per batch.
// Inputs: (anchor, other) pairs | 1 if positive, 0 if negative.
// Params: distance_metric (as ContrastiveLoss, default "COSINE_DISTANCE"), margin (0.5).
// Reference: sentence_transformers/sentence_transformer/losses/online_contrastive.py (ST 6.0.1).
#include "losses/contrastive.h"

namespace negatron::losses {

at::Tensor online_contrastive_loss(const at::Tensor& a, const at::Tensor& b, const at::Tensor& labels,
                                   SiameseDistance metric, double margin);

}  // namespace negatron::losses
