#pragma once
// GlobalOrthogonalRegularizationLoss (GOR): a regularizer that spreads embeddings over the space.
// Per column, with S the pairwise similarity matrix (diagonal zeroed), n = B(B - 1) and d the width:
//   mean term = (sum(S) / n)^2,  second-moment term = max(sum(S^2) / n - 1/d, 0).
// Terms are aggregated over columns ("mean" or "sum") and weighted; the loss is
// mean_weight * mean term + second_moment_weight * second-moment term. (ST returns the two weighted
// terms as a dict that its trainer sums; compute() returns that sum.)
// Requirements: usually added to another loss (e.g. MultipleNegativesRankingLoss).
// Inputs: any number of columns | none (labels are ignored).
// Params: similarity_fct ("cos_sim"; also "dot_score", ...), mean_weight (1.0; null or 0 drops the
//   term), second_moment_weight (1.0; likewise), aggregation ("mean" | "sum"). At least one weight
//   must be non-zero.
// Reference: Zhang et al. 2017 (arXiv:1708.06320);
//   sentence_transformers/sentence_transformer/losses/global_orthogonal_regularization.py (ST 6.0.1).
#include <ATen/ATen.h>

#include <vector>

namespace negatron::losses {

struct GorOptions {
  at::Tensor (*similarity)(const at::Tensor&, const at::Tensor&) = nullptr;  // default cos_sim
  double mean_weight = 1.0;
  double second_moment_weight = 1.0;
  bool sum_aggregation = false;
};

at::Tensor global_orthogonal_regularization(const std::vector<at::Tensor>& columns, const GorOptions& options);

}  // namespace negatron::losses
