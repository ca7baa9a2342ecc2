#include "losses/batch_semi_hard_triplet.h"

#include <limits>

namespace negatron::losses {
namespace {

/// Per row: max over masked-in entries, shifted by the row minimum as ST's _masked_maximum (so a row
/// with no masked-in entry yields its minimum, and gradients route identically).
at::Tensor masked_row_maximum(const at::Tensor& data, const at::Tensor& mask) {
  const at::Tensor row_min = std::get<0>(data.min(1, /*keepdim=*/true));
  return std::get<0>(((data - row_min) * mask.to(data.scalar_type())).max(1, /*keepdim=*/true)) + row_min;
}

}  // namespace

at::Tensor batch_semi_hard_triplet_loss(const at::Tensor& embeddings, const at::Tensor& labels,
                                        const BatchTripletOptions& options) {
  const int64_t batch = labels.size(0);
  const at::Tensor distances = batch_distance_matrix(embeddings, options.distance_metric);
  const at::Tensor same = labels.unsqueeze(0) == labels.unsqueeze(1);
  const at::Tensor negative = same.logical_not();

  // Negatives of each anchor in ascending distance (stable: equal distances keep column order);
  // everything else is +inf and sorts last.
  const at::Tensor plain = distances.detach();
  const at::Tensor negative_distances = plain.masked_fill(same, std::numeric_limits<double>::infinity());
  const auto [sorted, order] = negative_distances.sort(/*stable=*/true, /*dim=*/1, /*descending=*/false);
  // First negative strictly farther than each (anchor, candidate) distance.
  const at::Tensor position = at::searchsorted(sorted, plain.contiguous(), /*out_int32=*/false, /*right=*/true);
  const at::Tensor has_farther = position < negative.sum(1, /*keepdim=*/true);
  const at::Tensor farther_index = order.gather(1, position.clamp_max(batch - 1));
  const at::Tensor negatives_outside = distances.gather(1, farther_index);
  const at::Tensor negatives_inside = masked_row_maximum(distances, negative).expand({batch, batch});
  const at::Tensor semi_hard = at::where(has_farther, negatives_outside, negatives_inside);

  const at::Tensor loss_matrix = distances - semi_hard + options.margin;
  const at::Tensor positives =
      same.to(at::kFloat) - at::eye(batch, labels.options().dtype(at::kFloat));
  const at::Tensor zero = at::zeros({1}, embeddings.options().dtype(at::kFloat));
  return at::maximum(loss_matrix * positives, zero).sum() / positives.sum().clamp_min(1e-16);
}

NEGATRON_REGISTER_LOSS("BatchSemiHardTripletLoss",
                       batch_triplet_factory("BatchSemiHardTripletLoss", batch_semi_hard_triplet_loss, true));

}  // namespace negatron::losses
