#pragma once
// TripletLoss: loss = mean(max(d(a, p) - d(a, n) + triplet_margin, 0)) over (anchor, positive,
// negative) rows.
// Requirements: (anchor, positive, negative) triplets.
// Inputs: (anchor, positive, negative) triplets | none.
// Params: distance_metric ("EUCLIDEAN" | "COSINE" | "MANHATTAN", optionally "TripletDistanceMetric."-
//   prefixed), triplet_margin (5; use ~0.3 with COSINE).
// Relations: the batch triplet losses mine triplets from labelled single sentences instead.
// Reference: Schroff et al. 2015; sentence_transformers/sentence_transformer/losses/triplet.py (ST 6.0.1).
#include <ATen/ATen.h>

namespace negatron::losses {

enum class TripletDistance { kEuclidean, kCosine, kManhattan };

at::Tensor triplet_loss(const at::Tensor& anchor, const at::Tensor& positive, const at::Tensor& negative,
                        TripletDistance metric, double margin);

}  // namespace negatron::losses
