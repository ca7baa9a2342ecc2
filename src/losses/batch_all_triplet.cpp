#include "losses/batch_all_triplet.h"

#include "losses/pure_loss.h"

namespace negatron::losses {

at::Tensor triplet_mask(const at::Tensor& labels) {
  const at::Tensor positive = anchor_positive_mask(labels);  // i != j, same label
  const at::Tensor negative = anchor_negative_mask(labels);  // different label, hence k != i
  const at::Tensor not_equal = at::eye(labels.size(0), labels.options().dtype(at::kBool)).logical_not();
  return positive.unsqueeze(2) & negative.unsqueeze(1) & not_equal.unsqueeze(0);
}

at::Tensor batch_all_triplet_loss(const std::vector<at::Tensor>& columns, const at::Tensor& class_labels,
                                  const BatchTripletOptions& options) {
  const at::Tensor& embeddings = columns[0];
  const at::Tensor labels = class_labels.to(embeddings.device());
  const at::Tensor distances = batch_distance_matrix(embeddings, options.distance());
  at::Tensor losses = distances.unsqueeze(2) - distances.unsqueeze(1) + options.margin;  // [a, p, n]
  losses = triplet_mask(labels).to(at::kFloat) * losses;
  losses = losses.masked_fill(losses < 0, 0);
  const at::Tensor active = (losses > 1e-16).sum().to(losses.scalar_type());  // stays on the device
  return losses.sum() / (active + 1e-16);
}

NEGATRON_REGISTER_PURE_LOSS(batch_triplet_spec("BatchAllTripletLoss"), batch_all_triplet_loss);

}  // namespace negatron::losses
