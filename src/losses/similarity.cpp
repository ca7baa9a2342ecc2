#include "losses/similarity.h"

#include "common/check.h"

namespace negatron::losses {

at::Tensor normalize_rows(const at::Tensor& x) { return x / x.norm(2, -1, true).clamp_min(1e-12); }

at::Tensor cos_sim(const at::Tensor& a, const at::Tensor& b) { return at::mm(normalize_rows(a), normalize_rows(b).t()); }

at::Tensor dot_score(const at::Tensor& a, const at::Tensor& b) { return at::mm(a, b.t()); }

at::Tensor euclidean_sim(const at::Tensor& a, const at::Tensor& b) { return -at::cdist(a, b, 2.0); }

at::Tensor manhattan_sim(const at::Tensor& a, const at::Tensor& b) { return -at::cdist(a, b, 1.0); }

at::Tensor pairwise_cos_sim(const at::Tensor& a, const at::Tensor& b) {
  return (normalize_rows(a) * normalize_rows(b)).sum(-1);
}

at::Tensor pairwise_dot_score(const at::Tensor& a, const at::Tensor& b) { return (a * b).sum(-1); }

at::Tensor pairwise_euclidean_sim(const at::Tensor& a, const at::Tensor& b) {
  return -(a - b).pow(2).sum(-1).sqrt();
}

at::Tensor pairwise_manhattan_sim(const at::Tensor& a, const at::Tensor& b) { return -(a - b).abs().sum(-1); }

SimilarityFn similarity_by_name(const std::string& name, const std::string& parameter) {
  if (name == "cos_sim" || name == "cosine") return cos_sim;
  if (name == "dot_score" || name == "dot") return dot_score;
  if (name == "euclidean_sim" || name == "euclidean") return euclidean_sim;
  if (name == "manhattan_sim" || name == "manhattan") return manhattan_sim;
  NEG_FAIL(parameter, ": unknown similarity '", name, "' (valid: cos_sim, dot_score, euclidean_sim, manhattan_sim)");
}

namespace {

// Every distance computed directly (never through |a|^2 + |b|^2 - 2ab, which cdist switches to
// above 25 rows): a pair scores the same bits in any tile.
at::Tensor euclidean_kernel(const at::Tensor& a, const at::Tensor& b) {
  return -at::cdist(a, b, 2.0, /*compute_mode=donot_use_mm_for_euclid_dist*/ 2);
}

}  // namespace

SimilarityKernel similarity_kernel_by_name(const std::string& name, const std::string& parameter) {
  const SimilarityFn sim = similarity_by_name(name, parameter);
  if (sim == cos_sim) return {normalize_rows, dot_score, true};
  if (sim == dot_score) return {nullptr, dot_score, true};
  if (sim == euclidean_sim) return {nullptr, euclidean_kernel, false};
  return {nullptr, sim, false};
}

SimilarityFn pairwise_similarity_by_name(const std::string& name, const std::string& parameter) {
  if (name == "cos_sim" || name == "cosine" || name == "pairwise_cos_sim") return pairwise_cos_sim;
  if (name == "dot_score" || name == "dot" || name == "pairwise_dot_score") return pairwise_dot_score;
  if (name == "euclidean_sim" || name == "euclidean" || name == "pairwise_euclidean_sim") return pairwise_euclidean_sim;
  if (name == "manhattan_sim" || name == "manhattan" || name == "pairwise_manhattan_sim") return pairwise_manhattan_sim;
  NEG_FAIL(parameter, ": unknown similarity '", name, "' (valid: cos_sim, dot_score, euclidean_sim, manhattan_sim)");
}

}  // namespace negatron::losses
