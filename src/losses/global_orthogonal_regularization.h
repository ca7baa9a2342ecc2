#pragma once
// GlobalOrthogonalRegularizationLoss (GOR): a regularizer that spreads embeddings over the space.
// Per column, with S the pairwise similarity matrix (diagonal zeroed), n = B(B - 1) and d the width:
//   mean term = (sum(S) / n)^2,  second-moment term = max(sum(S^2) / n - 1/d, 0).
// Terms are aggregated over columns ("mean" or "sum") and weighted; the loss is
// mean_weight * mean term + second_moment_weight * second-moment term. (ST returns the two weighted
// terms as a dict that its trainer sums; compute() returns that sum.)
// Requirements: usually added to another loss (e.g. MultipleNegativesRankingLoss).
// Inputs: any number of columns | none (labels are ignored).
// Reference: Zhang et al. 2017 (arXiv:1708.06320);
//   sentence_transformers/sentence_transformer/losses/global_orthogonal_regularization.py (ST 6.0.1).
#include <ATen/ATen.h>

#include <optional>
#include <string>
#include <vector>

namespace negatron::losses {

struct GorOptions {
  std::string similarity_fct = "cos_sim";
  std::optional<double> mean_weight = 1.0;
  std::optional<double> second_moment_weight = 1.0;
  std::string aggregation = "mean";
  template <class V>
  void visit(V& v) {
    v("similarity_fct", similarity_fct, "cos_sim | dot_score | ... (similarity matrix of a column)");
    v("mean_weight", mean_weight, "weight of the mean term (null or 0: dropped)");
    v("second_moment_weight", second_moment_weight, "weight of the second-moment term (null or 0: dropped)");
    v("aggregation", aggregation, "mean | sum: how the terms of the columns combine");
  }
  /// At least one weight non-zero; known similarity and aggregation.
  void validate() const;
};

/// columns: any number; labels ignored.
at::Tensor global_orthogonal_regularization(const std::vector<at::Tensor>& columns, const at::Tensor& labels,
                                            const GorOptions& options);

}  // namespace negatron::losses
