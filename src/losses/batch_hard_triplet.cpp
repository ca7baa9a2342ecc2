#include "losses/batch_hard_triplet.h"

#include "losses/pure_loss.h"

namespace negatron::losses {

HardestDistances batch_hardest_distances(const at::Tensor& distances, const at::Tensor& labels) {
  const at::Tensor positive_mask = anchor_positive_mask(labels).to(distances.scalar_type());
  HardestDistances out;
  out.positive = std::get<0>((positive_mask * distances).max(1, /*keepdim=*/true));
  // Non-negatives are pushed up by the row maximum so that min() skips them.
  const at::Tensor negative_mask = anchor_negative_mask(labels).to(distances.scalar_type());
  const at::Tensor row_max = std::get<0>(distances.max(1, /*keepdim=*/true));
  out.negative = std::get<0>((distances + row_max * (1.0 - negative_mask)).min(1, /*keepdim=*/true));
  return out;
}

at::Tensor batch_hard_triplet_loss(const std::vector<at::Tensor>& columns, const at::Tensor& class_labels,
                                   const BatchTripletOptions& options) {
  const at::Tensor& embeddings = columns[0];
  const at::Tensor labels = class_labels.to(embeddings.device());
  const HardestDistances hardest =
      batch_hardest_distances(batch_distance_matrix(embeddings, options.distance()), labels);
  at::Tensor losses = hardest.positive - hardest.negative + options.margin;
  return losses.masked_fill(losses < 0, 0).mean();
}

NEGATRON_REGISTER_PURE_LOSS(batch_triplet_spec("BatchHardTripletLoss"), batch_hard_triplet_loss);

}  // namespace negatron::losses
