#include "losses/triplet.h"

#include "common/check.h"
#include "losses/choice.h"
#include "losses/pure_loss.h"
#include "losses/similarity.h"

namespace negatron::losses {
namespace {

enum class TripletDistance { kEuclidean, kCosine, kManhattan };

TripletDistance triplet_distance_by_name(const std::string& name) {
  return choose<TripletDistance>("distance_metric", name,
                                 {{"EUCLIDEAN", TripletDistance::kEuclidean},
                                  {"COSINE", TripletDistance::kCosine},
                                  {"MANHATTAN", TripletDistance::kManhattan}},
                                 "TripletDistanceMetric.");
}

at::Tensor distance(const at::Tensor& a, const at::Tensor& b, TripletDistance metric) {
  switch (metric) {
    case TripletDistance::kEuclidean: return -pairwise_euclidean_sim(a, b);
    case TripletDistance::kCosine: return 1 - pairwise_cos_sim(a, b);
    case TripletDistance::kManhattan: return -pairwise_manhattan_sim(a, b);
  }
  NEG_FAIL("unknown TripletDistance");
}

}  // namespace

void TripletOptions::validate() const { triplet_distance_by_name(distance_metric); }

at::Tensor triplet_loss(const std::vector<at::Tensor>& columns, const at::Tensor& /*labels*/,
                        const TripletOptions& options) {
  const TripletDistance metric = triplet_distance_by_name(options.distance_metric);
  const at::Tensor& anchor = columns[0];
  return at::relu(distance(anchor, columns[1], metric) - distance(anchor, columns[2], metric) +
                  options.triplet_margin)
      .mean();
}

NEGATRON_REGISTER_PURE_LOSS({"TripletLoss", 3, 3, LabelKind::kNone, "(anchor, positive, negative) triplets | none"},
                            triplet_loss);

}  // namespace negatron::losses
