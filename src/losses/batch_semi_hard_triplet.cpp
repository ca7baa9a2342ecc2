#include "losses/batch_semi_hard_triplet.h"

#include <limits>

#include "losses/pure_loss.h"

namespace negatron::losses {
namespace {

/// Per row: max over masked-in entries, shifted by the row minimum as ST's _masked_maximum (so a row
/// with no masked-in entry yields its minimum, and gradients route identically).
at::Tensor masked_row_maximum(const at::Tensor& data, const at::Tensor& mask) {
  const at::Tensor row_min = std::get<0>(data.min(1, /*keepdim=*/true));
  return std::get<0>(((data - row_min) * mask.to(data.scalar_type())).max(1, /*keepdim=*/true)) + row_min;
}

/// ST picks the semi-hard negative as argmin of (d - row max) over the candidates, so distances that
/// differ by less than the rounding of that shift tie, and the lowest column index wins. Given each
/// row's shifted candidates in ascending order (`shifted`, column ids `order`), returns at every
/// position the lowest column id among it and the following positions of equal shifted value.
at::Tensor lowest_index_among_ties(const at::Tensor& shifted, const at::Tensor& order) {
  const int64_t width = shifted.size(1);
  at::Tensor starts_run = at::ones_like(order);
  starts_run.slice(1, 1).copy_(shifted.slice(1, 1) != shifted.slice(1, 0, width - 1));
  const at::Tensor run = starts_run.cumsum(1);  // later runs have larger ids
  const at::Tensor key = run * width + order;
  const at::Tensor suffix_min = std::get<0>(key.flip({1}).cummin(1)).flip({1});
  return suffix_min - run * width;
}

}  // namespace

at::Tensor batch_semi_hard_triplet_loss(const std::vector<at::Tensor>& columns, const at::Tensor& class_labels,
                                        const BatchTripletOptions& options) {
  const at::Tensor& embeddings = columns[0];
  const at::Tensor labels = class_labels.to(embeddings.device());
  const int64_t batch = labels.size(0);
  const at::Tensor distances = batch_distance_matrix(embeddings, options.distance());
  const at::Tensor same = labels.unsqueeze(0) == labels.unsqueeze(1);
  const at::Tensor negative = same.logical_not();

  // Negatives of each anchor in ascending distance (stable: equal distances keep column order);
  // everything else is +inf and sorts last.
  const at::Tensor plain = distances.detach();
  const at::Tensor negative_distances = plain.masked_fill(same, std::numeric_limits<double>::infinity());
  const auto [sorted, order] = negative_distances.sort(/*stable=*/true, /*dim=*/1, /*descending=*/false);
  // First negative strictly farther than each (anchor, candidate) distance.
  const at::Tensor position =
      at::searchsorted(sorted, plain.contiguous(), /*out_int32=*/false, /*right=*/true).clamp_max(batch - 1);
  const at::Tensor has_farther = position < negative.sum(1, /*keepdim=*/true);
  const auto [row_max, row_argmax] = distances.max(1, /*keepdim=*/true);
  const at::Tensor shifted = sorted - row_max.detach();
  at::Tensor chosen = lowest_index_among_ties(shifted, order).gather(1, position);
  // A candidate at the row maximum ties (at 0) with ST's masked-out entries, and ST then routes the
  // gradient through the row maximum's own column.
  chosen = at::where(shifted.gather(1, position) == 0, row_argmax, chosen);
  // ST's value, (d - row max) + row max; the gradient reaches the chosen negative only.
  const at::Tensor negatives_outside = (distances - row_max).gather(1, chosen) + row_max;
  const at::Tensor negatives_inside = masked_row_maximum(distances, negative).expand({batch, batch});
  const at::Tensor semi_hard = at::where(has_farther, negatives_outside, negatives_inside);

  const at::Tensor loss_matrix = distances - semi_hard + options.margin;
  const at::Tensor positives =
      same.to(at::kFloat) - at::eye(batch, labels.options().dtype(at::kFloat));
  const at::Tensor zero = at::zeros({1}, embeddings.options().dtype(at::kFloat));
  return at::maximum(loss_matrix * positives, zero).sum() / positives.sum().clamp_min(1e-16);
}

NEGATRON_REGISTER_PURE_LOSS(batch_triplet_spec("BatchSemiHardTripletLoss"), batch_semi_hard_triplet_loss);

}  // namespace negatron::losses
