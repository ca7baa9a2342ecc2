#include "losses/online_contrastive.h"

#include "losses/pure_loss.h"

namespace negatron::losses {

at::Tensor online_contrastive_loss(const std::vector<at::Tensor>& columns, const at::Tensor& labels,
                                   const SiameseOptions& options) {
  const at::Tensor distances =
      siamese_distance(columns[0], columns[1], siamese_distance_by_name(options.distance_metric));
  const at::Tensor negatives = distances.masked_select(labels.to(distances.device()) == 0);
  const at::Tensor positives = distances.masked_select(labels.to(distances.device()) == 1);
  // Thresholds are plain values (comparisons carry no gradient); empty sets give NaN, selecting nothing.
  const at::Tensor negative_threshold = positives.numel() > 1 ? positives.max() : negatives.mean();
  const at::Tensor positive_threshold = negatives.numel() > 1 ? negatives.min() : positives.mean();
  const at::Tensor hard_negatives = negatives.masked_select(negatives < negative_threshold);
  const at::Tensor hard_positives = positives.masked_select(positives > positive_threshold);
  return hard_positives.pow(2).sum() + at::relu(options.margin - hard_negatives).pow(2).sum();
}

NEGATRON_REGISTER_PURE_LOSS({"OnlineContrastiveLoss", 2, 2, LabelKind::kFloat32,
                             "(anchor, other) pairs | 1 if positive, 0 if negative"},
                            online_contrastive_loss);

}  // namespace negatron::losses
