#include "losses/batch_hard_soft_margin_triplet.h"

#include "losses/batch_hard_triplet.h"
#include "losses/pure_loss.h"

namespace negatron::losses {

at::Tensor batch_hard_soft_margin_triplet_loss(const std::vector<at::Tensor>& columns, const at::Tensor& class_labels,
                                               const BatchDistanceOptions& options) {
  const at::Tensor& embeddings = columns[0];
  const at::Tensor labels = class_labels.to(embeddings.device());
  const HardestDistances hardest =
      batch_hardest_distances(batch_distance_matrix(embeddings, options.distance()), labels);
  return at::log1p(at::exp(hardest.positive - hardest.negative)).mean();
}

NEGATRON_REGISTER_PURE_LOSS(batch_triplet_spec("BatchHardSoftMarginTripletLoss"), batch_hard_soft_margin_triplet_loss);

}  // namespace negatron::losses
