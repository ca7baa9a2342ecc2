#include "losses/batch_triplet_common.h"

#include "losses/choice.h"
#include "losses/similarity.h"

namespace negatron::losses {

BatchDistance batch_distance_by_name(const std::string& name) {
  return choose<BatchDistance>("distance_metric", name,
                               {{"euclidean_distance", BatchDistance::kEuclidean},
                                {"eucledian_distance", BatchDistance::kEuclidean},  // ST's spelling
                                {"cosine_distance", BatchDistance::kCosine}},
                               "BatchHardTripletLossDistanceFunction.");
}

at::Tensor batch_distance_matrix(const at::Tensor& embeddings, BatchDistance metric) {
  if (metric == BatchDistance::kCosine) return 1 - cos_sim(embeddings, embeddings);
  const at::Tensor dot = at::mm(embeddings, embeddings.t());
  const at::Tensor square_norm = at::diag(dot);
  at::Tensor distances = square_norm.unsqueeze(0) - 2.0 * dot + square_norm.unsqueeze(1);
  distances = distances.masked_fill(distances < 0, 0);
  // sqrt has an infinite slope at 0: add a tiny offset there and mask the result (as ST does).
  const at::Tensor zero = distances.eq(0).to(at::kFloat);
  distances = distances + zero * 1e-16;
  return (1.0 - zero) * at::sqrt(distances);
}

at::Tensor anchor_positive_mask(const at::Tensor& labels) {
  const at::Tensor not_self = at::eye(labels.size(0), labels.options().dtype(at::kBool)).logical_not();
  return (labels.unsqueeze(0) == labels.unsqueeze(1)) & not_self;
}

at::Tensor anchor_negative_mask(const at::Tensor& labels) { return labels.unsqueeze(0) != labels.unsqueeze(1); }

LossSpec batch_triplet_spec(const std::string& name) {
  return {name, 1, 1, LabelKind::kInt64, "single sentences | class label (int)"};
}

}  // namespace negatron::losses
