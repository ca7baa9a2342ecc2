#pragma once
// What the batch triplet losses (BatchAll, BatchHard, BatchHardSoftMargin, BatchSemiHard) share:
// the in-batch distance matrix (sentence-transformers BatchHardTripletLossDistanceFunction), the
// label masks, and one Loss class that validates single-column, int-labelled batches and calls the
// loss's pure function. Reference: sentence_transformers/sentence_transformer/losses/
// batch_hard_triplet.py (ST 6.0.1).
#include <ATen/ATen.h>

#include <string>

#include "losses/registry.h"

namespace negatron::losses {

enum class BatchDistance {
  kEuclidean,  // "euclidean_distance" (also ST's spelling "eucledian_distance"): ||a - b||, 0 on the diagonal
  kCosine,     // "cosine_distance": 1 - cos_sim(a, b)
};

/// Accepts the bare name or "BatchHardTripletLossDistanceFunction.<name>"; the error names the loss.
BatchDistance batch_distance_by_name(const std::string& name, const std::string& loss);
/// [B, B] distances. Euclidean goes through the Gram matrix as ST does (negative rounding clamped to
/// 0, zero entries kept out of the sqrt's gradient), so values and gradients match bit for bit.
at::Tensor batch_distance_matrix(const at::Tensor& embeddings, BatchDistance metric);

/// [B, B] bool: label[i] == label[j] and i != j.
at::Tensor anchor_positive_mask(const at::Tensor& labels);
/// [B, B] bool: label[i] != label[j].
at::Tensor anchor_negative_mask(const at::Tensor& labels);

struct BatchTripletOptions {
  BatchDistance distance_metric = BatchDistance::kEuclidean;
  double margin = 5.0;  // unused by BatchHardSoftMarginTripletLoss
};

/// loss(embeddings [B, d], labels [B] int64, options): a scalar.
using BatchTripletFn = at::Tensor (*)(const at::Tensor&, const at::Tensor&, const BatchTripletOptions&);

/// The factory every batch triplet loss registers: reads distance_metric (and margin when
/// `has_margin`), rejects other keys, and wraps `fn` in a Loss with spec "single sentences | class".
LossFactory batch_triplet_factory(const std::string& name, BatchTripletFn fn, bool has_margin);

}  // namespace negatron::losses
