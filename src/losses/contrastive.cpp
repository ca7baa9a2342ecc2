#include "losses/contrastive.h"

#include "common/check.h"
#include "losses/choice.h"
#include "losses/pure_loss.h"

namespace negatron::losses {

SiameseDistance siamese_distance_by_name(const std::string& name) {
  return choose<SiameseDistance>("distance_metric", name,
                                 {{"COSINE_DISTANCE", SiameseDistance::kCosineDistance},
                                  {"EUCLIDEAN", SiameseDistance::kEuclidean},
                                  {"MANHATTAN", SiameseDistance::kManhattan}},
                                 "SiameseDistanceMetric.");
}

at::Tensor siamese_distance(const at::Tensor& a, const at::Tensor& b, SiameseDistance metric) {
  switch (metric) {
    case SiameseDistance::kEuclidean: return at::pairwise_distance(a, b, 2.0, 1e-6, false);
    case SiameseDistance::kManhattan: return at::pairwise_distance(a, b, 1.0, 1e-6, false);
    case SiameseDistance::kCosineDistance: return 1 - at::cosine_similarity(a, b, 1, 1e-8);
  }
  NEG_FAIL("unknown SiameseDistance");
}

at::Tensor contrastive_loss(const std::vector<at::Tensor>& columns, const at::Tensor& labels,
                            const ContrastiveOptions& options) {
  const at::Tensor distances =
      siamese_distance(columns[0], columns[1], siamese_distance_by_name(options.distance_metric));
  const at::Tensor y = labels.to(at::kFloat);  // ST: labels.float()
  const at::Tensor losses =
      0.5 * (y * distances.pow(2) + (1 - labels).to(at::kFloat) * at::relu(options.margin - distances).pow(2));
  return options.size_average ? losses.mean() : losses.sum();
}

NEGATRON_REGISTER_PURE_LOSS({"ContrastiveLoss", 2, 2, LabelKind::kFloat32,
                             "(anchor, other) pairs | 1 if positive, 0 if negative"},
                            contrastive_loss);

}  // namespace negatron::losses
