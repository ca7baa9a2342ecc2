#pragma once
// Similarity and distance functions shared by the losses (sentence-transformers util.similarity).
// Matrix forms take a [N, d], b [M, d] and return [N, M]; pairwise forms take equal-shape [N, d]
// inputs and return [N].
#include <ATen/ATen.h>

#include <string>

namespace negatron::losses {

at::Tensor normalize_rows(const at::Tensor& x);  // L2, eps as torch.nn.functional.normalize
at::Tensor cos_sim(const at::Tensor& a, const at::Tensor& b);
at::Tensor dot_score(const at::Tensor& a, const at::Tensor& b);
at::Tensor euclidean_sim(const at::Tensor& a, const at::Tensor& b);  // -||a_i - b_j||
at::Tensor manhattan_sim(const at::Tensor& a, const at::Tensor& b);  // -||a_i - b_j||_1
at::Tensor pairwise_cos_sim(const at::Tensor& a, const at::Tensor& b);
at::Tensor pairwise_dot_score(const at::Tensor& a, const at::Tensor& b);
at::Tensor pairwise_euclidean_sim(const at::Tensor& a, const at::Tensor& b);
at::Tensor pairwise_manhattan_sim(const at::Tensor& a, const at::Tensor& b);

using SimilarityFn = at::Tensor (*)(const at::Tensor&, const at::Tensor&);
/// "cos_sim"/"cosine", "dot_score"/"dot", "euclidean_sim"/"euclidean", "manhattan_sim"/"manhattan";
/// the error lists the valid names and names the loss parameter.
SimilarityFn similarity_by_name(const std::string& name, const std::string& parameter);
SimilarityFn pairwise_similarity_by_name(const std::string& name, const std::string& parameter);

/// A matrix similarity split into a row-wise preparation and a kernel on prepared operands:
/// sim(a, b) == kernel(prepared(a), prepared(b)) (exactly, except that the euclidean kernel
/// computes every distance directly, so that a pair scores the same in any tile). Tiled losses
/// score tiles with the kernel and prepare (cos_sim: normalise) slices of their operands.
struct SimilarityKernel {
  at::Tensor (*prepare)(const at::Tensor&) = nullptr;  // nullptr: the operands as they are
  SimilarityFn kernel = nullptr;
  /// kernel is the plain matrix product a b^T (cos_sim, dot_score): its gradient is two products.
  bool is_dot = false;
  at::Tensor prepared(const at::Tensor& x) const { return prepare ? prepare(x) : x; }
};
/// The names of similarity_by_name.
SimilarityKernel similarity_kernel_by_name(const std::string& name, const std::string& parameter);

}  // namespace negatron::losses
