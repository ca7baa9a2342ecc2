#include "losses/contrastive.h"

#include <algorithm>
#include <cctype>

#include "losses/registry.h"

namespace negatron::losses {
namespace {

class ContrastiveLoss : public Loss {
 public:
  explicit ContrastiveLoss(ContrastiveOptions options) : options_(options) {
    spec_ = {"ContrastiveLoss", 2, 2, LabelKind::kFloat32, "(anchor, other) pairs | 1 if positive, 0 if negative"};
  }
  const LossSpec& spec() const override { return spec_; }
  at::Tensor compute(const EmbeddingBatch& batch) override {
    validate(batch);
    return contrastive_loss(batch.columns[0], batch.columns[1], batch.labels, options_);
  }

 private:
  LossSpec spec_;
  ContrastiveOptions options_;
};

std::unique_ptr<Loss> make_contrastive(const LossArgs& args) {
  ParamReader params("ContrastiveLoss", args.params);
  ContrastiveOptions options;
  options.distance_metric =
      siamese_distance_by_name(params.get<std::string>("distance_metric", "COSINE_DISTANCE"), "ContrastiveLoss");
  options.margin = params.get<double>("margin", options.margin);
  options.size_average = params.get<bool>("size_average", options.size_average);
  params.finish();
  return std::make_unique<ContrastiveLoss>(options);
}

}  // namespace

SiameseDistance siamese_distance_by_name(const std::string& name, const std::string& loss) {
  std::string bare = name;
  const std::string prefix = "SiameseDistanceMetric.";
  if (bare.rfind(prefix, 0) == 0) bare = bare.substr(prefix.size());
  std::transform(bare.begin(), bare.end(), bare.begin(), [](unsigned char c) { return std::toupper(c); });
  if (bare == "EUCLIDEAN") return SiameseDistance::kEuclidean;
  if (bare == "MANHATTAN") return SiameseDistance::kManhattan;
  if (bare == "COSINE_DISTANCE") return SiameseDistance::kCosineDistance;
  NEG_FAIL(loss, ": parameter 'distance_metric' is '", name, "' (valid: COSINE_DISTANCE, EUCLIDEAN, MANHATTAN)");
}

at::Tensor siamese_distance(const at::Tensor& a, const at::Tensor& b, SiameseDistance metric) {
  switch (metric) {
    case SiameseDistance::kEuclidean: return at::pairwise_distance(a, b, 2.0, 1e-6, false);
    case SiameseDistance::kManhattan: return at::pairwise_distance(a, b, 1.0, 1e-6, false);
    case SiameseDistance::kCosineDistance: return 1 - at::cosine_similarity(a, b, 1, 1e-8);
  }
  NEG_FAIL("unknown SiameseDistance");
}

at::Tensor contrastive_loss(const at::Tensor& a, const at::Tensor& b, const at::Tensor& labels,
                            const ContrastiveOptions& options) {
  const at::Tensor distances = siamese_distance(a, b, options.distance_metric);
  const at::Tensor y = labels.to(at::kFloat);  // ST: labels.float()
  const at::Tensor losses =
      0.5 * (y * distances.pow(2) + (1 - labels).to(at::kFloat) * at::relu(options.margin - distances).pow(2));
  return options.size_average ? losses.mean() : losses.sum();
}

NEGATRON_REGISTER_LOSS("ContrastiveLoss", make_contrastive);

}  // namespace negatron::losses
