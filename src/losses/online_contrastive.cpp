#include "losses/online_contrastive.h"

#include <limits>

#include "losses/pure_loss.h"

namespace negatron::losses {

at::Tensor online_contrastive_loss(const std::vector<at::Tensor>& columns, const at::Tensor& labels,
                                   const SiameseOptions& options) {
  const at::Tensor distances =
      siamese_distance(columns[0], columns[1], siamese_distance_by_name(options.distance_metric));
  // sentence-transformers selects with boolean indexing (negs = d[labels == 0], ...), whose
  // data-dependent sizes read the device; masks over all rows give the same sums without a sync.
  const at::Tensor y = labels.to(distances.device());
  const at::Tensor is_negative = y == 0, is_positive = y == 1;
  const at::Tensor negatives = is_negative.sum(), positives = is_positive.sum();
  const double inf = std::numeric_limits<double>::infinity();
  const at::Tensor d = distances.detach();  // thresholds are plain values: comparisons carry no gradient
  const auto mean_of = [&](const at::Tensor& mask, const at::Tensor& count) {
    return at::where(mask, d, 0.0).sum() / count;  // NaN for an empty set, which then selects nothing
  };
  const at::Tensor negative_threshold =
      at::where(positives > 1, at::where(is_positive, d, -inf).max(), mean_of(is_negative, negatives));
  const at::Tensor positive_threshold =
      at::where(negatives > 1, at::where(is_negative, d, inf).min(), mean_of(is_positive, positives));
  const at::Tensor hard_negatives = is_negative & (d < negative_threshold);
  const at::Tensor hard_positives = is_positive & (d > positive_threshold);
  return at::where(hard_positives, distances.pow(2), 0.0).sum() +
         at::where(hard_negatives, at::relu(options.margin - distances).pow(2), 0.0).sum();
}

NEGATRON_REGISTER_PURE_LOSS({"OnlineContrastiveLoss", 2, 2, LabelKind::kFloat32,
                             "(anchor, other) pairs | 1 if positive, 0 if negative"},
                            online_contrastive_loss);

}  // namespace negatron::losses
