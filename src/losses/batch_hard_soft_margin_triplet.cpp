#include "losses/batch_hard_soft_margin_triplet.h"

#include "losses/batch_hard_triplet.h"

namespace negatron::losses {

at::Tensor batch_hard_soft_margin_triplet_loss(const at::Tensor& embeddings, const at::Tensor& labels,
                                               const BatchTripletOptions& options) {
  const HardestDistances hardest =
      batch_hardest_distances(batch_distance_matrix(embeddings, options.distance_metric), labels);
  return at::log1p(at::exp(hardest.positive - hardest.negative)).mean();
}

NEGATRON_REGISTER_LOSS("BatchHardSoftMarginTripletLoss",
                       batch_triplet_factory("BatchHardSoftMarginTripletLoss", batch_hard_soft_margin_triplet_loss,
                                             false));

}  // namespace negatron::losses
