#include "losses/online_contrastive.h"

#include "losses/registry.h"

namespace negatron::losses {
namespace {

class OnlineContrastiveLoss : public Loss {
 public:
  OnlineContrastiveLoss(SiameseDistance metric, double margin) : metric_(metric), margin_(margin) {
    spec_ = {"OnlineContrastiveLoss", 2, 2, LabelKind::kFloat32, "(anchor, other) pairs | 1 if positive, 0 if negative"};
  }
  const LossSpec& spec() const override { return spec_; }
  at::Tensor compute(const EmbeddingBatch& batch) override {
    validate(batch);
    return online_contrastive_loss(batch.columns[0], batch.columns[1], batch.labels, metric_, margin_);
  }

 private:
  LossSpec spec_;
  SiameseDistance metric_;
  double margin_;
};

std::unique_ptr<Loss> make_online_contrastive(const LossArgs& args) {
  ParamReader params("OnlineContrastiveLoss", args.params);
  const SiameseDistance metric = siamese_distance_by_name(
      params.get<std::string>("distance_metric", "COSINE_DISTANCE"), "OnlineContrastiveLoss");
  const double margin = params.get<double>("margin", 0.5);
  params.finish();
  return std::make_unique<OnlineContrastiveLoss>(metric, margin);
}

}  // namespace

at::Tensor online_contrastive_loss(const at::Tensor& a, const at::Tensor& b, const at::Tensor& labels,
                                   SiameseDistance metric, double margin) {
  const at::Tensor distances = siamese_distance(a, b, metric);
  const at::Tensor negatives = distances.masked_select(labels.to(distances.device()) == 0);
  const at::Tensor positives = distances.masked_select(labels.to(distances.device()) == 1);
  // Thresholds are plain values (comparisons carry no gradient); empty sets give NaN, selecting nothing.
  const at::Tensor negative_threshold = positives.numel() > 1 ? positives.max() : negatives.mean();
  const at::Tensor positive_threshold = negatives.numel() > 1 ? negatives.min() : positives.mean();
  const at::Tensor hard_negatives = negatives.masked_select(negatives < negative_threshold);
  const at::Tensor hard_positives = positives.masked_select(positives > positive_threshold);
  return hard_positives.pow(2).sum() + at::relu(margin - hard_negatives).pow(2).sum();
}

NEGATRON_REGISTER_LOSS("OnlineContrastiveLoss", make_online_contrastive);

}  // namespace negatron::losses
