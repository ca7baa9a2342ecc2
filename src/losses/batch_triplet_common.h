#pragma once
// What the batch triplet losses (BatchAll, BatchHard, BatchHardSoftMargin, BatchSemiHard) share:
// the in-batch distance matrix (sentence-transformers BatchHardTripletLossDistanceFunction), the
// label masks, their options and their Inputs (single sentences | class label).
// Reference: sentence_transformers/sentence_transformer/losses/batch_hard_triplet.py (ST 6.0.1).
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "losses/loss.h"

namespace negatron::losses {

enum class BatchDistance {
  kEuclidean,  // "euclidean_distance" (also ST's spelling "eucledian_distance"): ||a - b||, 0 on the diagonal
  kCosine,     // "cosine_distance": 1 - cos_sim(a, b)
};

/// Accepts the bare name or "BatchHardTripletLossDistanceFunction.<name>".
BatchDistance batch_distance_by_name(const std::string& name);
/// [B, B] distances. Euclidean goes through the Gram matrix as ST does (negative rounding clamped to
/// 0, zero entries kept out of the sqrt's gradient), so values and gradients match bit for bit.
at::Tensor batch_distance_matrix(const at::Tensor& embeddings, BatchDistance metric);

/// [B, B] bool: label[i] == label[j] and i != j.
at::Tensor anchor_positive_mask(const at::Tensor& labels);
/// [B, B] bool: label[i] != label[j].
at::Tensor anchor_negative_mask(const at::Tensor& labels);

/// BatchHardSoftMarginTripletLoss's parameters; the others add margin.
struct BatchDistanceOptions {
  std::string distance_metric = "euclidean_distance";
  template <class V>
  void visit(V& v) {
    v("distance_metric", distance_metric, "euclidean_distance | cosine_distance (BatchHardTripletLossDistanceFunction.*)");
  }
  void validate() const { batch_distance_by_name(distance_metric); }
  BatchDistance distance() const { return batch_distance_by_name(distance_metric); }
};

struct BatchTripletOptions : BatchDistanceOptions {
  double margin = 5.0;
  template <class V>
  void visit(V& v) {
    BatchDistanceOptions::visit(v);
    v("margin", margin, "how much closer the hardest positive must be than the negative");
  }
};

/// The spec of every batch triplet loss: one column, int class labels.
LossSpec batch_triplet_spec(const std::string& name);

}  // namespace negatron::losses
