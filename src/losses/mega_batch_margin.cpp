#include "losses/mega_batch_margin.h"

#include <limits>

#include "losses/pure_loss.h"
#include "losses/similarity.h"

namespace negatron::losses {
namespace {

std::unique_ptr<Loss> make_mega_batch_margin(const MegaBatchMarginOptions& options, const LossArgs&) {
  const LossSpec spec{"MegaBatchMarginLoss", 2, 2, LabelKind::kNone, "(anchor, positive) pairs | none"};
  auto loss = std::make_unique<PureLoss<MegaBatchMarginOptions>>(spec, mega_batch_margin_loss, options);
  if (!options.use_mini_batched_version) return loss;
  return std::make_unique<GradCacheLoss>(std::move(loss), options.cache, spec.name);
}

}  // namespace

at::Tensor mega_batch_margin_loss(const std::vector<at::Tensor>& columns, const at::Tensor& /*labels*/,
                                  const MegaBatchMarginOptions& options) {
  const at::Tensor& anchors = columns[0];
  const int64_t batch = anchors.size(0);
  const at::Tensor scores = cos_sim(anchors, columns[1]);
  const at::Tensor positive_scores = scores.diagonal();
  const at::Tensor self = at::eye(batch, scores.options().dtype(at::kBool));
  const at::Tensor hardest_negative =
      std::get<0>(scores.masked_fill(self, -std::numeric_limits<double>::infinity()).max(1));
  return (at::relu(options.positive_margin - positive_scores) +
          at::relu(hardest_negative - options.negative_margin))
             .sum() /
         static_cast<double>(batch);
}

NEGATRON_REGISTER_LOSS("MegaBatchMarginLoss", make_mega_batch_margin);

}  // namespace negatron::losses
