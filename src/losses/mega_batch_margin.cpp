#include "losses/mega_batch_margin.h"

#include <limits>

#include "losses/gradcache.h"
#include "losses/registry.h"
#include "losses/similarity.h"

namespace negatron::losses {
namespace {

class MegaBatchMarginLoss : public Loss {
 public:
  MegaBatchMarginLoss(double positive_margin, double negative_margin)
      : positive_margin_(positive_margin), negative_margin_(negative_margin) {
    spec_ = {"MegaBatchMarginLoss", 2, 2, LabelKind::kNone, "(anchor, positive) pairs | none"};
  }
  const LossSpec& spec() const override { return spec_; }
  at::Tensor compute(const EmbeddingBatch& batch) override {
    validate(batch);
    return mega_batch_margin_loss(batch.columns[0], batch.columns[1], positive_margin_, negative_margin_);
  }

 private:
  LossSpec spec_;
  double positive_margin_, negative_margin_;
};

std::unique_ptr<Loss> make_mega_batch_margin(const LossArgs& args) {
  ParamReader params("MegaBatchMarginLoss", args.params);
  const double positive_margin = params.get<double>("positive_margin", 0.8);
  const double negative_margin = params.get<double>("negative_margin", 0.3);
  const bool mini_batched = params.get<bool>("use_mini_batched_version", true);
  GradCacheOptions cache;
  cache.mini_batch_size = params.get<int64_t>("mini_batch_size", 50);
  const nlohmann::json tokens = params.get_json("mini_batch_num_tokens", nullptr);
  NEG_CHECK(tokens.is_null() || tokens.is_number_integer(),
            "MegaBatchMarginLoss: parameter 'mini_batch_num_tokens' must be an integer or null, got ", tokens.dump());
  cache.mini_batch_num_tokens = tokens.is_null() ? 0 : tokens.get<int64_t>();
  params.get<bool>("show_progress_bar", false);
  params.finish();
  auto loss = std::make_unique<MegaBatchMarginLoss>(positive_margin, negative_margin);
  if (!mini_batched) return loss;
  cache.validate();
  return std::make_unique<GradCacheLoss>(std::move(loss), cache, "MegaBatchMarginLoss");
}

}  // namespace

at::Tensor mega_batch_margin_loss(const at::Tensor& anchors, const at::Tensor& positives, double positive_margin,
                                  double negative_margin) {
  const int64_t batch = anchors.size(0);
  const at::Tensor scores = cos_sim(anchors, positives);
  const at::Tensor positive_scores = scores.diagonal();
  const at::Tensor self = at::eye(batch, scores.options().dtype(at::kBool));
  const at::Tensor hardest_negative =
      std::get<0>(scores.masked_fill(self, -std::numeric_limits<double>::infinity()).max(1));
  return (at::relu(positive_margin - positive_scores) + at::relu(hardest_negative - negative_margin)).sum() /
         static_cast<double>(batch);
}

NEGATRON_REGISTER_LOSS("MegaBatchMarginLoss", make_mega_batch_margin);

}  // namespace negatron::losses
