#pragma once
// OnlineContrastiveLoss: ContrastiveLoss on the hard pairs only: negatives closer than the farthest
// positive and positives farther than the closest negative; sum of d^2 over those positives plus
// max(margin - d, 0)^2 over those negatives (a sum, not a mean, as ST). Rows with labels other than
// 0 and 1 are ignored. With a single positive (negative) the threshold is the mean of the other set.
// Requirements: pairs with binary labels; works best with many pairs per batch.
// Inputs: (anchor, other) pairs | 1 if positive, 0 if negative.
// Parameters: SiameseOptions (contrastive.h).
// Reference: sentence_transformers/sentence_transformer/losses/online_contrastive.py (ST 6.0.1).
#include "losses/contrastive.h"

namespace negatron::losses {

/// columns: (anchor, other); labels [B].
at::Tensor online_contrastive_loss(const std::vector<at::Tensor>& columns, const at::Tensor& labels,
                                   const SiameseOptions& options);

}  // namespace negatron::losses
