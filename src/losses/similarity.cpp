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

SimilarityFn pairwise_similarity_by_name(const std::string& name, const std::string& parameter) {
  if (name == "cos_sim" || name == "cosine" || name == "pairwise_cos_sim") return pairwise_cos_sim;
  if (name == "dot_score" || name == "dot" || name == "pairwise_dot_score") return pairwise_dot_score;
  if (name == "euclidean_sim" || name == "euclidean" || name == "pairwise_euclidean_sim") return pairwise_euclidean_sim;
  if (name == "manhattan_sim" || name == "manhattan" || name == "pairwise_manhattan_sim") return pairwise_manhattan_sim;
  NEG_FAIL(parameter, ": unknown similarity '", name, "' (valid: cos_sim, dot_score, euclidean_sim, manhattan_sim)");
}

}  // namespace negatron::losses
